"""What does it take: the smallest value of a lever for which the chance of a goal reaches P.

The page is `haiti-sim target` with widgets: the same checks (`search.lever`, `design.Factor`,
`search.line` for a lever moved with it, `goals.Goal`), the same search and runs (`ui.target`,
on the shared runner) and the same words (`search.summary`, `search.lever_notes`,
`search.table`); it shows the command that gives the same answer on the command line. While the
search runs, a fragment redraws its progress every second, and the curve fills in round by
round.
"""

from __future__ import annotations

import json
import shlex

import streamlit as st

from sim.analysis import goals, search
from sim.analysis.goals import AT, EVER, SUSTAINED, Goal, GoalError
from sim.analysis.report import parameter_label
from sim.model import outcomes
from sim.model.outcomes import PERCENT
from sim.model.parameters import PARAMS, check_value
from sim.model.scenario import SEED_MAX, SEED_MIN, ScenarioError, check_date, check_seed, printable
from sim.running.design import DesignError, Factor
from ui import charts, controls, library, session, target
from ui.analysis import threshold_unit
from ui.runner import OverBudget

SS = st.session_state
KEEP = "session"
DEFAULT_SCENARIO = "gsf_full.yaml"
DEFAULT_LEVER = "mission_troops_target"
DEFAULT_METRIC = "capital_gang_share_area"
# The README's question: the troops for which gangs hold less than half of Port-au-Prince at the
# end of 2027 in 80% of runs. The README moves the money and the ceiling with the troops
# (--with); the page's defaults hold them where they cannot cap the troops instead (money for
# 100,000 troops after the disbursement shortfall; 5,000 a month arrive within a year), and
# "Move together with" does the README's way.
DEFAULT_SETS = {"mission_troop_ceiling": 100000.0, "funding_mission_others": 60e9,
                "mission_deploy_troops_per_month": 5000.0}
DEFAULT_RANGE = (2000.0, 40000.0)  # the README's --low and --high: 40,000 arrive in 8 months
PRECISIONS = (0.2, 0.15, 0.1, 0.05)
MODES = {AT: "on the date", SUSTAINED: "on every day of a window up to it",
         EVER: "on some day from the branch to it"}
REDRAW_S = 2.0
ALONE = ""  # "move together with" nothing: the lever alone


def metric_label(name: str) -> str:
    return f"{outcomes.get(name).label} ({name})"


# ------------------------------------------------------------------------------ settings
def on_source() -> None:
    src = session.get_source(SS["target_source"])
    SS["target_by"] = src.resolved.end
    SS["target_seed"] = src.resolved.seed


def on_lever() -> None:
    """The range searched: the README's for the troops, the lever's allowed one otherwise."""
    p = PARAMS[SS["target_lever"]]
    d = controls.display(p)
    low, high = DEFAULT_RANGE if p.name == DEFAULT_LEVER else (
        Factor.of(p.name).low, Factor.of(p.name).high)
    SS["target_low"], SS["target_high"] = d.to_display(low), d.to_display(high)


def on_metric() -> None:
    """A share's threshold starts at half; another keeps the number typed."""
    if outcomes.get(SS["target_metric"]).display == PERCENT:
        SS["target_threshold"] = 50.0


def init() -> None:
    if SS.get("target_ready"):
        return
    SS["target_ready"] = True
    labels = session.all_labels()
    SS.setdefault("target_source", DEFAULT_SCENARIO if DEFAULT_SCENARIO in labels else labels[0])
    on_source()
    SS.setdefault("target_lever", DEFAULT_LEVER)
    on_lever()
    SS.setdefault("target_with", ALONE)
    SS.setdefault("target_metric", DEFAULT_METRIC)
    SS.setdefault("target_side", "below")
    SS.setdefault("target_threshold", 50.0)
    SS.setdefault("target_mode", AT)
    SS.setdefault("target_days", 90)
    SS.setdefault("target_probability", 0.8)
    SS.setdefault("target_precision", 0.1)
    SS.setdefault("target_replicates", search.Settings.max_replicates)
    SS.setdefault("target_uncertainty", True)
    SS.setdefault("target_sets", list(DEFAULT_SETS))
    for name, value in DEFAULT_SETS.items():
        SS.setdefault(f"target_set.{name}", controls.display(PARAMS[name]).to_display(value))
    SS["target_link_notes"] = init_from_url()


def overrides() -> dict[str, float]:
    """The parameters set for the search, in the model's units."""
    out = {}
    for name in SS.get("target_sets", []):
        shown = SS.get(f"target_set.{name}")
        if shown is not None:
            value = controls.display(PARAMS[name]).to_model(shown)
            out[name] = float(round(value)) if PARAMS[name].integer else value
    return out


def followers() -> dict[str, tuple[float, float]]:
    """The lever moved with the one searched, and its values at the low and high ends, in the
    model's units (none: {})."""
    name = SS.get("target_with", ALONE)
    if name in (ALONE, SS["target_lever"]):
        return {}
    d = controls.display(PARAMS[name])
    return {name: (d.to_model(SS["target_with_low"]), d.to_model(SS["target_with_high"]))}


def ask(src: library.Source) -> target.Question:
    """The question the widgets ask, checked as `haiti-sim target` checks its options (a
    mistake raises the error whose message the page shows)."""
    p = search.lever(SS["target_lever"])
    d = controls.display(p)
    factor = Factor.of(p.name, d.to_model(SS["target_low"]), d.to_model(SS["target_high"]))
    line = search.line(p.name, factor.low, factor.high, followers())
    both = [name for name in line.followers if name in overrides()]
    if both:
        raise search.SearchError(f"{both[0]} is moved with the lever and also set (Also set): "
                                 "drop one")
    o = outcomes.get(SS["target_metric"])
    scale, _ = threshold_unit(o)
    mode = SS["target_mode"]
    goal = Goal.of(o.name, float(SS["target_threshold"]) * scale, SS["target_by"],
                   SS["target_side"] == "below",
                   int(SS["target_days"]) if mode == SUSTAINED else None, mode == EVER)
    resolved = src.resolved.with_overrides(overrides())
    goal.check(resolved.start, resolved.end, resolved.branch)
    seed = int(SS.get("target_seed", resolved.seed))
    settings = search.Settings(max_replicates=int(SS["target_replicates"]),
                               precision=float(SS["target_precision"]), integer=p.integer,
                               seed=seed)
    if settings.max_replicates < settings.first_replicates:
        raise search.SearchError(f"replicates per value: at least {settings.first_replicates} "
                                 "(the first round's)")
    return target.Question(resolved, line, goal,
                           float(SS["target_probability"]), settings, seed)


def command(label: str, q: target.Question, point: bool) -> str:
    """`haiti-sim target` with the same question (for a library file; others: its file)."""
    g = q.goal
    path = f"scenarios/{label}" if label in library.library() else "SCENARIO.yaml"
    args = ["haiti-sim", "target", path, "--lever", q.lever, "--low", f"{q.low:g}",
            "--high", f"{q.high:g}"]
    for name, at_low, at_high in q.line.follow:
        args += ["--with", f"{name}={at_low:.10g}:{at_high:.10g}"]
    args += ["--metric", g.metric,
            "--below" if g.below else "--above", f"{g.threshold:g}", "--by", g.by.isoformat()]
    if g.mode == SUSTAINED:
        args += ["--sustained-days", str(g.days)]
    elif g.mode == EVER:
        args.append("--ever")
    args += ["--probability", f"{q.probability:g}", "--precision", f"{q.settings.precision:g}",
             "--replicates", str(q.settings.max_replicates), "--seed", str(q.base_seed)]
    for name, value in overrides().items():
        args += ["--set", f"{name}={value:.10g}"]
    if point:
        args.append("--point")
    return " ".join(shlex.quote(a) for a in args)


# ------------------------------------------------------------------------------ the link
def encode(label: str, q: target.Question, point: bool) -> dict[str, str | list[str]]:
    """The link of a question: a library scenario and the command line's options, in the
    model's units (`set`: NAME=VALUE, repeated)."""
    g = q.goal
    out: dict[str, str | list[str]] = {
        "lever": q.lever, "low": f"{q.low:.10g}", "high": f"{q.high:.10g}", "metric": g.metric,
        "side": "below" if g.below else "above", "threshold": f"{g.threshold:.10g}",
        "by": g.by.isoformat(), "mode": g.mode, "probability": f"{q.probability:g}",
        "precision": f"{q.settings.precision:g}", "replicates": str(q.settings.max_replicates),
        "seed": str(q.base_seed), "set": [f"{n}={v:.10g}" for n, v in overrides().items()]
        or ["none"]}
    for name, at_low, at_high in q.line.follow:
        out["with"] = f"{name}={at_low:.10g}:{at_high:.10g}"
    if g.mode == SUSTAINED:
        out["days"] = str(g.days)
    if label in library.library():
        out["scenario"] = label
    if point:
        out["point"] = "1"
    return out


def _one_of(options):
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"must be one of {', '.join(map(str, options))}")
        return text
    return parse


def _number(low: float, high: float, kind=float):
    def parse(text: str):
        value = kind(text)
        if not low <= value <= high:
            raise ValueError(f"must lie within {low:g} to {high:g}")
        return value
    return parse


def init_from_url() -> list[str]:
    """On a tab's first visit, the settings a link carries (`encode`); a note for each value
    that cannot be used (the rest still applies)."""
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    one = {k: v[-1] for k, v in query.items() if v}
    notes: list[str] = []

    def take(name: str, parse, apply) -> None:
        if name not in one:
            return
        try:
            apply(parse(one[name]))
        except (ValueError, ScenarioError) as exc:
            message = exc.message if isinstance(exc, ScenarioError) else str(exc)
            notes.append(f"{name}={printable(one[name])}: {printable(message, 300)}; ignored")

    def put(key):
        return lambda value: SS.__setitem__(key, value)

    def lever(name):
        SS["target_lever"] = name
        on_lever()

    def level(key):
        def apply(value):
            p = PARAMS[SS["target_lever"]]
            SS[key] = controls.display(p).to_display(check_value(p.name, value))
        return apply

    def with_(text):
        name, _, ends = text.partition("=")
        at_low, _, at_high = ends.partition(":")
        _one_of(search.levers())(name)
        d = controls.display(PARAMS[name])
        values = [d.to_display(check_value(name, float(v))) for v in (at_low, at_high)]
        SS["target_with"] = SS["target_with_of"] = name
        SS["target_with_low"], SS["target_with_high"] = values

    def threshold(value):
        scale, _ = threshold_unit(outcomes.get(SS["target_metric"]))
        SS["target_threshold"] = value / scale

    def sets(rows):
        SS["target_sets"] = []
        for row in [] if rows == ["none"] else rows:
            name, _, text = row.partition("=")
            value = check_value(name, float(text)) if name in PARAMS else None
            if value is None:
                raise ValueError(f"'{name}' is not a parameter")
            SS["target_sets"].append(name)
            SS[f"target_set.{name}"] = controls.display(PARAMS[name]).to_display(value)

    take("scenario", _one_of(library.library()), lambda label: (
        SS.__setitem__("target_source", label), on_source()))
    take("lever", _one_of(search.levers()), lever)
    take("low", float, level("target_low"))
    take("high", float, level("target_high"))
    take("with", str, with_)
    take("metric", _one_of(goals.outcome_names()), put("target_metric"))
    take("side", _one_of(("below", "above")), put("target_side"))
    take("threshold", _number(-1e15, 1e15), threshold)
    def by(date):
        src = session.get_source(SS["target_source"])
        if not src.policy_start <= date <= src.resolved.end:
            raise ValueError(f"must lie within {src.policy_start} to {src.resolved.end}")
        SS["target_by"] = date

    take("by", check_date, by)
    take("mode", _one_of(MODES), put("target_mode"))
    take("days", _number(1, 3650, int), put("target_days"))
    take("probability", _number(0.05, 0.95), put("target_probability"))
    take("precision", lambda t: _one_of(PRECISIONS)(float(t)), put("target_precision"))
    take("replicates", _number(12, 1024, int), put("target_replicates"))
    take("seed", lambda t: check_seed(t, "link"), put("target_seed"))
    take("point", _one_of(("0", "1")), lambda v: SS.__setitem__("target_uncertainty", v == "0"))
    if "set" in query:
        try:
            sets(query["set"])
        except ValueError as exc:
            notes.append(f"set: {printable(str(exc), 300)}; ignored")
    known = {"scenario", "lever", "low", "high", "with", "metric", "side", "threshold", "by",
             "mode", "days", "probability", "precision", "replicates", "seed", "point", "set"}
    notes += [f"'{printable(k)}' is not a setting of this page; ignored" for k in one
              if k not in known]
    return notes


def write_url(wanted: dict) -> None:
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}:
        st.query_params.from_dict(wanted)


# ------------------------------------------------------------------------------ widgets
def sidebar(src: library.Source) -> None:
    labels = session.all_labels()
    st.selectbox("Scenario", labels, key="target_source", on_change=on_source,
                 format_func=session.describer(labels), persist_state=KEEP,
                 help="The library, your uploads and the runs of this session (run a scenario "
                      "on the Explore page to search from its settings).")
    st.subheader("The lever")
    st.selectbox("Lever", search.levers(), key="target_lever", on_change=on_lever,
                 format_func=lambda n: f"{parameter_label(n)} ({n})", persist_state=KEEP,
                 help="The policy choice whose smallest sufficient value is sought.")
    p = PARAMS[SS["target_lever"]]
    d = controls.display(p)
    low, high = d.to_display(p.low), d.to_display(p.high)
    step = int(d.step) if d.fmt == "%d" else d.step
    left, right = st.columns(2)
    left.number_input(f"From (--low, {d.unit})", low, high, key="target_low", step=step,
                      format=d.fmt, persist_state=KEEP)
    right.number_input(f"To (--high, {d.unit})", low, high, key="target_high", step=step,
                       format=d.fmt, persist_state=KEEP)
    st.selectbox("Move together with (--with)", [ALONE, *(n for n in search.levers()
                                                          if n != p.name)],
                 key="target_with", persist_state=KEEP,
                 format_func=lambda n: "nothing" if n == ALONE else
                 f"{parameter_label(n)} ({n})",
                 help="Another lever set on a straight line with this one, through its values "
                      "at the two ends: e.g. the funding that pays for the troops searched.")
    if SS["target_with"] not in (ALONE, p.name):
        w = PARAMS[SS["target_with"]]
        wd = controls.display(w)
        if SS.get("target_with_of") != w.name:  # newly chosen: its value now at both ends
            held = SS.get(f"target_set.{w.name}") if w.name in SS["target_sets"] else None
            SS["target_with_low"] = SS["target_with_high"] = (
                wd.to_display(src.lever_values[w.name]) if held is None else held)
            SS["target_with_of"] = w.name
            if held is not None:  # it follows the line now, so it is no longer held fixed
                SS["target_sets"] = [n for n in SS["target_sets"] if n != w.name]
                SS["target_with_moved"] = w.name
        if SS.get("target_with_moved") == w.name:
            st.caption(f"{parameter_label(w.name)} was taken out of Also set: it follows the "
                       "line now, from its value at From to its value at To.")
        left, right = st.columns(2)
        for column, key, end in ((left, "target_with_low", "at From"),
                                 (right, "target_with_high", "at To")):
            column.number_input(f"{end} ({wd.unit})", wd.to_display(w.low),
                                wd.to_display(w.high), key=key, format=wd.fmt,
                                step=int(wd.step) if wd.fmt == "%d" else wd.step,
                                persist_state=KEEP)
    st.multiselect("Also set (--set)", [n for n in PARAMS if n != p.name], key="target_sets",
                   format_func=lambda n: f"{parameter_label(n)} ({n})", persist_state=KEEP,
                   help="Parameters held at a value of your choosing during the search, e.g. "
                        "the troop ceiling and the money that would otherwise cap the troops.")
    for name in SS["target_sets"]:
        q = PARAMS[name]
        qd = controls.display(q)
        key = f"target_set.{name}"
        if key not in SS:
            SS[key] = qd.to_display(src.lever_values[name])
        if qd.options:
            st.selectbox(parameter_label(q.name), range(len(qd.options)), key=key,
                         format_func=lambda i, o=qd.options: o[i])
        else:
            st.number_input(f"{parameter_label(q.name)} ({qd.unit})", qd.to_display(q.low),
                            qd.to_display(q.high), key=key, format=qd.fmt,
                            step=int(qd.step) if qd.fmt == "%d" else qd.step,
                            help=controls.help_text(q, qd))

    st.subheader("The goal")
    names = goals.outcome_names()
    st.selectbox("Outcome", names, key="target_metric", format_func=metric_label,
                 on_change=on_metric, persist_state=KEEP)
    o = outcomes.get(SS["target_metric"])
    _, unit = threshold_unit(o)
    left, right = st.columns([1, 2])
    left.radio("Side", ("below", "above"), key="target_side", persist_state=KEEP,
               label_visibility="collapsed")
    right.number_input(f"Threshold ({unit})", key="target_threshold", persist_state=KEEP,
                       step=1.0 if o.display == PERCENT else None,
                       help="Strictly below (or above)." + (
                           " A flow counts from the branch date." if o.flow else ""))
    st.date_input("By", key="target_by", min_value=src.policy_start,
                  max_value=src.resolved.end, persist_state=KEEP,
                  help="The runs stop on this day: nothing later changes whether the goal is "
                       "met. At most the scenario's end.")
    st.radio("Judged", list(MODES), key="target_mode", format_func=MODES.get,
             persist_state=KEEP)
    if SS["target_mode"] == SUSTAINED:
        st.number_input("Window (days up to the date, --sustained-days)", 1, 3650,
                        key="target_days", persist_state=KEEP)

    st.subheader("How sure, how precise")
    st.number_input("Chance wanted (--probability)", 0.05, 0.95, key="target_probability",
                    step=0.05, format="%.2f", persist_state=KEEP,
                    help="The share of runs (replicates) that must meet the goal.")
    st.select_slider("Precision of the chance at the answer (--precision)", PRECISIONS,
                     key="target_precision", format_func=lambda v: f"±{v * 100:.0f} points",
                     persist_state=KEEP,
                     help="Half-width of its 90% interval. ±5 points takes about 170 "
                          "replicates near the answer at P = 0.8; ±10 a quarter of that.")
    st.number_input("Most replicates per value (--replicates)", 12, 1024,
                    key="target_replicates", step=12, persist_state=KEEP)
    st.number_input("Seed (--seed)", SEED_MIN, SEED_MAX, step=1, key="target_seed",
                    persist_state=KEEP, help="Replicate i runs with seed + i at every value.")
    st.checkbox(session.UNCERTAINTY_LABEL, key="target_uncertainty", persist_state=KEEP,
                disabled=session.posterior() is None, help=session.uncertainty_help())


def start(q: target.Question, label: str) -> None:
    owner = session.owner()
    r = session.runner()
    try:
        r.check_budget(owner, q.first_round_days())
    except OverBudget as exc:
        SS["refused"] = str(exc)
        return
    SS.pop("refused", None)
    uncertainty = SS.get("target_uncertainty", True)
    run = target.TargetRun(q, r, owner, session.posterior() if uncertainty else None)
    SS["target_run"] = run.start()
    SS["target_asked"] = (label, q, uncertainty)
    SS["target_command"] = command(label, q, session.posterior() is None or not uncertainty)


def progress_panel(run: target.TargetRun) -> None:
    shown = (run.status, run.rounds, run.runs())

    @st.fragment(run_every=1.0 if run.running else None)
    @session.guarded
    def panel():
        if (run.status, run.rounds) != shown[:2] or (
                run.running and run.runs() != shown[2] and run.elapsed() > REDRAW_S):
            st.rerun(scope="app")
        job = run.job
        if run.running:
            doing = (f"round {run.rounds + 1}: {job.runs_done} of {job.runs_total} runs"
                     if job is not None else f"round {run.rounds + 1}")
            st.progress(job.progress() if job is not None else 0.0,
                        text=f"Searching ({doing}); {run.runs()} runs in all, "
                             f"{run.elapsed():.0f} s")
        else:
            what = {target.DONE: "", target.STOPPED: " (stopped)",
                    target.FAILED: " (failed)"}[run.status]
            most = max((pt.n for pt in run.points()), default=0)
            st.caption(f"{run.runs()} runs{what} {run.timing()}, {run.rounds} "
                       f"round{'s' if run.rounds != 1 else ''}, at most {most} replicates per "
                       f"value; {session.draws_caption(run.ensemble, most, 'intervals')}.")

    panel()


def show(run: target.TargetRun) -> None:
    q = run.question
    p = PARAMS[q.lever]
    d = controls.display(p)
    if run.status == target.FAILED:
        session.show_error(run.error)
    result = run.result
    points = run.points()
    if result is not None:
        lines, answer = search.summary(result, p, q.goal, q.settings.precision, q.line)
        sentence = answer.removeprefix("answer: ")
        (st.success if result.status == search.FOUND else st.warning)(sentence)
        for line in lines:
            (st.caption if not line.startswith("note:") else st.warning)(line)
        curve, answer_at, interval = result.curve, result.answer, result.interval
    else:
        est = run.estimate
        curve = est.curve if est is not None else None
        answer_at = curve.answer if curve is not None else None
        interval = est.interval if est is not None else None
        if run.status == target.STOPPED:
            st.info("Stopped: below, what the runs so far say (no answer).")
        elif curve is not None and curve.answer is not None:
            st.caption(f"After round {run.rounds}: about "
                       f"{search.show_level(curve.answer, p.integer)} so far.")
    if points:
        fig = charts.target_curve(points, curve, q.probability, answer_at, interval,
                                  f"{parameter_label(p.name)} ({d.unit})", d.scale)
        st.plotly_chart(fig, theme=None, config=charts.PLOT_CONFIG, key="target_chart")
        st.caption("Dots: the share of runs meeting the goal at each value run (larger: more "
                   "runs), with its 90% Wilson interval. Line: the search's monotone fit. "
                   "Dashed: the chance wanted. Shaded: the answer's 90% interval (a bootstrap "
                   "over replicates).")
    if result is not None:
        table = search.table(result, q.lever, p.integer, q.line)
        st.markdown(f"**{table.title}**")
        st.dataframe([dict(zip(table.headers, row, strict=True)) for row in table.rows],
                      hide_index=True)
        few = [pt for pt in result.points if pt.n < 20]
        if few:
            st.caption(f"{len(few)} of the values run have fewer than 20 replicates: their "
                       "intervals are wide, and only the fit through their neighbours places "
                       "the answer.")
        data = {"command": "target (app)", "lever": {"name": q.lever, "unit": p.unit,
                                                     "low": q.low, "high": q.high},
                "goal": q.goal.to_dict(), "overrides": overrides(), "base_seed": q.base_seed,
                "precision": q.settings.precision, **search.to_dict(result, q.line)}
        st.download_button("Result (JSON, as target.json)", json.dumps(data, indent=1,
                                                                        default=str),
                           file_name=f"target_{q.lever}.json", mime="application/json",
                           on_click="ignore", key="target_json")
    if SS.get("target_command"):
        st.caption("The same search on the command line:")
        st.code(SS["target_command"], language="sh", wrap_lines=True)


# ------------------------------------------------------------------------------ page
def page() -> None:
    init()
    if SS["target_source"] not in session.all_labels():
        SS["target_source"] = DEFAULT_SCENARIO
        on_source()
    src = session.get_source(SS["target_source"])
    run: target.TargetRun | None = SS.get("target_run")
    running = run is not None and run.running
    with st.sidebar:
        top = st.container()  # the buttons, drawn once the settings are checked
        sidebar(src)
    try:
        question, error = ask(src), None
    except (search.SearchError, DesignError, GoalError, ScenarioError) as exc:
        question, error = None, str(exc)
    with top:
        if running and st.button("Stop", key="target_stop", use_container_width=True):
            run.stop()
            st.rerun()
        if st.button("Find the answer", type="primary", key="target_go",
                     disabled=running or question is None, use_container_width=True):
            start(question, SS["target_source"])
            st.rerun()

    st.title("What does it take")
    st.caption("The smallest value of a lever for which the chance of a goal reaches the chance "
               "wanted: runs at a few values, then more runs where the curve crosses it, until "
               "the chance there is known as precisely as asked. Replicate i runs with seed + i "
               "at every value (common random numbers), under posterior draw i with parameter "
               "uncertainty. Explorations under stated assumptions, not forecasts.")
    for note in SS.get("target_link_notes", []):
        st.warning(f"From the link: {note}")
    if error:
        session.show_error(error)
    else:
        for note in search.lever_notes(question.scenario, question.line):
            st.warning(note)
        write_url(encode(SS["target_source"], question, not SS.get("target_uncertainty", True)))
    session.show_refusal()
    if run is None:
        st.info("Set the lever, the goal and the chance wanted on the left, then press **Find "
                "the answer**. On the defaults (the README's question, with the money and the "
                "ceiling held out of the way) it takes about a minute.")
        return
    if SS.get("target_asked") != (SS["target_source"], question,
                                  SS.get("target_uncertainty", True)):
        st.info("The settings changed since this search: press **Find the answer** to search "
                "again. Below: the last search.")
    progress_panel(run)
    show(run)


page()
