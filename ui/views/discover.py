"""Where a policy fails: scenario discovery, `haiti-sim discover` in the app.

It shows the shipped discovery of a main scenario (`sim.analysis.shipped`, made by
`scripts/ship_analyses.py`): the box of parameter values where the runs that fail the goal
concentrate, in words, PRIM's trade-off between coverage and density, and the box's limits with
their quasi-p-values; and it can recompute one on the app's runner (`ui.analyses`) with the
command line's design, goal and PRIM (`sim.analysis.discover`).
"""

from __future__ import annotations

import streamlit as st

from sim.analysis import discover, goals, shipped
from sim.analysis.goals import Goal
from sim.analysis.report import parameter_label
from sim.model import outcomes
from sim.model.outcomes import PERCENT
from sim.model.parameters import PARAMS
from sim.model.scenario import SEED_MAX, SEED_MIN
from sim.running import design
from sim.running.design import Factor
from ui import analyses, analysis_view, charts, library
from ui.analysis import threshold_unit

SS = st.session_state
PREFIX = "disc"
SHIPPED = "discover-gsf_full"


def _limit(row: dict, which: str) -> str:
    value = row[which]
    return "" if value is None else discover.show_value(row["parameter"], value)


def _qp(value) -> str:
    return "" if value is None else f"{value:.2g}"


def draw(summary: list[str], steps: list[dict], boxes: list[dict], key: str) -> None:
    """The box in words (`discover.summary`), the trade-off (`discover.trajectory_records`) and
    the limits of PRIM's box (`discover.box_records`)."""
    kept = {r["parameter"] for r in boxes if r["box"] == "significant"}
    for line in summary:
        if line.startswith("the policy"):
            st.success(line[0].upper() + line[1:])
            if kept:  # the sentence names parameters as the command line does: say their units
                st.caption("In " + "; ".join(
                    f"{parameter_label(name)} (`{name}`): {PARAMS[name].unit}"
                    for name in sorted(kept)) + ".")
        elif line.startswith("note:") or line.startswith("no restriction"):
            st.warning(line)
        else:
            st.caption(line)
    st.plotly_chart(charts.discovery_tradeoff(steps), theme=None, config=charts.PLOT_CONFIG,
                    key=f"{key}_chart")
    st.caption("Each step of PRIM peels off (or pastes back) a slice of the runs: coverage is "
               "the share of all failures inside the box, density the share of its runs that "
               "fail. The ringed step is the box of most coverage at the density asked.")
    rows = [{"parameter": r["parameter"],
             "label": parameter_label(r["parameter"]),
             "unit": PARAMS[r["parameter"]].unit,
             "above": _limit(r, "low"), "below": _limit(r, "high"),
             "range run": f"{discover.show_value(r['parameter'], r['range_low'])} to "
                          f"{discover.show_value(r['parameter'], r['range_high'])}",
             "quasi-p low": _qp(r["qp_low"]), "quasi-p high": _qp(r["qp_high"]),
             "significant": "yes" if r["significant"] else "no",
             "kept": "yes" if r["parameter"] in kept else "no"}
            for r in boxes if r["box"] == "prim"]
    if rows:
        st.markdown("**The limits of PRIM's box**")
        st.dataframe(rows, hide_index=True, key=f"{key}_table")
        st.caption("kept: in the box once the limits that are not significant (quasi-p-value "
                   "0.05 or more, Bryant and Lempert 2010) are freed one at a time.")


# ------------------------------------------------------------------------------ recompute
def init() -> None:
    if SS.get("disc_ready"):
        return
    SS["disc_ready"] = True
    src = library.load_library("gsf_full.yaml").resolved
    SS.setdefault("disc_scenario", "gsf_full.yaml")
    SS.setdefault("disc_metric", "capital_gang_share_area")
    SS.setdefault("disc_side", "below")
    SS.setdefault("disc_threshold", 50.0)
    SS.setdefault("disc_by", src.end)
    SS.setdefault("disc_samples", 100)
    SS.setdefault("disc_seed", src.seed)
    varied = (shipped.load(SHIPPED).meta.get("varied", [])
              if SHIPPED in shipped.names() else [])
    SS.setdefault("disc_vary", [n for n in varied if n in PARAMS])


def request() -> analyses.Request:
    o = outcomes.get(SS["disc_metric"])
    scale, _ = threshold_unit(o)
    goal = Goal.of(o.name, float(SS["disc_threshold"]) * scale, SS["disc_by"],
                   SS["disc_side"] == "below")
    factors = ([Factor.of(n) for n in SS["disc_vary"]] if SS["disc_vary"]
               else design.uncertainties())
    seed = int(SS["disc_seed"])
    d = design.latin_hypercube(factors, int(SS["disc_samples"]), seed)
    return analyses.Request(str(library.SCENARIOS / SS["disc_scenario"]), d, 1, seed,
                            goal.by, goal=goal)


def settings() -> None:
    st.selectbox("Scenario", library.library(), key="disc_scenario")
    names = goals.outcome_names()
    st.selectbox("Goal: outcome (--metric)", names, key="disc_metric",
                 format_func=lambda n: f"{outcomes.get(n).label} ({n})")
    o = outcomes.get(SS["disc_metric"])
    _, unit = threshold_unit(o)
    left, mid, right = st.columns(3)
    left.radio("Side", ("below", "above"), key="disc_side", horizontal=True)
    mid.number_input(f"Threshold ({unit})", key="disc_threshold",
                     step=1.0 if o.display == PERCENT else None)
    right.date_input("By (--by)", key="disc_by",
                     help="The runs stop on this day; from the policy's branch to its end.")
    left, right = st.columns(2)
    left.number_input("Samples (--samples)", 10, 2000, key="disc_samples",
                      help="Points of the Latin hypercube, one run each (the shipped: 300).")
    right.number_input("Seed (--seed)", SEED_MIN, SEED_MAX, key="disc_seed")
    st.multiselect("Parameters (--vary; empty: every uncertainty)",
                   [f.name for f in design.uncertainties()], key="disc_vary",
                   format_func=lambda n: f"{parameter_label(n)} ({n})")


def page() -> None:
    init()
    st.title("Where a policy fails")
    st.caption("Scenario discovery (`haiti-sim discover`): many runs over the parameters' "
               "plausible ranges, each judged against a goal, and PRIM's box of parameter "
               "values where the runs that fail it concentrate. Under the model's assumptions, "
               "not a forecast.")
    analysis_view.page(
        PREFIX, shipped.DISCOVER, "discovery", settings, request,
        lambda result: draw(result.meta["summary"], result.tables["discover.csv"],
                            result.tables["boxes.csv"], "disc_s"),
        lambda run: draw(discover.summary(run.result), discover.trajectory_records(run.result),
                         discover.box_records(run.result), "disc_r"))

page()
