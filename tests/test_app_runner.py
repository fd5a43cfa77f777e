"""The app's runner with real workers: Stop ends a running replicate within a simulated month
(recorded as stopped, nothing cached, the workers free for the next job), and each session has a
compute budget."""

from __future__ import annotations

import os
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

LONG = """name: Long test policy
base: history.yaml
branch: 2023-03-01
end: 2040-12-31
seed: 3
"""
SHORT = LONG.replace("2040-12-31", "2023-04-30").replace("Long", "Short")


def scenario(text: str, **parameters):
    lines = "".join(f"  {k}: {v}\n" for k, v in parameters.items())
    return scenario_file.from_text(text + ("parameters:\n" + lines if lines else ""), "s.yaml",
                                   library.SCENARIOS)


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
