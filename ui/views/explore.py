"""Explore one scenario: pick or upload it, move its levers, add events, run, and read the results.

Nothing runs until the user presses Run: the levers only change the settings (and the link). A run
is a job of the shared runner (`ui.runner`); while it runs, a small fragment redraws the progress
bar twice a second and asks for a full redraw whenever a replicate has finished, so the results
fill in as replicates finish without resending the map every half second.
"""

from __future__ import annotations

import datetime as dt
import time

import streamlit as st

from sim.analysis import compare, goals
from sim.model import outcomes
from sim.model.scenario import SEED_MAX, SEED_MIN, ScenarioError
from sim.running import engine
from ui import analysis, charts, controls, library, maps, session, state
from ui.library import Settings, slug
from ui.session import Run
from ui.state import MAX_REPLICATES, NO_REFERENCE, View

SS = st.session_state
KEEP = "session"  # widgets keep their value across pages (Streamlit drops them otherwise)
REDRAW_S = 2.5  # while a job runs, the results are redrawn at most this often
HEADLINE_PX = 340  # width of a headline number's box
SERIES = tuple(map(outcomes.get, (
    "capital_gang_share_area", "gang_controlled_share_national", "capital_gang_share_population",
    "gang_controlled_population", "displaced", "killed", "kidnappings", "troops",
    "police_officers", "gang_members", "gang_firearms")))
ROADS_AND_MONEY = tuple(map(outcomes.get, ("roads_cut", "spent_mission_usd",
                                           "spent_police_usd")))
# how st.metric colours a difference, by the outcome's good direction
DELTA_COLOUR = {outcomes.LOWER: "inverse", outcomes.HIGHER: "normal", outcomes.NEUTRAL: "off"}


# ------------------------------------------------------------------------------ settings
def apply_source(label: str, settings: Settings | None = None, replicates: int | None = None,
                 reference: str | None = None) -> None:
    """Select a source and put every widget at its values (plus `settings`)."""
    settings = settings or Settings()
    src = session.get_source(label)
    SS["source"] = label
    controls.set_levers(src, settings.parameters)
    SS["events"] = settings.events
    SS["end"] = settings.end or src.resolved.end
    SS["seed"] = src.resolved.seed if settings.seed is None else settings.seed
    SS["save_name"] = settings.name or ""
    SS["save_description"] = settings.description or ""
    if replicates is not None:
        SS["replicates"] = replicates
    labels = [NO_REFERENCE, *session.all_labels()]
    SS["reference"] = reference if reference in labels else session.default_reference(src)


def init_from_url() -> None:
    """On a tab's first visit, take the settings from the link."""
    if SS.get("explore_ready"):
        return
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    view, notes = state.decode(query)
    label = view.scenario
    if label == "upload":
        try:
            src = library.from_upload(view.upload_name, view.upload_text.encode())
            session.add_source(src)
            label = src.label
        except ScenarioError as exc:
            notes.append(str(exc))
            label = state.DEFAULT_SCENARIO
    if label not in session.all_labels():
        if "scenario" in query:
            notes.append(f"'{label}' is not a scenario of the library; showing the status quo")
        label = state.DEFAULT_SCENARIO if state.DEFAULT_SCENARIO in library.library() else (
            library.library()[0])
    apply_source(label, view.settings, view.replicates, view.reference)
    SS["uncertainty"] = not view.point
    SS["url_notes"] = notes
    SS["explore_ready"] = True


def on_source_change() -> None:
    apply_source(SS["source"])


def on_upload() -> None:
    src = session.take_upload("uploader", "upload_error")
    if src is not None:
        apply_source(src.label)


def reset() -> None:
    apply_source(SS["source"], replicates=SS.get("replicates"))


def current_settings(src) -> Settings:
    end = SS.get("end") or src.resolved.end
    seed = SS.get("seed")
    return Settings(parameters=controls.read_levers(src), events=SS.get("events"),
                    end=None if end == src.resolved.end else end,
                    seed=None if seed is None or seed == src.resolved.seed else int(seed),
                    name=(SS.get("save_name") or "").strip() or None,
                    description=(SS.get("save_description") or "").strip() or None)


def horizon_options(src, chosen: dt.date) -> list[dt.date]:
    """Year-long steps from when the levers apply, the file's own end and the chosen one."""
    base = src.policy_start
    ends = {src.resolved.end, chosen}
    for years in range(1, 11):
        try:
            ends.add(base.replace(year=base.year + years) - dt.timedelta(days=1))
        except ValueError:
            ends.add(base.replace(year=base.year + years, day=28))
    return sorted(d for d in ends if d > src.resolved.start
                  and (src.resolved.branch is None or d >= src.resolved.branch))


def write_url(view: View) -> None:
    wanted = state.encode(view)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    normal = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normal:
        st.query_params.from_dict(wanted)


# ------------------------------------------------------------------------------ run
def asked(scenario) -> tuple:
    """What a run depends on: the scenario's content (not its name), replicates, reference and
    whether it runs under the posterior's draws."""
    return (engine.run_key(scenario, scenario.seed), SS.get("replicates"), SS.get("reference"),
            SS.get("uncertainty", True))


def start_run(text: str, scenario) -> None:
    reference = SS.get("reference", NO_REFERENCE)
    ref = session.reference_scenario(reference, scenario.end)
    seeds = [scenario.seed + i for i in range(int(SS["replicates"]))]
    items = [("current", scenario)] + ([("reference", ref)] if ref is not None else [])
    job = session.submit(items, seeds, SS.get("uncertainty", True))
    if job is None:
        return
    names = {"current": slug(scenario.name)}
    if ref is not None:
        names["reference"] = slug(reference.removesuffix(".yaml"))
        if names["reference"] == names["current"]:
            names["reference"] += "_reference"
    run_label = session.next_run_label(scenario.name)
    session.add_source(session.settings_source(text, run_label))
    SS["explore_run"] = Run(job, names, text, "reference" if ref is not None else None,
                            asked(scenario))
    if ref is None and reference != NO_REFERENCE:
        SS["run_note"] = (f"The reference {reference} ends before this scenario's history "
                          f"branches; it is left out.")
    else:
        SS.pop("run_note", None)


def progress_panel(run: Run) -> None:
    """The progress bar, redrawn every second by a fragment; the rest of the page is redrawn
    when replicates have finished (at most every few seconds, and at the end), which keeps the
    server's share of a small machine's CPU for the workers."""
    job = run.job
    run.shown_runs = job.runs_done
    run.shown_at = time.monotonic()
    shown_running = job.running

    @st.fragment(run_every=1.0 if job.running else None)
    @session.guarded
    def panel():
        more = job.runs_done != run.shown_runs and time.monotonic() - run.shown_at > REDRAW_S
        if more or job.running != shown_running:
            st.rerun(scope="app")
        if job.running:
            st.progress(job.progress(), text=f"Running: {job.runs_done} of {job.runs_total} runs "
                                             f"done, {job.elapsed():.0f} s")
        else:
            stopped = " (stopped)" if job.stopped else ""
            st.caption(f"{job.runs_done} of {job.runs_total} runs{stopped} {job.timing()}; "
                       f"seeds {job.seeds[0]} to {job.seeds[-1]}; "
                       f"{session.parameters_caption(job)}.")
        for error in job.errors[:3]:
            session.show_error(f"A run failed inside the model (a bug; please report it): {error}")

    panel()


# ------------------------------------------------------------------------------ results
def show_results(run: Run) -> None:
    job = run.job
    cur = analysis.runs_of(job, "current")
    if cur is None:
        st.info("The first replicates are running; results appear as each one finishes.")
        return
    ref = analysis.runs_of(job, "reference") if run.reference else None
    both = [cur] + ([ref] if ref is not None else [])
    origin = compare.origin(both)
    against = (f" Differences (arrows) are against **{session.plain(ref.name)}**, paired by "
               f"seed." if ref else "")
    st.markdown(f"**{session.plain(cur.name)}**: median over {len(cur.replicates)} replicates at "
                f"{cur.end}; totals since {origin}.{against}")
    if note := compare.precision_note(both):
        st.caption(note)
    # Boxes of a fixed width that wrap: three to a row on a wide screen, fewer on a narrow
    # one, so a label, value or interval is not cut (three columns cut them at 820 px).
    row = st.container(horizontal=True, wrap=True)
    for h in analysis.headline(cur, ref, origin):
        box = row.container(border=True, width=HEADLINE_PX, gap=None)
        box.metric(h.label, h.value, h.delta, help=h.help,
                   delta_color=DELTA_COLOUR[h.better] if h.clear else "off")
        if h.interval:
            box.caption(h.interval)

    # Only the open tab is drawn (on_change="rerun"): while replicates finish, the page redraws
    # one view, not all five.
    tab_map, tab_series, tab_chances, tab_dept, tab_roads, tab_files = st.tabs(
        ["Map", "Time series", "Chances", "Departments", "Roads and money", "Downloads"],
        key="results_tab", on_change="rerun")
    with tab_map:
        if tab_map.open:
            _map(run, cur, ref)
    with tab_series:
        if tab_series.open:
            chosen = st.multiselect("Outcomes", [o.label for o in SERIES], key="series",
                                    default=[o.label for o in SERIES[:6]])
            diff = ref is not None and st.toggle(f"Show the paired difference to {ref.name}",
                                                 key="series_diff")
            outcomes = [o for o in SERIES if o.label in chosen]
            _grid_of_charts(run, cur, ref, outcomes, origin, diff)
    with tab_chances:
        if tab_chances.open:
            _chances(run, both, origin)
    with tab_dept:
        if tab_dept.open:
            st.caption("Share of each department's residents under gang control: median [90% "
                       "interval] over replicates.")
            st.dataframe(run.cached("departments", lambda: analysis.department_rows(
                cur, ref, origin)), hide_index=True)
    with tab_roads:
        if tab_roads.open:
            _grid_of_charts(run, cur, ref, ROADS_AND_MONEY, origin, False)
            _troop_limits(run, cur)
            st.dataframe(run.cached("roads", lambda: analysis.road_rows(cur, ref)),
                         hide_index=True)
    with tab_files:
        if tab_files.open:
            _downloads(run)


def _map(run: Run, cur, ref) -> None:
    job = run.job
    which = "current"
    if ref is not None:
        which = st.radio("Map of", ["current", "reference"], horizontal=True, key="map_of",
                         format_func=lambda w: cur.name if w == "current" else ref.name)
    name = cur.name if which == "current" else ref.name
    st.markdown(f"**Who controls Haiti: {session.plain(name)}**" + (
        " (first replicates; redrawn when the run ends)" if job.running else
        f" (median of {len(cur.replicates)} replicates)"))
    # While the job runs the map is drawn once, from the first replicates, then again at
    # the end: redrawing ~140 animated areas for every replicate would slow the browser
    # and take the workers' CPU on a small machine.
    version = "running" if job.running else job.runs_done
    fig = run.cached(f"map.{which}", lambda: maps.control_map(
        analysis.map_frames(job, which)), version)
    st.plotly_chart(fig, theme=None, config=charts.PLOT_CONFIG, key="map")
    st.caption("Press ▶ Play or drag the date. Drag to pan, scroll to zoom; 'Zoom to "
               "Port-au-Prince' frames the capital. Grey: no one under gang control. Places: "
               "star the airport, square the port, diamond downtown (Palais National), cross a "
               "border crossing, dot a town (hover for names). "
               f"{maps.ATTRIBUTION}, COD-AB Haiti (via HDX), simplified; population IHSI / "
               "UNFPA.")


CHANCE_MODES = {goals.AT: "on the date", goals.SUSTAINED: "on every day of a window up to it",
                goals.EVER: "on some day from the branch to it"}


def _chances(run: Run, runs: list, origin: dt.date) -> None:
    """The chance of a goal of the user's (an outcome below or above a threshold, at a date,
    sustained or ever), with its 90% Wilson interval, per scenario run."""
    end = runs[0].end
    SS.setdefault("chance_metric", "capital_gang_share_area")
    SS.setdefault("chance_threshold", 50.0)
    if "chance_by" not in SS or not origin <= SS["chance_by"] <= end:
        SS["chance_by"] = end  # the runs' last day, not the widget's default of today
    names = goals.outcome_names()
    left, middle, right = st.columns([3, 1, 1])
    left.selectbox("Outcome", names, key="chance_metric",
                   format_func=lambda n: f"{outcomes.get(n).label} ({n})")
    o = outcomes.get(SS["chance_metric"])
    scale, unit = analysis.threshold_unit(o)
    middle.radio("Side", ("below", "above"), key="chance_side", horizontal=True)
    right.number_input(f"Threshold ({unit})", key="chance_threshold",
                       help="Strictly below (or above)." + (
                           f" A flow counts from {origin}." if o.flow else ""))
    left, middle, right = st.columns([1, 2, 1])
    left.date_input("By", key="chance_by", min_value=origin, max_value=end)
    middle.radio("Judged", list(CHANCE_MODES), key="chance_mode", format_func=CHANCE_MODES.get,
                 horizontal=True)
    sustained = SS.get("chance_mode") == goals.SUSTAINED
    right.number_input("Window (days)", 1, 3650, 90, key="chance_days", disabled=not sustained)
    try:
        goal = goals.Goal.of(o.name, float(SS["chance_threshold"]) * scale, SS["chance_by"],
                             SS.get("chance_side", "below") == "below",
                             int(SS["chance_days"]) if sustained else None,
                             SS.get("chance_mode") == goals.EVER)
        goal.check(runs[0].dates[0].astype(dt.date), end, None)
    except goals.GoalError as exc:
        session.show_error(str(exc))
        return
    st.markdown(f"**Chance that {session.plain(goal.describe())}**")
    st.dataframe(run.cached(f"chance.{goal}", lambda: analysis.chance_rows(runs, goal, origin)),
                 hide_index=True)
    st.caption("The share of replicates meeting the goal, with its 90% Wilson interval "
               "(`sim.analysis.stats`); the same goal as `haiti-sim target` and the What does "
               "it take page judge. Precision: the interval's half-width, and the replicates "
               "that would bring it to ±5 points.")


def _troop_limits(run: Run, cur) -> None:
    """Which constraint holds the mission's troops each week: a target above the ceiling, or
    beyond what the money pays, shows here rather than as a silently smaller force."""
    limits = compare.troop_limits(cur)
    if limits is None:
        return
    dates, shares = limits
    st.plotly_chart(run.cached("troop_limits", lambda: charts.troop_limits(
        dates, shares, f"What holds the troops of {cur.name}: the target, the ceiling, the "
        "money or the pace of arrival")), theme=None, config=charts.PLOT_CONFIG,
        key="chart.troop_limits")


def _grid_of_charts(run, cur, ref, outcomes, origin, diff) -> None:
    cols = st.columns(2)
    for k, o in enumerate(outcomes):
        title = o.label + (f" since {origin}" if o.flow else "")
        if diff:
            paired = compare.paired_band(cur, ref, o, origin)
            if paired is None:
                cols[k % 2].caption(f"{title}: no replicate of both has finished yet.")
                continue
            fig = run.cached(f"diff.{o.name}", lambda o=o, t=title, d=paired: charts.bands(
                [("difference", d)], f"{t}: difference to {ref.name}", o.display, cur.branch,
                difference=True))
        else:
            lines = [(cur.name, compare.band(cur, o, origin))]
            if ref is not None:
                lines.append((ref.name, compare.band(ref, o, origin)))
            observed = compare.observed([cur] + ([ref] if ref else []), o)
            # a miss is flagged against the one run shown; beside a reference it would be ambiguous
            missed = None if ref else compare.missed(cur, o, origin, observed)
            fig = run.cached(f"band.{o.name}", lambda lines=lines, o=o, t=title, p=observed,
                             m=missed: charts.bands(lines, t, o.display, cur.branch, observed=p,
                                                    missed=m))
        cols[k % 2].plotly_chart(fig, theme=None, config=charts.PLOT_CONFIG,
                                 key=f"chart.{o.name}.{diff}")


def _downloads(run: Run) -> None:
    job, names = run.job, run.names
    labels = {label: names[label] for label in job.labels}
    st.download_button("Scenario file that was run (YAML)", run.text,
                       file_name=f"{names['current']}.yaml", mime="application/x-yaml",
                       on_click="ignore", key="dl.ran_yaml")
    st.download_button("Daily outcomes of every run (CSV)",
                       lambda: analysis.series_csv(job, labels),
                       file_name=f"{names['current']}_series.csv", mime="text/csv",
                       on_click="ignore", key="dl.series")

    def comparison():
        return analysis.comparison(job, labels, run.reference)

    st.download_button("Summary and probabilities, as `haiti-sim compare --csv` (CSV)",
                       lambda: analysis.comparison_csv(comparison()),
                       file_name=f"{names['current']}_compare.csv", mime="text/csv",
                       on_click="ignore", key="dl.compare")
    st.download_button("Report (HTML, opens offline)",
                       lambda: analysis.report_html(comparison()),
                       file_name=f"{names['current']}_report.html", mime="text/html",
                       on_click="ignore", key="dl.report")
    st.caption("The CSV and report are those of the command line's `haiti-sim compare`.")


# ------------------------------------------------------------------------------ page
def page() -> None:
    init_from_url()
    if SS["source"] not in session.all_labels():
        apply_source(state.DEFAULT_SCENARIO)
    src = session.get_source(SS["source"])
    controls.ensure_levers(src, {})
    settings = current_settings(src)
    try:
        text, scenario = library.build(src, settings)
        error = None
    except ScenarioError as exc:
        text, scenario, error = "", None, str(exc)
    SS["scenario_text"] = text  # what Save downloads and Run runs (read by the tests)
    run: Run | None = SS.get("explore_run")
    running = run is not None and run.job.running

    with st.sidebar:
        labels = session.all_labels()
        st.selectbox("Scenario", labels, key="source", on_change=on_source_change,
                     format_func=session.describer(labels), persist_state=KEEP,
                     help="The library (scenarios/), then your uploads and runs of this session.")
        st.file_uploader("…or upload a scenario file", type=["yaml", "yml"], key="uploader",
                         on_change=on_upload, max_upload_size=16,
                         help="A YAML scenario file as `haiti-sim run` takes; `base:` may name "
                              "a file of the library.")
        if SS.get("upload_error"):
            session.show_error(SS["upload_error"])
        if running:
            if st.button("Stop", key="stop", use_container_width=True):
                session.runner().stop(run.job)
                st.rerun()
        elif st.button("Run", type="primary", key="run", disabled=scenario is None,
                       use_container_width=True):
            start_run(text, scenario)
            st.rerun()
        left, right = st.columns(2)
        left.download_button("Save (YAML)", text or "", disabled=scenario is None,
                             file_name=f"{slug(settings.name or src.name)}.yaml",
                             mime="application/x-yaml", on_click="ignore", key="save",
                             help="These settings as a scenario file that `haiti-sim run` "
                                  "runs unchanged (and this app can upload).",
                             use_container_width=True)
        right.button("Reset", on_click=reset, key="reset", use_container_width=True,
                     help="Back to the file's values")
        st.text_input("Name to save under", key="save_name", persist_state=KEEP,
                      placeholder=f"{src.name} (modified)" if settings.changed() else src.name)
        st.text_area("Description to save", key="save_description", persist_state=KEEP,
                     height=80, placeholder="Empty: the file's own description, followed by "
                     "what you changed in it.")

        st.subheader("Run settings")
        ends = horizon_options(src, SS["end"])
        st.select_slider("Horizon: run until", ends, key="end", persist_state=KEEP,
                         format_func=lambda d: d.isoformat())
        st.slider("Replicates", 1, MAX_REPLICATES, key="replicates", persist_state=KEEP,
                  help="Runs with seeds seed, seed + 1, ...: the spread over them is the "
                       "model's stochastic uncertainty (90% intervals).")
        st.number_input("Seed", SEED_MIN, SEED_MAX, step=1, key="seed", persist_state=KEEP,
                        help="Replicate i runs with seed + i, as `haiti-sim batch` does, so "
                             "results here and on the command line match.")
        st.checkbox(session.UNCERTAINTY_LABEL, key="uncertainty", persist_state=KEEP,
                    disabled=session.posterior() is None, help=session.uncertainty_help())
        st.selectbox("Reference", [NO_REFERENCE, *labels], key="reference",
                     format_func=session.describer(labels, NO_REFERENCE), persist_state=KEEP,
                     help="Run with the same seeds to the same end; the headline numbers show "
                          "the paired difference to it.")
        st.subheader("Levers")
        controls.levers(src)
        rows = SS["events"] if SS["events"] is not None else list(src.own_events)
        with st.expander(f"Timed events ({len(rows)})"):
            controls.events_editor(src, rows, SS["end"])

    st.title("Explore a scenario")
    st.caption("haiti-sim simulates gangs, the Haitian police and army, an international force, "
               "their money and the population on the map of Haiti, fitted to the 2023-2024 "
               "record. Start here: pick a scenario in the sidebar, move its levers, press "
               "**Run**; **Compare scenarios** sets policies side by side, **What does it take** "
               "finds the troops or money a goal needs, and **Validation** says what the model "
               "reproduces and what it misses.")
    kind = {"library": "library file", "upload": "uploaded file", "run": "run of this session"}
    st.markdown(f"**{session.plain(src.name)}** ({kind[src.kind]} {session.plain(src.label)})")
    if src.spec.description.strip():
        st.text(src.spec.description.strip())  # a user's text, shown as text
    when = (f"The levers take effect on the branch date, {src.policy_start}; the history from "
            f"{src.resolved.start} is shared with every policy." if src.is_policy
            else f"The levers apply from the start, {src.resolved.start}.")
    st.caption(when + " Results are explorations under stated assumptions, not forecasts.")
    for note in SS.get("url_notes", []):
        session.show_error(f"From the link: {note}", warning=True)
    if error:
        session.show_error(error)
    session.show_refusal()
    # A run of this session travels in the link as its file, like an upload.
    write_url(View(
        scenario=SS["source"] if src.kind == "library" else "upload",
        upload_name=(src.label.removeprefix("upload: ") if src.kind == "upload"
                     else f"{slug(src.name)}.yaml"), upload_text=src.text,
        settings=Settings(settings.parameters, settings.events, settings.end, settings.seed),
        replicates=SS["replicates"], reference=(SS.get("reference") if SS.get("reference")
                                                != session.default_reference(src) else None),
        point=not SS.get("uncertainty", True)))

    if src.kind != "library" and not state.fits_in_link(src.text):
        st.caption("This scenario is too large to travel in the page's link: save it as a file "
                   "to share it.")
    if run is None:
        st.info("Move the levers on the left, then press **Run**. Nothing runs before that. "
                "A replicate of a policy takes a few seconds the first time (the 2023 to "
                "March 2026 history, then the policy), less once its history is cached; "
                "results appear as replicates finish.")
        return
    if scenario is None or run.asked != asked(scenario):
        st.info("The settings changed since this run: press **Run** to see their results. "
                "Below: the last run.")
    if SS.get("run_note"):
        st.caption(SS["run_note"])
    progress_panel(run)
    show_results(run)


page()
