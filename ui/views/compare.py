"""Compare several scenarios: library files, uploads and this session's runs, overlaid, with paired
differences to a reference and the tables of `haiti-sim compare` (made by `sim.analysis.compare`
itself).
"""

from __future__ import annotations

import contextlib
import datetime as dt

import streamlit as st

from sim.analysis import compare
from sim.analysis.compare import COMPARED, tables
from sim.model.parameters import PARAMS
from sim.model.scenario import SEED_MAX, SEED_MIN, ScenarioError, check_seed
from ui import analysis, charts, library, session
from ui.library import slug
from ui.session import Run
from ui.state import DEFAULT_REPLICATES, MAX_REPLICATES

SS = st.session_state
KEEP = "session"
DEFAULT = ("status_quo.yaml", "gsf_full.yaml")


def on_upload() -> None:
    src = session.take_upload("compare_uploader", "compare_upload_error")
    if src is not None:
        SS["compare_choice"] = [*SS.get("compare_choice", []), src.label]


def job_labels(chosen: list[str]) -> dict[str, str]:
    """A file-safe, unique label per chosen source (they name the columns and the files)."""
    out: dict[str, str] = {}
    for label in chosen:
        base = slug(label.removesuffix(".yaml").removeprefix("upload: ").replace(": ", "_"))
        name, n = base, 2
        while name in out.values():
            name, n = f"{base}_{n}", n + 1
        out[label] = name
    return out


FILES_END = "each file's own end"


def horizons(chosen: list[str]) -> list[str]:
    """The common ends offered: each file's own, or the end of a year after the latest branch
    (a policy's effect can take longer to show than its file runs, e.g. a donor cut)."""
    sources = [session.get_source(label).resolved for label in chosen]
    first = max([s.branch or s.start for s in sources], default=dt.date(2026, 1, 1))
    ends = [dt.date(first.year + years, 12, 31) for years in range(0, 11)]
    return [FILES_END, *[d.isoformat() for d in ends if d > first]]


def as_run(label: str):
    s = session.get_source(label).resolved
    end = SS.get("compare_end", FILES_END)
    return s if end == FILES_END else library.with_end(s, dt.date.fromisoformat(end))


def differing_parameters(chosen: list[str]) -> list[dict]:
    """The parameters whose value differs between the chosen scenarios, when their levers take
    effect (a lever at the branch, the rest at the start), one column per scenario; and whether
    their later events differ."""
    sources = [session.get_source(label) for label in chosen]
    names = job_labels(chosen)
    rows = []
    for name, p in PARAMS.items():
        values = [src.lever_values[name] for src in sources]
        if len(set(values)) > 1:
            unit = compare.money_unit(values)  # a row's money in one unit
            rows.append({"parameter": name, **{names[label]: library.format_value(p, v, unit)
                                               for label, v in zip(chosen, values, strict=True)}})
    later = [{(e.date, e.name, e.op, e.value) for e in src.resolved.events
              if e.date > src.policy_start} for src in sources]
    if any(events != later[0] for events in later):
        rows.append({"parameter": "events after the branch", **{
            names[label]: f"{len(events)} changes" for label, events in zip(chosen, later,
                                                                             strict=True)}})
    return rows


def identical(job) -> list[list[str]]:
    """Groups of the job's scenarios whose runs are the same (equal run keys: content and seeds,
    not names)."""
    groups: dict[tuple, list[str]] = {}
    for label in job.labels:
        groups.setdefault(tuple(job.keys[label]), []).append(label)
    return [labels for labels in groups.values() if len(labels) > 1]


def start(chosen: list[str], reference: str) -> None:
    names = job_labels(chosen)
    seeds = [int(SS["compare_seed"]) + i for i in range(int(SS["compare_replicates"]))]
    items = [(names[label], as_run(label)) for label in chosen]
    job = session.submit(items, seeds, SS.get("compare_uncertainty", True))
    if job is None:
        return
    SS["compare_run"] = Run(job, {names[label]: names[label] for label in chosen},
                            reference=names[reference])


def init_from_url(labels: list[str]) -> None:
    """A link carries the library scenarios compared (`compare=`, repeated), the reference,
    replicates, seed and `point=1` when parameter uncertainty is left out."""
    if SS.get("compare_ready"):
        return
    SS["compare_ready"] = True
    chosen = [label for label in st.query_params.get_all("compare") if label in labels]
    SS["compare_choice"] = chosen or [label for label in DEFAULT if label in labels]
    if st.query_params.get("reference") in SS["compare_choice"]:
        SS["compare_reference"] = st.query_params["reference"]
    text = st.query_params.get("replicates", "")
    if text.isascii() and text.isdigit() and len(text) < 10:  # anything else is ignored
        SS["compare_replicates"] = min(max(int(text), 1), MAX_REPLICATES)
    with contextlib.suppress(ScenarioError):  # a bad seed is ignored, not clamped
        SS["compare_seed"] = check_seed(st.query_params.get("seed", "-"), "link")
    SS["compare_uncertainty"] = st.query_params.get("point") != "1"


def write_url(chosen: list[str], reference: str) -> None:
    """Library scenarios travel in the link; uploads and runs of the session cannot."""
    library_files = set(library.library())
    wanted = {"compare": [label for label in chosen if label in library_files],
              "replicates": str(SS["compare_replicates"]), "seed": str(SS["compare_seed"])}
    if reference in library_files:
        wanted["reference"] = reference
    if not SS.get("compare_uncertainty", True):
        wanted["point"] = "1"
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}:
        st.query_params.from_dict(wanted)


labels = session.all_labels()
init_from_url(labels)
SS["compare_choice"] = [label for label in SS["compare_choice"] if label in labels]
SS.setdefault("compare_replicates", DEFAULT_REPLICATES)
SS.setdefault("compare_seed", 1)

st.title("Compare scenarios")
st.caption("Every scenario runs with the same seeds (replicate i of each uses seed + i) and, with "
           "parameter uncertainty, the same posterior draws (replicate i: draw i), so the "
           "paired difference to the reference shows the policy's effect, not noise.")
with st.sidebar:
    st.multiselect("Scenarios", labels, key="compare_choice", format_func=session.describer(labels),
                   max_selections=8, persist_state=KEEP,
                   help="From the library, your uploads, and the runs of this session.")
    st.file_uploader("Add a scenario file", type=["yaml", "yml"], key="compare_uploader",
                     on_change=on_upload, max_upload_size=16)
    if SS.get("compare_upload_error"):
        session.show_error(SS["compare_upload_error"])
    chosen = SS["compare_choice"]
    reference = st.selectbox("Reference", chosen or ["-"], key="compare_reference",
                             format_func=session.describer(chosen), persist_state=KEEP)
    options = horizons(chosen)
    if SS.get("compare_end") not in options:
        SS["compare_end"] = FILES_END
    st.selectbox("Horizon: run every scenario until", options, key="compare_end",
                 help="A common end for every scenario: a policy's effect can take longer to "
                      "show than its file runs (a donor cut ends before its effect shows).")
    st.slider("Replicates", 1, MAX_REPLICATES, key="compare_replicates", persist_state=KEEP)
    st.number_input("Seed", SEED_MIN, SEED_MAX, step=1, key="compare_seed", persist_state=KEEP,
                    help="Replicate i of every scenario runs with seed + i.")
    st.checkbox(session.UNCERTAINTY_LABEL, key="compare_uncertainty", persist_state=KEEP,
                disabled=session.posterior() is None, help=session.uncertainty_help())
    run: Run | None = SS.get("compare_run")
    if run is not None and run.job.running:
        if st.button("Stop", key="compare_stop", use_container_width=True):
            session.runner().stop(run.job)
            st.rerun()
    elif st.button("Run the comparison", type="primary", key="compare_go",
                   disabled=len(chosen) < 1, use_container_width=True):
        start(chosen, reference)
        st.rerun()

write_url(chosen, reference)
session.show_refusal()
if len(chosen) > 1:
    with st.expander("What differs between these scenarios", expanded=True):
        rows = differing_parameters(chosen)
        if rows:
            st.dataframe(rows, hide_index=True)
        else:
            st.caption("Nothing: the same parameters and events.")
run = SS.get("compare_run")
if run is None:
    st.info("Choose scenarios on the left and press **Run the comparison**.")
    st.stop()

job = run.job
run.shown_runs = job.runs_done
shown_running = job.running


@st.fragment(run_every=0.5 if job.running else None)
@session.guarded
def progress() -> None:
    if job.runs_done != run.shown_runs or job.running != shown_running:
        st.rerun(scope="app")
    if job.running:
        st.progress(job.progress(), text=f"{job.runs_done} of {job.runs_total} runs done, "
                                         f"{job.elapsed():.0f} s")
    else:
        st.caption(f"{job.runs_done} of {job.runs_total} runs {job.timing()}; seeds "
                   f"{job.seeds[0]} to {job.seeds[-1]}; {session.parameters_caption(job)}.")
    for error in job.errors[:3]:
        session.show_error(f"A run failed inside the model (a bug; please report it): {error}")


progress()
runs = [r for r in (analysis.runs_of(job, label) for label in job.labels) if r is not None]
if not runs:
    st.info("The first replicates are running; results appear as each one finishes.")
    st.stop()
ref = next((r for r in runs if r.label == run.reference), runs[0])
origin = compare.origin(runs)
st.markdown(f"Reference: **{ref.label}** ({session.plain(ref.name)}). Totals since {origin}. "
            "Lines: median over replicates; bands: 90% interval.")
if note := compare.precision_note(runs):
    st.caption(note)
for same in identical(job):
    st.warning(f"{' and '.join(same)} are the same runs (the same parameters, events and "
               "seeds): their lines and bands lie on each other, so only the last drawn shows.")
# one colour per scenario, whichever tab and whichever scenarios a chart leaves out
COLOUR = {label: charts.colour(i) for i, label in enumerate(job.labels)}
# legends call scenarios by name; the hover adds the label, which the tables use
NAME = compare.legend_names({label: s.name for label, s in job.scenarios.items()})
HOVER = {label: f"{s.name} ({label})" for label, s in job.scenarios.items()}

tab_levels, tab_diff, tab_tables = st.tabs(
    ["Outcomes", f"Difference to {ref.label}", "Tables and downloads"], key="compare_tab",
    on_change="rerun")  # only the open tab is drawn


def levels() -> None:
    cols = st.columns(2)
    for k, o in enumerate(COMPARED):
        fig = run.cached(f"levels.{o.name}", lambda o=o: charts.bands(
            [(NAME[r.label], compare.band(r, o, origin)) for r in runs],
            o.label + (f" since {origin}" if o.flow else ""), o.display, origin,
            colours=[COLOUR[r.label] for r in runs], observed=compare.observed(runs, o),
            hover=[HOVER[r.label] for r in runs]))
        cols[k % 2].plotly_chart(fig, theme=None, config=charts.PLOT_CONFIG, key=f"lv.{o.name}")


def differences() -> None:
    others = [r for r in runs if r is not ref]
    if not others:
        st.info("Add a second scenario to see paired differences.")
        return
    cols = st.columns(2)
    for k, o in enumerate(COMPARED):
        shown = [(r.label, band) for r in others
                 if (band := compare.paired_band(r, ref, o, origin)) is not None]
        if not shown:
            continue
        fig = run.cached(f"diff.{o.name}", lambda o=o, shown=shown: charts.bands(
            [(NAME[label], band) for label, band in shown],
            f"{o.label}: difference to {NAME[ref.label]}", o.display, origin, difference=True,
            colours=[COLOUR[label] for label, _ in shown],
            hover=[HOVER[label] for label, _ in shown]))
        cols[k % 2].plotly_chart(fig, theme=None, config=charts.PLOT_CONFIG, key=f"df.{o.name}")


def comparison_tables() -> None:
    names = {label: label for label in job.labels if job.done(label)}
    comparison = run.cached("comparison", lambda: analysis.comparison(job, names, ref.label))
    for note in comparison.notes:
        st.caption(session.plain(note))
    for table in tables(comparison):
        st.markdown(f"**{session.plain(table.title)}**")
        st.dataframe([dict(zip(table.headers, row, strict=True)) for row in table.rows],
                     hide_index=True)
        if table.note:
            st.caption(table.note)
    left, right = st.columns(2)
    left.download_button("Comparison (CSV)", lambda: analysis.comparison_csv(comparison),
                         file_name="comparison.csv", mime="text/csv", on_click="ignore",
                         key="compare_csv")
    right.download_button("Report (HTML)", lambda: analysis.report_html(comparison),
                          file_name="comparison.html", mime="text/html", on_click="ignore",
                          key="compare_html")


for tab, draw in ((tab_levels, levels), (tab_diff, differences), (tab_tables, comparison_tables)):
    with tab:
        if tab.open:
            draw()
