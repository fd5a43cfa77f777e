"""What matters: which parameters move the key outcomes most, `haiti-sim sensitivity` in the app.

It shows the shipped sensitivity of a main scenario (`sim.analysis.shipped`, made by
`scripts/ship_analyses.py`) and can recompute one on the app's runner (`ui.analyses`) with the
command line's design and indices (`sim.analysis.sensitivity`); both are drawn the same way from
the rows of `sensitivity.csv`.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from sim.analysis import compare, sensitivity, shipped
from sim.analysis.report import parameter_label
from sim.analysis.sensitivity import MORRIS, SOBOL
from sim.model import outcomes
from sim.model.outcomes import PERCENT
from sim.model.parameters import PARAMS
from sim.model.scenario import SEED_MAX, SEED_MIN
from sim.running import design
from sim.running.design import Factor
from ui import analyses, analysis_view, charts, library

SS = st.session_state
PREFIX = "sens"
TOP_SENTENCE = 3
# Recompute's default: 3 Morris trajectories over the 81 uncertainties, 246 runs to 2027, the most
# that fit a session's budget of run-days (ui.runner.SESSION_RUN_DAYS; 4 would be 328 runs).
TRAJECTORIES = 3


def parameter_words(name: str) -> str:
    p = PARAMS[name]
    return f"{parameter_label(p.name).lower()} ({name}, {p.unit})" if p.unit else \
        f"{parameter_label(p.name).lower()} ({name})"


def sentence(rows: list[dict], o: outcomes.Outcome, method: str, scenario: str) -> str:
    """The top parameters of one outcome, in words, with their labels, units and indices."""
    key = sensitivity.RANKED_BY[method]
    parts = []
    for r in rows[:TOP_SENTENCE]:
        unit = compare.money_unit([r[key], r[f"{key}_conf"]])  # "1.20 M ± 0.30 M"
        value = sensitivity.show_index(r[key], o, method, unit)
        conf = sensitivity.show_index(r[f"{key}_conf"], o, method, unit)
        parts.append(f"{parameter_words(r['parameter'])}: {key.replace('_star', '*')} "
                     f"{value} ± {conf}")
    what = "the mean change across a parameter's range" if method == MORRIS else \
        "the share of the variance a parameter takes part in"
    return (f"In {scenario}, **{o.label}** at the end moves most with "
            + "; ".join(parts) + f" ({what}, with its 90% interval).")


def draw(rows: list[dict], method: str, scenario: str, key: str) -> None:
    names = list(dict.fromkeys(r["outcome"] for r in rows))
    left, right = st.columns([3, 1])
    name = left.selectbox("Outcome", names, key=f"{key}_outcome",
                          format_func=lambda n: f"{outcomes.get(n).label} ({n})")
    top = right.number_input("Parameters shown", 3, 81, sensitivity.TOP, key=f"{key}_top")
    o = outcomes.get(name)
    ranked = sorted((r for r in rows if r["outcome"] == name), key=lambda r: r["rank"])
    st.markdown(sentence(ranked, o, method, scenario))
    if method == MORRIS:
        scale, unit = (100.0, "percentage points") if o.display == PERCENT else (1.0, o.unit)
        title = f"{o.label}: mu* (bars, 90% whiskers) and sigma (diamonds)"
    else:
        scale, unit, title = 1.0, "share of the variance", f"{o.label}: ST and S1 (90% whiskers)"
    fig = charts.sensitivity_bars(ranked[:int(top)], method, title, scale, unit)
    st.plotly_chart(fig, theme=None, config=charts.PLOT_CONFIG, key=f"{key}_chart")
    st.caption("mu*: the mean absolute change of the outcome when a parameter moves across "
               "its range (Morris); sigma: how much that change varies (non-linearity, "
               "interactions). Whiskers: 90% bootstrap intervals of mu*."
               if method == MORRIS else
               "ST: the share of the outcome's variance a parameter takes part in, interactions "
               "included; S1: the share it explains alone (Sobol). Whiskers: 90% bootstrap "
               "intervals.")


# ------------------------------------------------------------------------------ recompute
def init() -> None:
    if SS.get("sens_ready"):
        return
    SS["sens_ready"] = True
    SS.setdefault("sens_scenario", "status_quo.yaml")
    SS.setdefault("sens_method", MORRIS)
    SS.setdefault("sens_trajectories", TRAJECTORIES)
    SS.setdefault("sens_samples", 8)
    SS.setdefault("sens_vary", [])
    SS.setdefault("sens_seed", library.load_library(SS["sens_scenario"]).resolved.seed)
    SS.setdefault("sens_until", library.load_library(SS["sens_scenario"]).resolved.end)


def request() -> analyses.Request:
    path = str(library.SCENARIOS / SS["sens_scenario"])
    factors = ([Factor.of(n) for n in SS["sens_vary"]] if SS["sens_vary"]
               else design.uncertainties())
    seed = int(SS["sens_seed"])
    if SS["sens_method"] == MORRIS:
        d = design.morris(factors, int(SS["sens_trajectories"]), sensitivity.LEVELS, seed)
    else:
        d = design.saltelli(factors, int(SS["sens_samples"]), seed)
    return analyses.Request(path, d, 1, seed, SS["sens_until"])


def settings() -> None:
    st.selectbox("Scenario", library.library(), key="sens_scenario")
    st.radio("Method", (MORRIS, SOBOL), key="sens_method", horizontal=True,
             help="Morris: a screening, r x (k + 1) runs; Sobol: variance shares, N x (k + 2).")
    left, right = st.columns(2)
    if SS["sens_method"] == MORRIS:
        left.number_input("Trajectories (--trajectories)", 2, 50, key="sens_trajectories",
                          help="The shipped result uses 10; a few rank the strongest parameters.")
    else:
        left.number_input("Base samples (--samples)", 2, 1024, key="sens_samples",
                          help="A power of two; N x (k + 2) runs.")
    right.number_input("Seed (--seed)", SEED_MIN, SEED_MAX, key="sens_seed")
    st.multiselect("Parameters (--vary; empty: every uncertainty)",
                   [f.name for f in design.uncertainties()], key="sens_vary",
                   format_func=lambda n: f"{parameter_label(n)} ({n})")
    st.date_input("Runs end on (--until)", key="sens_until", min_value=dt.date(2023, 1, 1),
                  help="An earlier end is faster; not before the policy's branch.")


def page() -> None:
    init()
    st.title("What matters")
    st.caption("Which parameters move the key outcomes most over their plausible ranges: "
               "`haiti-sim sensitivity` (Morris elementary effects or Sobol indices, by SALib), "
               "in point mode (what is not varied stays at its default). A ranking of "
               "influence under the model's assumptions, not a forecast.")
    analysis_view.page(
        PREFIX, shipped.SENSITIVITY, "sensitivity", settings, request,
        lambda result: draw(result.tables["sensitivity.csv"], result.meta["method"],
                            result.meta["scenario"], "sens_s"),
        _draw_recomputed)


def _draw_recomputed(run: analyses.AnalysisRun) -> None:
    for note in run.result.notes:
        st.warning(note)
    draw(sensitivity.records(run.result), run.result.method,
         run.request.path.rsplit("/", 1)[-1], "sens_r")

page()
