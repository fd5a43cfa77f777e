"""The model against the observed record: the documentation's validation table, and the historical
scenario run here, on demand, with the observed figures drawn over its median and 90% band.

The observed figures are those of `sim.analysis.targets`, which the documentation's table is
made from.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import streamlit as st

from sim.analysis import compare, stats, targets
from sim.model import outcomes
from ui import analysis, charts, docs, library, session
from ui.session import Run

SS = st.session_state
HISTORY = "history.yaml"


def validation_section() -> str:
    text = docs.ODD.read_text(encoding="utf-8")
    return docs.section(text, "Validation against the observed record")


st.title("Validation against the observed record")
st.markdown(validation_section())
if docs.VALIDATION.exists():
    # The shipped ensemble's full validation (coverage, misses, the 2025 forecast), made by
    # scripts/update_docs.py; its figures are the same history under the posterior draws and
    # the patterns beyond the record.
    with st.expander("Coverage, patterns missed, the 2025 forecast and what policy answers "
                     "rest on (docs/VALIDATION.md)", expanded=False):
        for part in docs.with_figures(docs.VALIDATION.read_text(encoding="utf-8"),
                                      docs.VALIDATION.parent):
            if isinstance(part, str):
                st.markdown(docs.clean(part))
            elif part.exists():
                st.image(str(part))

st.subheader("Run the historical record here")
st.caption("`scenarios/history.yaml` from 2023-01-01, with the observed figures as black "
           "diamonds over the median (line) and 90% interval (band) of the runs.")
replicates = st.slider("Replicates (each under its own posterior draw)", 2, 100, 20,
                       key="validation_replicates",
                       persist_state="session")
run: Run | None = SS.get("validation_run")
if st.button("Run the historical record", type="primary", key="validation_go",
             disabled=run is not None and run.job.running):
    s = library.load_library(HISTORY).resolved
    job = session.submit([("history", s)], [s.seed + i for i in range(replicates)])
    if job is not None:
        SS["validation_run"] = run = Run(job, {"history": "history"})
session.show_refusal()

if run is not None:
    job = run.job

    @st.fragment(run_every=0.5 if job.running else None)
    @session.guarded
    def progress():
        if job.running:
            st.progress(job.progress(), text=f"{job.runs_done} of {job.runs_total} runs")
        elif run.shown_runs != job.runs_done:
            st.rerun(scope="app")

    run.shown_runs = job.runs_done if not job.running else -1
    progress()
    runs = analysis.runs_of(job, "history", "Historical record")
    if runs is not None and not job.running:
        origin = runs.dates[0].astype(dt.date)
        cols = st.columns(2)
        for k, metric in enumerate(dict.fromkeys(o.metric for o in targets.STOCKS)):
            o = outcomes.get(metric)
            observed = compare.observed([runs], o)
            fig = charts.bands([("simulated", compare.band(runs, o, origin))],
                               observed[0].label, o.display, observed=observed,
                               missed=compare.missed(runs, o, origin, observed))
            cols[k % 2].plotly_chart(fig, theme=None, config=charts.PLOT_CONFIG,
                                     key=f"validation.{metric}")
        rows = []
        for o in targets.FLOWS:
            a, b = runs.day(o.when), runs.day(o.until)
            if a is None or b is None:
                continue
            total = runs.metrics[o.metric][:, a:b + 1].sum(axis=1) if (
                o.metric in runs.metrics) else np.array([])
            rows.append({"figure": f"{o.label}, {o.period}", "observed": o.shown,
                         "simulated median [90%]": compare.show_interval(
                             stats.interval(total), outcomes.get(o.metric)),
                         "source": o.source})
        st.dataframe(rows, hide_index=True)
