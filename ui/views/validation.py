"""The model against the observed record: the documentation's validation table, and the historical
scenario run here, on demand, with the observed figures drawn over its median and 90% band.

The observed figures are those `scripts/update_docs.py` checks when it writes the table (read
from that script, so the two cannot drift; requested of sim/: a `sim.validation` module).
"""

from __future__ import annotations

import datetime as dt
import importlib.util

import numpy as np
import streamlit as st

from sim.compare import Outcome, fmt
from ui import analysis, charts, docs, library, session
from ui.library import ROOT
from ui.session import Run

SS = st.session_state
HISTORY = "history.yaml"


@st.cache_resource(show_spinner=False)
def observed():
    """(stocks, flows) of scripts/update_docs.py: what was observed, when, and where."""
    path = ROOT / "scripts" / "update_docs.py"
    spec = importlib.util.spec_from_file_location("haiti_sim_update_docs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.STOCKS, module.FLOWS


def validation_section() -> str:
    text = docs.ODD.read_text(encoding="utf-8")
    return docs.section(text, "Validation against the observed record")


st.title("Validation against the observed record")
st.markdown(validation_section())

st.subheader("Run the historical record here")
st.caption("`scenarios/history.yaml` from 2023-01-01, with the observed figures as black "
           "diamonds over the median (line) and 90% interval (band) of the runs.")
replicates = st.slider("Replicates", 2, 30, 5, key="validation_replicates",
                       persist_state="session")
run: Run | None = SS.get("validation_run")
if st.button("Run the historical record", type="primary", key="validation_go",
             disabled=run is not None and run.job.running):
    s = library.load_library(HISTORY).resolved
    job = session.runner().submit([("history", s)], [s.seed + i for i in range(replicates)])
    SS["validation_run"] = run = Run(job, {"history": "history"})

if run is not None:
    job = run.job

    @st.fragment(run_every=0.5 if job.running else None)
    def progress():
        if job.running:
            st.progress(job.progress(), text=f"{job.runs_done} of {job.runs_total} runs")
        elif run.shown_runs != job.runs_done:
            st.rerun(scope="app")

    run.shown_runs = job.runs_done if not job.running else -1
    progress()
    runs = analysis.runs_of(job, "history", "Historical record")
    if runs is not None and not job.running:
        stocks, flows = observed()
        origin = runs.dates[0].astype(dt.date)
        cols = st.columns(2)
        for k, metric in enumerate(dict.fromkeys(m for _, m, *_ in stocks)):
            points = [(when, value) for label, m, when, _, value, _ in stocks
                      if m == metric and value is not None]
            label = next(label for label, m, *_ in stocks if m == metric)
            unit = "share" if "share" in metric else "people"
            o = Outcome(metric, label, (metric,), unit)
            fig = charts.bands([("simulated", analysis.band(runs, o, origin))], label, unit)
            charts.observed(fig, [d for d, _ in points], [v for _, v in points], "observed")
            cols[k % 2].plotly_chart(fig, theme=None, config=charts.PLOT_CONFIG,
                                     key=f"validation.{metric}")
        rows = []
        for label, metric, year, shown, _, source in flows:
            a, b = runs.day(dt.date(year, 1, 1)), runs.day(dt.date(year, 12, 31))
            if a is None or b is None:
                continue
            total = runs.metrics[metric][:, a:b + 1].sum(axis=1) if metric in runs.metrics else (
                np.array([]))
            level = analysis.interval(total)
            rows.append({"figure": label, "observed": shown, "simulated median [90%]": (
                f"{fmt(level[0], 'people')} [{fmt(level[1], 'people')}, "
                f"{fmt(level[2], 'people')}]" if level else "-"), "source": source})
        st.dataframe(rows, hide_index=True)
