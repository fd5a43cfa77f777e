"""The app's runner with real workers: Stop ends a running replicate within a simulated month
(recorded as stopped, nothing cached, the workers free for the next job), each session has a
compute budget, and a dead worker costs only its own run (retried once, alone)."""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ["HAITI_SIM_APP_PREWARM"] = "0"

from sim.model import scenario as scenario_file  # noqa: E402
from ui import library, runner  # noqa: E402
from ui.runner import simulate as real_simulate  # noqa: E402

LONG = """name: Long test policy
base: history.yaml
branch: 2023-03-01
end: 2040-12-31
seed: 3
"""
SHORT = LONG.replace("2040-12-31", "2023-04-30").replace("Long", "Short")
MEDIUM = LONG.replace("2040-12-31", "2024-06-30").replace("Long", "Medium")
DOOMED_SEED = 666


@pytest.fixture(autouse=True)
def no_hang():
    """Workers are killed here: a runner that waits forever must fail the test run, with every
    thread's traceback, instead of hanging CI (each wait has its own, shorter, timeout too)."""
    faulthandler.dump_traceback_later(300, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def scenario(text: str, **parameters):
    lines = "".join(f"  {k}: {v}\n" for k, v in parameters.items())
    return scenario_file.from_text(text + ("parameters:\n" + lines if lines else ""), "s.yaml",
                                   library.SCENARIOS)


def dying_simulate(task_id, scenarios, seed, replicate, histories, reduce=None):
    """`runner.simulate`, but the worker dies (as if killed, or out of memory) on DOOMED_SEED."""
    if seed == DOOMED_SEED:
        os._exit(9)
    return real_simulate(task_id, scenarios, seed, replicate, histories, reduce)


@pytest.fixture(scope="module")
def pool():
    r = runner.Runner(workers=2)
    runner.wait(r.submit([("warm", scenario(SHORT))], [1, 2]))  # workers up, model compiled
    yield r
    runner.shutdown(r)


def test_stop_cancels_running_replicates_and_frees_the_workers(pool):
    long = scenario(LONG, police_intake_per_year=1234)
    job = pool.submit([("long", long)], [11, 12, 13, 14])
    deadline = time.monotonic() + 60
    while sum(job.days_done.values()) < 60:  # both workers are well into a replicate
        assert time.monotonic() < deadline, "the long job did not start"
        time.sleep(0.05)
    assert job.running
    asked = time.monotonic()
    pool.stop(job)
    runner.wait(job, timeout=10)
    assert time.monotonic() - asked < 5
    assert job.stopped and job.errors == [] and job.runs_done == 0
    assert all(key not in pool.cache for key in job.keys["long"])
    assert not pool.tasks and not pool.inflight
    started = time.monotonic()
    after = runner.wait(pool.submit([("next", scenario(SHORT, police_intake_per_year=999))],
                                    [1, 2]), timeout=30)
    assert after.runs_done == 2 and not after.errors and time.monotonic() - started < 30


def test_stop_does_not_cancel_a_run_another_job_waits_for(pool):
    s = scenario(SHORT, army_intake_per_year=321)
    first = pool.submit([("a", s)], [41, 42])
    second = pool.submit([("b", s)], [41, 42])  # the same runs: it waits for the first's
    pool.stop(first)
    runner.wait(first)
    runner.wait(second)
    assert second.runs_done == 2 and not second.errors


def test_a_session_over_its_budget_is_refused_with_a_message(pool):
    long = scenario(LONG, police_intake_per_year=777)
    per_replicate = long.days
    n = runner.SESSION_RUN_DAYS // per_replicate
    job = pool.submit([("long", long)], list(range(100, 100 + n)), owner="tab 1")
    try:
        with pytest.raises(runner.OverBudget, match="at most 500,000"):
            pool.submit([("long", long)], [999], owner="tab 1")
        other = pool.submit([("long", long)], [999], owner="tab 2")  # another session may
        pool.stop(other)
    finally:
        pool.stop(job)
    runner.wait(job, timeout=10)
    assert pool.session_run_days("tab 1") == 0


def test_a_killed_worker_costs_nothing_its_runs_are_retried(monkeypatch):
    r = runner.Runner(workers=2)
    try:
        job = r.submit([("medium", scenario(MEDIUM, police_intake_per_year=4321))], [1, 2, 3, 4])
        deadline = time.monotonic() + 120
        while sum(d > 0 for d in job.days_done.values()) < 2:  # both workers are in a run
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.05)
        first_queue = r.progress_queue
        os.kill(next(iter(r.pool._processes)), signal.SIGKILL)
        runner.wait(job, timeout=180)
        assert job.errors == [] and job.runs_done == 4 and len(job.replicates("medium")) == 4
        assert r.generation == 1 and not r.tasks and not r.retries and not r.inflight
        # the killed worker may have held the progress queue's lock: the new pool has its own
        assert r.progress_queue is not first_queue
    finally:
        runner.shutdown(r)


def test_a_run_that_kills_its_worker_twice_fails_alone_with_a_message(monkeypatch):
    monkeypatch.setattr(runner, "simulate", dying_simulate)
    r = runner.Runner(workers=2)
    try:
        doomed = r.submit([("doomed", scenario(SHORT, police_intake_per_year=555))],
                          [DOOMED_SEED])
        other = r.submit([("other", scenario(SHORT, police_intake_per_year=556))], [1, 2])
        runner.wait(doomed, timeout=120)
        runner.wait(other, timeout=120)
        assert doomed.runs_done == 1 and not doomed.replicates("doomed")
        [error] = doomed.errors
        assert error.startswith(f"doomed, seed {DOOMED_SEED}: WorkerDied: the worker process "
                                "died running this replicate, twice")
        assert "(reference " in error
        assert other.runs_done == 2 and not other.errors
        after = runner.wait(r.submit([("after", scenario(SHORT, police_intake_per_year=557))],
                                     [1, 2]), timeout=120)
        assert after.runs_done == 2 and not after.errors and not r.tasks
    finally:
        runner.shutdown(r)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_a_job_under_the_posterior_runs_replicate_i_under_draw_i_as_the_engine_does(pool):
    from sim.running import engine, ensemble

    draws = ensemble.load(ROOT / "tests" / "fixtures" / "posterior.csv")
    a, b = scenario(SHORT), scenario(SHORT, arms_interdiction=0.9)
    job = runner.wait(pool.submit([("a", a), ("b", b)], [5, 6], ensemble=draws))
    assert not job.errors
    outputs = engine.run([("a", a), ("b", b)], 6, replicate=1, ensemble=draws)
    for out in outputs:  # the app's replicate 1 is the engine's (and the batch's)
        assert (job.done(out.scenario)[1].values == out.values).all()
    point = runner.wait(pool.submit([("a", a)], [5, 6]))
    assert not (point.done("a")[1].values == job.done("a")[1].values).all()
    assert not set(point.keys["a"]) & set(job.keys["a"])
