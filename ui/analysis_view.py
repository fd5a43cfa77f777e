"""What the "What matters" and "Where a policy fails" pages share: where a result comes from
(shipped or recomputed, and on which model), and a recompute's buttons and progress.

A page keeps its recompute (`ui.analyses.AnalysisRun`) in the session under `<prefix>_run`;
while it runs, a fragment redraws the progress every second and reruns the page when it ends.
"""

from __future__ import annotations

import streamlit as st

from sim.analysis import shipped
from sim.model.scenario import ScenarioError
from sim.running.batch import BatchError
from sim.running.design import DesignError
from ui import analyses, session
from ui.runner import SESSION_RUN_DAYS

SS = st.session_state


def provenance(meta: dict) -> None:
    """Where a shipped result comes from, and whether it was made on the model that runs now."""
    seconds = meta.get("seconds")
    took = f" in {seconds / 60:.1f} min" if seconds else ""
    st.caption(f"Shipped result, made on {meta['created']} by `{meta['command']}`: "
               f"{meta['runs']:,} runs{took}, {meta['factors']} parameters varied, "
               f"{meta['parameters']} mode (parameters not varied at their defaults), haiti-sim "
               f"{meta['package_version']}.")
    if shipped.current(meta):
        st.caption("Made on the model that runs now (same model fingerprint).")
    else:
        st.warning("This shipped result is stale: it was made on another version of the model "
                   "(its fingerprint differs from the running model's). Recompute it below, or "
                   "refresh it with `python scripts/ship_analyses.py`.")


def recomputed_caption(run: analyses.AnalysisRun) -> None:
    st.caption(f"Recomputed in this session on the model that runs now: {run.runs_total:,} "
               f"runs of {run.request.path.rsplit('/', 1)[-1]} in {run.elapsed():.0f} s, "
               f"{len(run.plan.design.factors)} parameters varied, point mode.")


def buttons(prefix: str, make_request) -> None:
    """Recompute and Stop. `make_request()` gives the request of the widgets, or raises the
    error whose message the page shows."""
    run: analyses.AnalysisRun | None = SS.get(f"{prefix}_run")
    running = run is not None and run.running
    try:
        request = make_request()
        plan = request.plan()
        error = None
    except (DesignError, ScenarioError, BatchError, ValueError) as exc:
        request, plan, error = None, None, getattr(exc, "message", None) or str(exc)
    if error:
        session.show_error(error)
    left, right = st.columns(2)
    if left.button("Recompute", type="primary", key=f"{prefix}_go",
                   disabled=running or request is None, use_container_width=True):
        new = analyses.AnalysisRun(request, plan, session.runner(), session.owner())
        if new.run_days() > SESSION_RUN_DAYS:
            SS[f"{prefix}_refused"] = (
                f"{new.runs_total:,} runs of {plan.scenarios[0][1].days:,} days are more than a "
                f"session may ask at once ({SESSION_RUN_DAYS:,} simulated run-days): choose "
                "fewer trajectories or samples, fewer parameters, or an earlier end; or run "
                "the command line")
        else:
            SS.pop(f"{prefix}_refused", None)
            SS[f"{prefix}_run"] = new.start()
        st.rerun()
    if running and right.button("Stop", key=f"{prefix}_stop", use_container_width=True):
        run.stop()
        st.rerun()
    if SS.get(f"{prefix}_refused"):
        st.error(SS[f"{prefix}_refused"])


def progress(prefix: str) -> None:
    run: analyses.AnalysisRun | None = SS.get(f"{prefix}_run")
    if run is None:
        return

    @st.fragment(run_every=1.0 if run.running else None)
    @session.guarded
    def panel():
        if not run.running and SS.get(f"{prefix}_shown") is not run:
            SS[f"{prefix}_shown"] = run
            st.rerun(scope="app")
        job = run.job
        if run.running:
            done = job.runs_done if job is not None else 0
            st.progress(job.progress() if job is not None else 0.0,
                        text=f"Recomputing: {done:,} of {run.runs_total:,} runs, "
                             f"{run.elapsed():.0f} s")
        elif run.status == analyses.STOPPED:
            st.info(f"Stopped after {run.elapsed():.0f} s: no result (the indices and the box "
                    "need every run).")
        elif run.status == analyses.FAILED:
            session.show_error(run.error)

    panel()


def page(prefix: str, kind: str, what: str, settings, request, draw_shipped, draw_result
         ) -> None:
    """An analysis page's two tabs: the shipped results of `kind` (chosen by name, with their
    provenance, drawn by `draw_shipped(result)`), and a recompute with `settings()` and
    `request` on the runner, its progress and Stop, and its result (`draw_result(run)`)."""
    names = shipped.names(kind)
    tab_shipped, tab_new = st.tabs(["Shipped result", "Recompute"])
    with tab_shipped:
        if not names:
            st.info(f"No {what} is shipped: make one with `python scripts/ship_analyses.py`"
                    ", or recompute one here.")
        else:
            result = shipped.load(st.selectbox("Shipped analysis", names,
                                               key=f"{prefix}_shipped"))
            provenance(result.meta)
            draw_shipped(result)
    with tab_new:
        settings()
        buttons(prefix, request)
        progress(prefix)
        run: analyses.AnalysisRun | None = SS.get(f"{prefix}_run")
        if run is not None and run.status == analyses.DONE:
            recomputed_caption(run)
            draw_result(run)
