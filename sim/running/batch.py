"""Running scenarios many times: replicates, shared histories, parallel workers, resumable results.

Common random numbers. Replicate i of every scenario in a batch runs with the seed
`base_seed + i` (the base seed is `--seed`, or the first scenario's `seed:`). The model spawns one
independent stream per process (setup, economy, combat...) from that seed with numpy's
SeedSequence (see `sim.model` and `sim.model.jit`), so neighbouring integers give unrelated streams,
and two scenarios of the same replicate draw the same numbers wherever their policies do not make
them diverge: the paired difference between scenarios is the policy's effect, not noise.
`haiti-sim run X --seed S` reproduces replicate S - base_seed of a batch exactly.

Parameter uncertainty. By default replicate i also runs under draw i of the shipped posterior
(`sim.running.ensemble`), the same draw for every scenario, so pairs stay paired and every band
includes what is not known about the parameters; `ensemble=None` (`--point`) runs every
replicate at the scenarios' own values. The manifest records which (with the posterior's
sha256), and a resume under other draws is refused. (`haiti-sim run X --seed S --draw D`
reproduces replicate S - base_seed of an ensemble batch, D = S - base_seed.)

Shared histories. Each task is one call of the one run function, `sim.running.engine.run`,
which simulates every history the task's scenarios share once and forks one model per policy at
the branch. Scenarios without a branch, or whose history differs, run from their start. A plan
whose histories another command may ask for again (policies under levers only:
`Plan.shares_histories`) has its workers keep them in the user's store and start from those kept
there (`sim.running.histories`): a second search or sweep on the same record simulates only the
years after the branch.

Unit of work. One replicate (its histories and all their forks) is one task; it returns compact
numpy arrays (`sim.running.results.RunOutput`) to this process, which writes them to disk and
drops them, so memory stays flat however many runs a batch has. Tasks go to a local process pool
by default, to a Dask cluster with `scheduler=`, or run in this process with one worker; the same
function runs in each, so the results are identical.

Faults. Every scenario is resolved and checked before anything runs. A run that raises is
recorded with its error and the others go on; a local worker that dies costs only its own
replicate (retried once, alone, then recorded as failed). Every file is written atomically and
each finished run appends a line (with its files' sha256) to the journal, so an interrupted batch
(Ctrl-C, a killed process, a full disk) keeps what finished, and `resume=True` runs only the
missing, failed or damaged runs, with the same seeds, giving the same files as an uninterrupted
batch. One batch at a time writes into a directory (`ResultsDir.lock`).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import datetime as dt
import hashlib
import multiprocessing
import os
import re
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from sim.model import scenario as scenario_file
from sim.model.scenario import Scenario, split_by_role
from sim.running import engine, fingerprint
from sim.running import ensemble as posterior
from sim.running import histories as kept_histories
from sim.running.design import ONE_POINT, Design
from sim.running.ensemble import Ensemble
from sim.running.progress import RunsBar
from sim.running.results import ResultsDir, RunOutput, Runs, package_version

MANIFEST_FORMAT = 2  # 2: runs in the journal (runs.jsonl), files with sha256
SEED_RULE = "replicate i of every scenario runs with seed base_seed + i (common random numbers)"
LABEL_PATTERN = re.compile(r"[\w.-]+")
TASKS_PER_WORKER = 10
# The most replicates of one batch: its plan (one status byte and one experiments row per run)
# and its journal stay small, and a typo such as -n 1000000000 is refused before anything runs.
MAX_REPLICATES = 100_000
# Runs of one replicate done in one task: an experiment's points that share a history simulate it
# once per task, while a large design still spreads over every worker.
RUNS_PER_TASK = 16
# What changes results: the model sub-package and its data. Editing how runs are scheduled,
# stored or analysed (sim.running, sim.analysis, the CLI) does not stop a batch from resuming.
class BatchError(ValueError):
    """A batch that cannot run as asked; `str()` is the message for the user."""


def _sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class Arm:
    """Where a run label of a plan comes from: a scenario file's label and a design's point."""

    scenario: str
    sample: int
    values: dict[str, float]


@dataclass(frozen=True)
class Plan:
    """What a batch or an experiment runs: labelled scenarios (overrides and the design's points
    applied), replicates, the base seed and the posterior draws (`ensemble`; None: point mode).
    A batch is the one-point case: each label is a scenario file's; an experiment labels each
    (scenario, point) pair `<scenario>.s<point>`. `arms` says where each label comes from, in
    the order of `scenarios`."""

    scenarios: tuple[tuple[str, Scenario], ...]
    replicates: int
    base_seed: int
    overrides: dict[str, float] = field(default_factory=dict)
    design: Design = ONE_POINT
    arms: tuple[Arm, ...] = ()
    ensemble: Ensemble | None = None

    def __post_init__(self):
        labels = [label for label, _ in self.scenarios]
        for label in labels:
            if not LABEL_PATTERN.fullmatch(label):
                raise BatchError(f"scenario label '{label}' must be letters, digits, '_', '.' or "
                                 "'-' (it names folders of results); rename the file")
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise BatchError(f"two scenarios are labelled '{twice[0]}' (labels are file names "
                             "without .yaml); rename one")
        if not 1 <= self.replicates <= MAX_REPLICATES:
            raise BatchError(f"replicates must be 1 to {MAX_REPLICATES:,}, got {self.replicates}")
        if not self.arms:
            object.__setattr__(self, "arms", tuple(Arm(label, 0, {})
                                                   for label, _ in self.scenarios))
        if self.ensemble is not None:
            for label, s in self.scenarios:
                self.ensemble.check(s, self.replicates, label)

    @classmethod
    def from_files(cls, files: list[str], replicates: int, base_seed: int | None = None,
                   overrides: dict[str, float] | None = None,
                   ensemble: Ensemble | None | str = "shipped") -> Plan:
        """Load and check every scenario file, and the overrides, before anything runs: raises
        ScenarioError (a bad file or override) or BatchError (labels). `ensemble`: the
        posterior draws replicates run under; "shipped" (default) is the package's posterior,
        or point mode while none is shipped; None is point mode."""
        return cls.experiment(files, ONE_POINT, replicates, base_seed, overrides, ensemble)

    @classmethod
    def experiment(cls, files: list[str], design: Design, replicates: int,
                   base_seed: int | None = None,
                   overrides: dict[str, float] | None = None,
                   ensemble: Ensemble | None | str = "shipped",
                   end: dt.date | None = None) -> Plan:
        """Every scenario file at every point of `design`, each `replicates` times; a point's
        values take effect by their roles (`Scenario.with_overrides`), after the overrides,
        and are explicit, so a posterior draw leaves them (`ensemble`, as in `from_files`).
        `end` stops every run on that day (a shorter horizon; not before a policy's branch)."""
        if isinstance(ensemble, str):
            if ensemble != "shipped":
                raise ValueError(f"ensemble must be an Ensemble, None or 'shipped', not "
                                 f"{ensemble!r}")
            ensemble = posterior.shipped()
        overrides = dict(overrides or {})
        loaded = [(Path(f).stem, _named(_ending(scenario_file.load(f), end, f), overrides))
                  for f in files]
        one = len(design.points) == 1
        scenarios, arms = [], []
        for label, s in loaded:
            for k, point in enumerate(design.points):
                scenarios.append((label if one else f"{label}.s{k:04d}",
                                  s.with_overrides({**overrides, **point})))
                arms.append(Arm(label, k, point))
        seed = loaded[0][1].seed if base_seed is None else base_seed
        return cls(tuple(scenarios), replicates, seed, overrides, design, tuple(arms),
                   ensemble)

    def experiments_table(self) -> pa.Table:
        """One row per run: label, scenario, sample, replicate, seed, draw (the posterior draw;
        null in point mode) and every varied value (built column by column, not row by row: a
        large plan fits in a few arrays)."""
        n = len(self.scenarios)
        arm = np.tile(np.arange(n), self.replicates)
        replicate = np.repeat(np.arange(self.replicates, dtype=np.int32), n)

        def by_arm(values, type_):
            return pa.array(values, type_).take(pa.array(arm))

        columns = {
            "label": by_arm([label for label, _ in self.scenarios], pa.string()),
            "scenario": by_arm([a.scenario for a in self.arms], pa.string()),
            "sample": pa.array(np.array([a.sample for a in self.arms], np.int32)[arm]),
            "replicate": pa.array(replicate),
            "seed": pa.array(self.base_seed + replicate.astype(np.int64)),
            "draw": (pa.nulls(len(arm), pa.int32()) if self.ensemble is None else
                     pa.array(np.array([self.ensemble.number(int(r)) for r in
                                        range(self.replicates)], np.int32)[replicate])),
        }
        for f in self.design.factors:
            columns[f.name] = pa.array(np.array([a.values[f.name] for a in self.arms],
                                                np.float64)[arm])
        return pa.table(columns)

    @property
    def shares_histories(self) -> bool:
        """Whether this plan's histories are worth keeping for other commands: its scenarios are
        policies and its design varies levers only, which take effect at the branch, so a later
        search, sweep or batch on the same record asks for the same histories. A design over the
        world's parameters makes a history of each point, which nothing asks for again."""
        _, world = split_by_role({f.name: 0.0 for f in self.design.factors})
        return not world and any(s.branch is not None for _, s in self.scenarios)

    def seed(self, replicate: int) -> int:
        return self.base_seed + replicate

    def describe(self) -> dict:
        """The plan as JSON for the manifest; a resumed batch must describe itself identically."""
        return {
            "replicates": self.replicates,
            "base_seed": self.base_seed,
            "seed_rule": SEED_RULE,
            "ensemble": posterior.describe(self.ensemble),
            "overrides": self.overrides,
            "design": self.design.describe(),
            "package_version": package_version(),
            "model_fingerprint": fingerprint.model(),
            "scenarios": [{
                "label": label,
                "scenario": arm.scenario,
                "sample": arm.sample,
                "name": s.name,
                "files": [{"path": os.path.abspath(p), "sha256": _sha256(p)} for p in s.sources],
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "branch": s.branch.isoformat() if s.branch else None,
                "parameters": s.parameters,
                "events": [[e.date.isoformat(), e.name, e.op, e.value] for e in s.events],
            } for (label, s), arm in zip(self.scenarios, self.arms, strict=True)],
        }


def _named(s: Scenario, overrides: dict[str, float]) -> Scenario:
    """`s` under a name that says what --set changed ("GSF at 5,550 (set mission_troops_target
    = 2,000)"), so tables, charts and reports do not show the file's name for another policy."""
    if not overrides:
        return s
    changes = ", ".join(f"{n} = {v:,.6g}" for n, v in overrides.items())
    return dataclasses.replace(s, name=f"{s.name} (set {changes})")


def _ending(s: Scenario, end: dt.date | None, path: str) -> Scenario:
    """`s` stopped on `end` (None: at its own end)."""
    if end is None:
        return s
    first = s.branch or s.start + dt.timedelta(days=1)
    if not first <= end <= s.end:
        what = f"its branch {s.branch}" if s.branch else f"the day after its start {s.start}"
        raise BatchError(f"--until {end}: the runs of {path} cannot stop then; give a date from "
                         f"{what} to its end {s.end}")
    return dataclasses.replace(s, end=end)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


PENDING, DONE, FAILED = 0, 1, 2
STATUS = {"done": DONE, "failed": FAILED}


class Recording:
    """Keeps a results directory's manifest and journal in step with its files as runs finish.

    Shared by `haiti-sim run`, `batch` and `experiment`, so all leave the same layout behind:
    the manifest, the journal of finished runs, the experiments table (one row per run, every
    varied value) and the runs. The manifest is written when the batch starts and ends; a
    finished run appends one line to the journal, so recording a run is O(1) however large the
    batch. Run statuses are kept as one byte per run of the plan, in the plan's order.
    """

    def __init__(self, results: ResultsDir, plan: Plan, command: str, resume: bool = False):
        self.results, self.plan = results, plan
        self.labels = [label for label, _ in plan.scenarios]
        self.index = {label: k for k, label in enumerate(self.labels)}
        self.status = bytearray(plan.replicates * len(self.labels))
        description = plan.describe()
        if resume:
            try:
                manifest = results.read_manifest()
            except FileNotFoundError:
                raise BatchError(f"{results.path} holds no batch to resume (no manifest.json)"
                                 ) from None
            _check_same_plan(manifest["plan"], description)
            results.remove_partial_files()
            # Keep only the done runs whose files match their records; every other run (failed,
            # pending, damaged, truncated, emptied or deleted) is run again.
            kept = [r for r in _finished(manifest).values()
                    if r["status"] == "done" and r.get("files")
                    and results.run_problem(r) is None]
            results.write_journal(kept)
            for r in kept:
                self.status[self._slot(r["scenario"], r["replicate"])] = DONE
            manifest = {k: v for k, v in manifest.items() if k != "runs"}
            manifest["resumed"] = manifest.get("resumed", []) + [_now()]
        else:
            if results.manifest_path.exists() and (
                    command != "run" or results.read_manifest()["command"] != "run"):
                raise BatchError(f"{results.path} already holds a batch; add --resume to complete "
                                 "it, or choose another --out")
            manifest = {
                "format": MANIFEST_FORMAT, "command": command, "plan": description,
                "experiments": results.experiments_path.name,
                "journal": results.journal_path.name,
                "started": _now(), "finished": None, "status": "running",
            }
            results.write_journal([])
        manifest.update(format=MANIFEST_FORMAT, journal=results.journal_path.name,
                        status="running", finished=None)
        # Made from the plan alone: written anew (so repaired) on every start and resume.
        manifest["experiments_file"] = results.write_experiments(plan.experiments_table())
        self.manifest = manifest
        results.write_manifest(manifest)

    def _slot(self, label: str, replicate: int) -> int:
        return replicate * len(self.labels) + self.index[label]

    def extend(self, plan: Plan) -> None:
        """Grow the plan of an experiment that chooses its runs as it learns (`haiti-sim
        target`): `plan` keeps every scenario of the current one, in the same order, and at
        least as many replicates; the runs recorded keep their status, the manifest and the
        experiments table describe the larger plan."""
        labels = [label for label, _ in plan.scenarios]
        if labels[:len(self.labels)] != self.labels or plan.replicates < self.plan.replicates:
            raise ValueError("an extended plan must keep the scenarios and replicates it grows")
        old, n = self.status, len(self.labels)
        self.status = bytearray(plan.replicates * len(labels))
        for replicate in range(self.plan.replicates):
            start = replicate * len(labels)
            self.status[start:start + n] = old[replicate * n:(replicate + 1) * n]
        self.plan, self.labels = plan, labels
        self.index = {label: k for k, label in enumerate(labels)}
        self.manifest.update(plan=plan.describe(),
                             experiments_file=self.results.write_experiments(
                                 plan.experiments_table()))
        self.results.write_manifest(self.manifest)

    def pending(self, only: dict[int, list[str]] | None = None
                ) -> Iterator[tuple[int, list[str]]]:
        """The scenarios still to run, replicate by replicate, computed as they are asked for;
        with `only` ({replicate: labels}), of those runs only."""
        n = len(self.labels)
        for replicate in (range(self.plan.replicates) if only is None else sorted(only)):
            row = self.status[replicate * n:(replicate + 1) * n]
            wanted = self.labels if only is None else only[replicate]
            missing = [label for label in wanted if row[self.index[label]] != DONE]
            if missing:
                yield replicate, missing

    def count(self, status: str) -> int:
        return self.status.count(STATUS[status]) if status in STATUS else \
            self.status.count(PENDING)

    def done_by_label(self) -> Counter:
        n = len(self.labels)
        return Counter({label: self.status[k::n].count(DONE)
                        for k, label in enumerate(self.labels)})

    def add(self, outputs: list[RunOutput]) -> None:
        records = []
        for out in outputs:
            files = self.results.write_run(out) if out.ok else None
            records.append({"scenario": out.scenario, "replicate": out.replicate,
                            "seed": out.seed, "status": "done" if out.ok else "failed",
                            "error": out.error, "traceback": out.traceback, "files": files})
        self.results.append_journal(records)
        for r in records:
            self.status[self._slot(r["scenario"], r["replicate"])] = STATUS[r["status"]]

    def close(self, status: str | None = None) -> None:
        """Mark the batch finished (or `status`, e.g. interrupted) in the manifest."""
        if status is None:
            status = "complete" if not self.count("failed") else "complete with failures"
        self.manifest.update(status=status, finished=_now())
        self.results.write_manifest(self.manifest)

    def read(self) -> dict:
        """The manifest as a reader sees it, with every run's status (`runs`)."""
        return self.results.read_manifest()


def _finished(manifest: dict) -> dict[tuple[str, int], dict]:
    runs = manifest["runs"]
    if isinstance(runs, Runs):
        return runs.finished
    return {(r["scenario"], r["replicate"]): r for r in runs if r["status"] != "pending"}


def _check_same_plan(old: dict, new: dict) -> None:
    """Refuse to resume with anything that would change results: the completed runs and the
    missing ones must come from the same scenarios, seeds, parameter draws and model."""
    if old == new:
        return
    if old["model_fingerprint"] != new["model_fingerprint"]:
        raise BatchError("the model's code or data changed since the batch started; its results "
                         "would mix two versions of the model: start a new batch")
    if old["ensemble"] != new["ensemble"]:
        raise BatchError(f"this batch ran in {_mode(old['ensemble'])}, not in "
                         f"{_mode(new['ensemble'])}; its runs would mix two sets of parameter "
                         "draws: resume with the batch's own (omit --point and --posterior to "
                         "use the manifest's), or start a new batch")
    for key in ("replicates", "base_seed", "overrides"):
        if old[key] != new[key]:
            raise BatchError(f"{key} was {old[key]} in this batch, not {new[key]}; resume with "
                             "the batch's own settings (omit them to use the manifest's)")
    if [s["label"] for s in old["scenarios"]] != [s["label"] for s in new["scenarios"]]:
        raise BatchError("the batch ran scenarios " + ", ".join(
            s["label"] for s in old["scenarios"]) + "; resume with the same ones")
    for before, now in zip(old["scenarios"], new["scenarios"], strict=True):
        for f_old, f_new in zip(before["files"], now["files"], strict=False):
            if f_old["sha256"] != f_new["sha256"]:
                raise BatchError(f"{f_new['path']} changed since the batch started; restore it "
                                 "or start a new batch")
        if before != now:
            raise BatchError(f"scenario '{now['label']}' resolves differently than when the "
                             "batch started; start a new batch")
    raise BatchError("the batch's settings differ from the manifest's; start a new batch")


def _mode(described: dict) -> str:
    if described.get("mode") != "ensemble":
        return "point mode"
    first = f", from draw {described['first_draw']}" if described.get("first_draw") else ""
    return (f"the posterior ensemble {described['posterior']} (sha256 "
            f"{described['sha256'][:12]}, {described['draws']} draws{first})")


class _InProcess(cf.Executor):
    """Runs each task at once in this process: one worker needs no pool, and errors keep their
    full tracebacks for debugging."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        future.set_result(fn(*args, **kwargs))
        return future


class FullPool(cf.ProcessPoolExecutor):
    """A process pool that keeps all of its workers at all times.

    CPython's pool starts workers on demand, guided by a count of idle workers that is really a
    count of finished tasks: with tasks queued, a stale count survives a worker that leaves at
    `max_tasks_per_child`, the pool believes an idle worker exists, never replaces it, and once
    no worker is left every queued task waits forever (gh-115634, in 3.11 to 3.13.x before the
    fixes of 2026). A batch keeps two tasks per worker in flight, so it met this: a full test
    run hung with the pool's workers gone. Topping the pool up to `max_workers` whenever CPython
    would adjust it (on submit, and when a worker leaves) replaces every worker that leaves;
    the batch wants all of its workers anyway. Where CPython replaces workers by other means
    the override is simply not called on that path."""

    def _adjust_process_count(self):  # called by CPython with its shutdown lock held
        # once the pool is shut down its process table is gone (None): nothing to replace
        while self._processes is not None and len(self._processes) < self._max_workers:
            self._spawn_process()


def worker_pool(workers: int, preload: tuple[str, ...] = (), initializer=None,
                initargs: tuple = ()) -> cf.ProcessPoolExecutor:
    """A pool of `workers` processes that start with the model loaded (and the modules
    `preload`), ignore Ctrl-C, leave once this process is gone, are replaced every
    TASKS_PER_WORKER tasks, and run `initializer(*initargs)` first: the batch's and the app's."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sim.running.worker", *preload])
    # A worker's memory creeps up by about 1 MB a replicate (allocator fragmentation, not live
    # objects); replacing each worker after a few tasks keeps a long batch's memory flat, at the
    # cost of a fork from the preloaded server.
    return FullPool(workers, mp_context=context, initializer=_start_worker,
                    initargs=(os.getpid(), initializer, initargs),
                    max_tasks_per_child=TASKS_PER_WORKER)


def _start_worker(batch_pid: int, initializer=None, initargs: tuple = ()) -> None:
    # Ctrl-C reaches the whole process group; only the parent should handle it, by stopping
    # the pool and saving the manifest, rather than every worker printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A batch killed outright (SIGTERM, SIGKILL) cannot stop its workers, which would then wait
    # for tasks forever, holding their memory: each worker leaves once the batch is gone.
    threading.Thread(target=_exit_after, args=(batch_pid,), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_after(pid: int) -> None:
    started = _process_stat(pid)
    while True:
        time.sleep(1)
        if not _same_process_alive(pid, started):
            os._exit(1)


def _process_stat(pid: int) -> list[str] | None:
    """A process's /proc stat fields from the state on (Linux), or None if there is none."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _same_process_alive(pid: int, started: list[str] | None) -> bool:
    """Whether the batch still runs: on Linux, a live (not zombie) process with the batch's start
    time, so a reused pid is not taken for it; elsewhere, any process with that pid."""
    if started is None:
        try:
            os.kill(pid, 0)
        except OSError:  # no such process, or one of another user's has the pid now
            return False
        return True
    now = _process_stat(pid)
    return now is not None and now[0] != "Z" and now[19] == started[19]


class _LocalPool:
    """The batch's worker processes, renewed when one dies: a dead worker breaks a
    ProcessPoolExecutor for good, so the batch replaces it and goes on."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = worker_pool(workers)

    def submit(self, fn, /, *args, **kwargs):
        return self.pool.submit(fn, *args, **kwargs)

    def renew(self) -> _LocalPool:
        self.stop()
        self.pool = worker_pool(self.workers)
        return self

    def stop(self) -> None:
        processes = list((self.pool._processes or {}).values())  # 3.14: pool.terminate_workers()
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()


@contextlib.contextmanager
def _local_pool(workers: int):
    """(executor, tasks in flight, renew): renew replaces a pool broken by a dead worker."""
    if workers == 1:
        yield _InProcess(), 1, None
        return
    pool = _LocalPool(workers)
    try:
        yield pool, 2 * workers, pool.renew
    except BaseException:
        pool.stop()
        raise
    pool.pool.shutdown()


@contextlib.contextmanager
def _dask_executor(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise BatchError("running on a Dask cluster needs dask.distributed: "
                         "pip install 'haiti-sim[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        executor = client.get_executor(pure=False)
        try:
            yield executor, 2 * max(sum(client.nthreads().values()), 1), None
        except BaseException:
            executor.shutdown(wait=False)
            raise
    finally:
        client.close()


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def check_workers(workers: int | None) -> tuple[int, str | None]:
    """The local workers to use (at least 1, at most the cores: more only share them, with each
    worker's memory), and a note for the user if `workers` was capped."""
    cores = default_workers()
    if workers is None:
        return cores, None
    if workers < 1:
        raise BatchError(f"workers must be at least 1, got {workers}")
    if workers > cores:
        return cores, f"{workers} workers asked, but this machine has {cores} cores: using {cores}"
    return workers, None


def backend(workers: int | None = None, scheduler: str | None = None):
    """A context manager giving (executor, tasks to keep in flight, renew or None): the Dask
    cluster at `scheduler`, else local worker processes (`check_workers`; 1 runs in this
    process). `renew()` replaces a local pool broken by a dead worker. The batch's and the
    calibration's."""
    if scheduler:
        return _dask_executor(scheduler)
    return _local_pool(check_workers(workers)[0])


class WorkerDied(RuntimeError):
    """A local worker process ended while running a task (killed, out of memory, a crash), on
    its first attempt and again when retried alone: the batch's and the app's one message."""

    def __init__(self, message: str = "the worker process died running this replicate, twice "
                                      "(killed, out of memory, or a crash)"):
        super().__init__(message)


def run_batch(plan: Plan, out: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False,
              command: str = "batch") -> dict:
    """Run every scenario of `plan` `plan.replicates` times into the results directory `out`.

    Local processes by default (`workers`, default and at most all cores; 1 runs in this
    process), or the Dask cluster at `scheduler`. Returns the manifest (`runs`: every run's
    status). The directory is locked while the batch writes. On Ctrl-C, or an OSError such as
    a full disk, the manifest is marked interrupted and the exception propagates;
    `resume=True` completes the batch.
    """
    results = ResultsDir(out)
    with results.lock():
        with backend(workers, scheduler) as (executor, slots, renew):
            recording = Recording(results, plan, command, resume)
            bar = RunsBar({label: plan.replicates for label, _ in plan.scenarios},
                          recording.done_by_label())
            try:
                drain(executor, slots, plan, recording, bar, renew)
            except (KeyboardInterrupt, OSError):
                with contextlib.suppress(OSError):  # a full disk may refuse this too
                    recording.close("interrupted")
                raise
            finally:
                bar.close()
        recording.close()
    return recording.read()


def drain(executor: cf.Executor, slots: int, plan: Plan, recording: Recording,
          bar: RunsBar, renew=None, only: dict[int, list[str]] | None = None) -> None:
    """Submit the pending replicates (of `only`, {replicate: labels}, if given) and record each
    as it finishes. When the plan's histories are worth keeping (`Plan.shares_histories`), the
    workers keep those they simulate in the user's store and start from those kept there
    (`sim.running.histories`).

    A dead local worker breaks the pool and every task in flight with it. The pool is renewed
    and those tasks become suspects, run again one at a time: the innocent finish, and one that
    kills its worker a second time is recorded as failed, so a dead worker costs only its own
    runs, never the batch."""
    pending = recording.pending(only)
    histories = kept_histories.store() if plan.shares_histories else None
    todo: deque[tuple[int, list[str]]] = deque()  # the rest of a replicate split into tasks
    suspects: deque[tuple[int, list[str]]] = deque()
    by_label = dict(plan.scenarios)
    running: dict[cf.Future, tuple[int, list[str], bool]] = {}

    def failures(replicate, labels, exc):
        return [RunOutput.failure(label, replicate, plan.seed(replicate), by_label[label].start,
                                  exc) for label in labels]

    def record(outputs):
        recording.add(outputs)
        bar.update([o.scenario for o in outputs])

    while True:
        isolating = bool(suspects) or any(s for _, _, s in running.values())
        # A bounded window of tasks: enough to keep every worker busy while this process writes,
        # few enough that finished results never pile up in memory.
        while len(running) < (1 if isolating else slots):
            if suspects:
                (replicate, labels), suspect = suspects.popleft(), True
            elif isolating:
                break
            else:
                item = todo.popleft() if todo else next(pending, None)
                if item is None:
                    break
                (replicate, labels), suspect = item, False
                if len(labels) > RUNS_PER_TASK:  # the rest goes back, as the next task
                    todo.appendleft((replicate, labels[RUNS_PER_TASK:]))
                    labels = labels[:RUNS_PER_TASK]
            task = tuple((label, by_label[label]) for label in labels)
            future = executor.submit(engine.run, task, plan.seed(replicate), replicate=replicate,
                                     ensemble=plan.ensemble, histories=histories)
            running[future] = (replicate, labels, suspect)
            isolating = isolating or suspect
        if not running:
            return
        finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
        broken = False
        for future in finished:
            replicate, labels, suspect = running.pop(future)
            try:
                outputs = future.result()
            except BrokenProcessPool:
                broken = True
                if not suspect:
                    suspects.append((replicate, labels))
                    continue
                outputs = failures(replicate, labels, WorkerDied())
            except Exception as exc:  # the cluster lost the task, or the task could not start
                outputs = failures(replicate, labels, exc)
            record(outputs)
        if broken and renew is not None:
            for future, (replicate, labels, _) in running.items():
                if future.done() and future.exception() is None:
                    record(future.result())
                else:  # lost with the pool
                    suspects.append((replicate, labels))
            running.clear()
            executor = renew()
