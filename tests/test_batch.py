"""Batch runs: common random numbers, shared histories, executors, faults and resume.

Scenarios here branch from the real history on 2023-03-01 and end on 2023-05-31, so each run
simulates five months; tests compare runs with each other, never with hard-coded model outputs.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.model import scenario
from sim.model.world import HaitiModel
from sim.running import batch, engine, ensemble
from sim.running.results import ResultsDir, ResultsError

HISTORY = Path(__file__).resolve().parents[1] / "scenarios" / "history.yaml"


def write_policy(directory: Path, label: str, **parameters) -> str:
    lines = [f"name: Test policy {label}", f"base: {HISTORY}", "branch: 2023-03-01",
             "end: 2023-05-31", "parameters:"]
    lines += [f"  {name}: {value}" for name, value in parameters.items()]
    path = directory / f"{label}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def policies(tmp_path) -> list[str]:
    return [write_policy(tmp_path, "calm", arms_interdiction=0.1),
            write_policy(tmp_path, "interdict", arms_interdiction=0.9, police_intake_per_year=5000)]


def series(out) -> dict[tuple[str, int], np.ndarray]:
    """Every finished run's values (days x metrics), by (scenario, replicate)."""
    results = ResultsDir(out)
    return {(r["scenario"], r["replicate"]): np.array(list(results.read_run(
        r["scenario"], r["replicate"])[1].values())) for r in results.done_runs()}


def assert_same_results(a, b) -> None:
    assert ResultsDir(a).read_series().equals(ResultsDir(b).read_series())
    for r in ResultsDir(a).done_runs():
        key = r["scenario"], r["replicate"]
        assert np.array_equal(ResultsDir(a).read_map(*key), ResultsDir(b).read_map(*key))


def test_identical_scenarios_give_zero_paired_difference(tmp_path):
    a = write_policy(tmp_path, "a", arms_interdiction=0.5)
    twin = write_policy(tmp_path, "twin", arms_interdiction=0.5)
    batch.run_batch(batch.Plan.from_files([a, twin], 3), tmp_path / "out", workers=1)
    runs = series(tmp_path / "out")
    for i in range(3):
        assert np.array_equal(runs["a", i], runs["twin", i])
    assert not np.array_equal(runs["a", 0], runs["a", 1])  # replicates do differ


def test_policies_share_the_history_and_replicate_seeds_follow_the_rule(tmp_path, policies):
    # under the posterior's draws, as by default: replicate i of both policies under draw i
    draws = ensemble.load(Path(__file__).parent / "fixtures" / "posterior.csv")
    plan = batch.Plan.from_files(policies, 2, base_seed=7, ensemble=draws)
    manifest = batch.run_batch(plan, tmp_path / "out", workers=1)
    assert [r["seed"] for r in manifest["runs"]] == [7, 7, 8, 8]
    runs = series(tmp_path / "out")
    branch_day = (plan.scenarios[0][1].branch - plan.scenarios[0][1].start).days
    for i in range(2):
        calm, interdict = runs["calm", i], runs["interdict", i]
        assert np.array_equal(calm[:, :branch_day], interdict[:, :branch_day])
        assert not np.array_equal(calm, interdict)
    # The history is simulated once and forked; a run from scratch with the seed and the draw
    # is the same.
    alone = HaitiModel(draws.apply(plan.scenarios[1][1], 1), seed=8).run()
    assert np.array_equal(alone.values.T, runs["interdict", 1])


def test_local_processes_and_dask_give_the_in_process_results(tmp_path, policies):
    distributed = pytest.importorskip("distributed")
    plan = batch.Plan.from_files(policies, 3)
    batch.run_batch(plan, tmp_path / "one", workers=1)
    batch.run_batch(plan, tmp_path / "pool", workers=2)
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        batch.run_batch(plan, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert_same_results(tmp_path / "one", tmp_path / "pool")
    assert_same_results(tmp_path / "one", tmp_path / "dask")


def test_a_bad_scenario_stops_the_batch_before_anything_runs(tmp_path, policies, capsys):
    from sim.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: bad\nbase: {HISTORY}\nparameters: {{arms_interdiction: 2}}\n")
    out = tmp_path / "out"
    code = main(["batch", policies[0], str(bad), policies[1], "--replicates", "2",
                 "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.yaml" in err and "arms_interdiction" in err and "Traceback" not in err
    assert not out.exists()


def test_a_run_that_raises_is_recorded_and_the_others_finish(tmp_path, policies):
    plan = batch.Plan.from_files(policies, 2)
    good = plan.scenarios[0][1]
    params = dict(good.parameters)
    del params["police_officers"]  # the model cannot start without it
    broken = dataclasses.replace(good, parameters=params)
    plan = dataclasses.replace(plan, scenarios=plan.scenarios + (("broken", broken),), arms=())
    manifest = batch.run_batch(plan, tmp_path / "out", workers=1)
    status = {(r["scenario"], r["replicate"]): r for r in manifest["runs"]}
    assert manifest["status"] == "complete with failures"
    for i in range(2):
        assert status["broken", i]["status"] == "failed"
        assert "KeyError" in status["broken", i]["error"]
        assert "police_officers" in status["broken", i]["traceback"]
        assert status["calm", i]["status"] == status["interdict", i]["status"] == "done"
        assert ResultsDir(tmp_path / "out").has_run("interdict", i)


def test_resume_after_ctrl_c_completes_only_what_is_missing(tmp_path, policies, monkeypatch):
    plan = batch.Plan.from_files(policies, 3)
    batch.run_batch(plan, tmp_path / "whole", workers=1)

    add = batch.Recording.add
    calls = []

    def interrupted_after_first_replicate(self, outputs):
        if calls:
            raise KeyboardInterrupt
        calls.append(outputs)
        add(self, outputs)

    monkeypatch.setattr(batch.Recording, "add", interrupted_after_first_replicate)
    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(plan, tmp_path / "cut", workers=1)
    monkeypatch.undo()
    manifest = ResultsDir(tmp_path / "cut").read_manifest()
    assert manifest["status"] == "interrupted"
    assert sum(r["status"] == "done" for r in manifest["runs"]) == 2

    ran = []
    run = engine.run
    monkeypatch.setattr(engine, "run", lambda task, seed, replicate, **kw: ran.append(
        replicate) or run(task, seed, replicate=replicate, **kw))
    manifest = batch.run_batch(plan, tmp_path / "cut", workers=1, resume=True)
    assert manifest["status"] == "complete" and sorted(ran) == [1, 2]
    assert_same_results(tmp_path / "whole", tmp_path / "cut")


def test_resume_after_a_killed_process_equals_an_uninterrupted_batch(tmp_path, policies):
    plan = batch.Plan.from_files(policies, 3)
    batch.run_batch(plan, tmp_path / "whole", workers=1)
    # What a kill leaves: the manifest still 'running' with later runs pending, a file written
    # after the last manifest update, a temporary file cut mid-write, and (a user's doing) a
    # finished run's file deleted.
    killed = tmp_path / "killed"
    shutil.copytree(tmp_path / "whole", killed)
    results = ResultsDir(killed)
    manifest = json.loads(results.manifest_path.read_text())
    manifest["status"], manifest["finished"] = "running", None
    results.write_manifest(manifest)
    lines = results.journal_path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line)["replicate"] != 2
            and json.loads(line)["scenario"] != "interdict"]
    results.journal_path.write_text("".join(kept) + lines[-1][:40])  # the last line cut mid-write
    results.series_path("interdict", 2).unlink()
    results.map_path("calm", 0).unlink()
    (results.series_path("calm", 2).parent / ".replicate-00002.parquet.123.partial").write_text("")
    done = batch.run_batch(plan, killed, workers=2, resume=True)
    assert done["status"] == "complete"
    assert not list(killed.rglob("*.partial"))
    assert_same_results(tmp_path / "whole", killed)


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:  # ended since the listing
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_workers_of_a_killed_batch_do_not_linger(tmp_path, policies):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "batch", *policies,
                                "--replicates", "40", "--workers", "2", "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "series" / "calm").exists() or len(_descendants(process.pid)) < 3:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        workers = _descendants(process.pid)  # the fork server, its workers, the resource tracker
    finally:
        process.kill()  # SIGKILL: the batch cannot stop its workers itself
        process.wait()
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "workers still running after their batch was killed"
        time.sleep(0.2)


def test_resume_refuses_changed_scenario_files(tmp_path, policies):
    plan = batch.Plan.from_files(policies, 1)
    batch.run_batch(plan, tmp_path / "out", workers=1)
    with pytest.raises(batch.BatchError, match="already holds a batch"):
        batch.run_batch(plan, tmp_path / "out", workers=1)
    Path(policies[1]).write_text(Path(policies[1]).read_text().replace("5000", "4000"))
    changed = batch.Plan.from_files(policies, 1)
    with pytest.raises(batch.BatchError, match="interdict.yaml changed"):
        batch.run_batch(changed, tmp_path / "out", workers=1, resume=True)


def test_manifest_records_what_was_run(tmp_path, policies):
    plan = batch.Plan.from_files(policies, 1, overrides={"arms_interdiction": 0.5})
    batch.run_batch(plan, tmp_path / "out", workers=1)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    described = manifest["plan"]["scenarios"][1]
    assert described["label"] == "interdict"
    assert [Path(f["path"]).name for f in described["files"]] == ["history.yaml",
                                                                    "interdict.yaml"]
    assert all(len(f["sha256"]) == 64 for f in described["files"])
    assert ["2023-03-01", "arms_interdiction", "set", 0.5] in described["events"]
    assert manifest["plan"]["package_version"] and manifest["plan"]["model_fingerprint"]
    assert manifest["started"] and manifest["finished"] and manifest["status"] == "complete"


def test_dask_missing_is_a_clear_message(tmp_path, policies, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(batch.BatchError, match=r"pip install 'haiti-sim\[dask\]'"):
        batch.run_batch(batch.Plan.from_files(policies, 1), tmp_path / "out",
                        scheduler="tcp://127.0.0.1:8786")


def test_scenario_labels_must_be_distinct(tmp_path, policies):
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(policies[0], other / "calm.yaml")
    with pytest.raises(batch.BatchError, match="two scenarios are labelled 'calm'"):
        batch.Plan.from_files([policies[0], str(other / "calm.yaml")], 1)


def test_history_key_separates_different_histories():
    s = scenario.load(HISTORY.parent / "status_quo.yaml")
    # a lever set for a policy applies from its branch, so the history is still shared; an
    # uncertainty holds from the start, so it makes another history
    key = engine.history_key
    assert key(s, 1) == key(s.with_overrides({"arms_interdiction": 0.5}), 1)
    assert key(s, 1) != key(s.with_overrides({"gang_attack_rate": 2.5}), 1)
    assert key(s, 1) != key(s, 2)
    other_start = dataclasses.replace(s, parameters={**s.parameters, "gang_members_total": 9000})
    assert key(s, 1) != key(other_start, 1)


def test_a_failed_write_leaves_neither_a_file_nor_a_partial_one(tmp_path, monkeypatch):
    from sim.running import results

    def disk_full(fd):  # the bytes went into the temporary file; making them durable fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(results.os, "fsync", disk_full)
    target = tmp_path / "series" / "x" / "replicate-00000.parquet"
    with pytest.raises(OSError, match="No space") as raised:
        results.write_parquet(results.SERIES_SCHEMA.empty_table(), target)
    assert raised.value.filename == str(target)  # named, for the user's one-line message
    assert list(target.parent.iterdir()) == []


def _flip(path: Path, rng: np.random.Generator) -> None:
    data = bytearray(path.read_bytes())
    offset = int(rng.integers(len(data)))
    data[offset] ^= int(rng.integers(1, 256))  # a nonzero mask: the byte does change
    path.write_bytes(bytes(data))


def test_damaged_truncated_or_empty_files_are_detected_and_redone_by_resume(tmp_path, policies):
    plan = batch.Plan.from_files(policies, 3)
    batch.run_batch(plan, tmp_path / "whole", workers=1)
    whole = ResultsDir(tmp_path / "whole")
    records = whole.done_runs()
    files = sorted([*(tmp_path / "whole").glob("series/*/*.parquet"),
                    *(tmp_path / "whole").glob("maps/*/*.parquet")])
    rng = np.random.default_rng(20261201)
    # Every file, flipped at 20 random offsets each, is always caught (and restored after).
    for path in files:
        original = path.read_bytes()
        record = next(r for r in records if path.parent.name == r["scenario"]
                      and path.name == f"replicate-{r['replicate']:05d}.parquet")
        for _ in range(20):
            _flip(path, rng)
            assert str(path) in whole.run_problem(record)
            path.write_bytes(original)
        assert whole.run_problem(record) is None
    # Then a resume repairs a mix: flipped bytes, a truncated file and an emptied one.
    damaged = tmp_path / "damaged"
    shutil.copytree(tmp_path / "whole", damaged)
    chosen = rng.choice(len(files), size=4, replace=False)
    targets = [damaged / files[k].relative_to(tmp_path / "whole") for k in chosen]
    _flip(targets[0], rng)
    _flip(targets[1], rng)
    targets[2].write_bytes(targets[2].read_bytes()[:-100])
    targets[3].write_bytes(b"")
    redone = batch.run_batch(plan, damaged, workers=1, resume=True)
    assert redone["status"] == "complete"
    assert all(ResultsDir(damaged).run_problem(r) is None for r in ResultsDir(damaged).done_runs())
    assert_same_results(tmp_path / "whole", damaged)
    assert series(tmp_path / "whole").keys() == series(damaged).keys()
    for key, values in series(tmp_path / "whole").items():
        assert np.array_equal(values, series(damaged)[key], equal_nan=True)


def test_the_manifest_is_written_at_start_and_end_and_each_run_appends_a_line(tmp_path, policies,
                                                                           monkeypatch):
    writes = []
    write = ResultsDir.write_manifest
    monkeypatch.setattr(ResultsDir, "write_manifest",
                        lambda self, m: writes.append(m["status"]) or write(self, m))
    manifest = batch.run_batch(batch.Plan.from_files(policies, 3), tmp_path / "out", workers=1)
    assert writes == ["running", "complete"]
    lines = (tmp_path / "out" / "runs.jsonl").read_text().splitlines()
    assert len(lines) == len(manifest["runs"]) == 6
    assert "runs" not in json.loads((tmp_path / "out" / "manifest.json").read_text())
    # A plan of the most replicates allowed: its runs are computed, never listed up front.
    big = batch.Plan.from_files(policies, batch.MAX_REPLICATES)
    recording = batch.Recording(ResultsDir(tmp_path / "big"), big, "batch")
    assert len(recording.status) == 2 * batch.MAX_REPLICATES
    assert next(recording.pending()) == (0, ["calm", "interdict"])
    assert len(ResultsDir(tmp_path / "big").read_manifest()["runs"]) == 2 * batch.MAX_REPLICATES
    with pytest.raises(batch.BatchError, match="1 to 100,000"):
        batch.Plan.from_files(policies, batch.MAX_REPLICATES + 1)


def test_a_second_batch_into_the_same_directory_refuses_and_a_stale_lock_is_taken_over(
        tmp_path, policies):
    import os

    out = tmp_path / "out"
    plan = batch.Plan.from_files(policies, 1)
    refused = pytest.raises(ResultsError, match=rf"in use by another batch \(pid "
                                                 rf"{os.getpid()}, started 20")
    with ResultsDir(out).lock(), refused:  # the first batch, still writing
        batch.run_batch(plan, out, workers=1)
    assert not (out / "manifest.json").exists()
    # A dead batch's lock file (its pid long gone) does not hold the directory.
    (out / ".lock").write_text('{"pid": 999999999, "started": "2026-01-01T00:00:00+00:00"}')
    assert batch.run_batch(plan, out, workers=1)["status"] == "complete"


def dying_run(task, seed, replicate, **kw):
    """A task whose worker dies (as if killed, or out of memory) on replicate 1."""
    import os

    if replicate == 1:
        os._exit(9)
    return engine.run(task, seed, replicate=replicate, **kw)


def test_a_dead_worker_costs_only_its_own_replicate(tmp_path, policies, monkeypatch):
    import types

    monkeypatch.setattr(batch, "engine", types.SimpleNamespace(run=dying_run))
    manifest = batch.run_batch(batch.Plan.from_files(policies, 4), tmp_path / "out", workers=2)
    status = {(r["scenario"], r["replicate"]): r for r in manifest["runs"]}
    assert manifest["status"] == "complete with failures"
    assert [k for k, r in status.items() if r["status"] != "done"] == [("calm", 1),
                                                                         ("interdict", 1)]
    assert "died running this replicate, twice" in status["calm", 1]["error"]


def test_the_pool_replaces_workers_that_leave_at_their_task_limit_with_tasks_queued():
    """CPython's own pool hangs here (gh-115634): one worker, two tasks each, ten queued."""
    import concurrent.futures as cf
    import multiprocessing
    import os

    pool = batch.FullPool(1, mp_context=multiprocessing.get_context("forkserver"),
                          max_tasks_per_child=2)
    try:
        futures = [pool.submit(os.getpid) for _ in range(10)]
        pids = [f.result(timeout=60) for f in futures]  # a hang fails here, not forever
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert len(set(pids)) == 5  # a new worker every two tasks
    assert isinstance(pool, cf.ProcessPoolExecutor)
