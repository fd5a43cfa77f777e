"""Running scenarios many times: replicates, shared histories, parallel workers, resumable results.

Common random numbers. Replicate i of every scenario in a batch runs with the seed
`base_seed + i` (the base seed is `--seed`, or the first scenario's `seed:`). The model spawns one
independent stream per process (setup, economy, combat...) from that seed with numpy's
SeedSequence (see `sim.model` and `sim.model.jit`), so neighbouring integers give unrelated streams,
and two scenarios of the same replicate draw the same numbers wherever their policies do not make
them diverge: the paired difference between scenarios is the policy's effect, not noise.
`haiti-sim run X --seed S` reproduces replicate S - base_seed of a batch exactly.

Shared histories. Each task is one call of the one run function, `sim.running.engine.run`,
which simulates every history the task's scenarios share once and forks one model per policy at
the branch. Scenarios without a branch, or whose history differs, run from their start.

Unit of work. One replicate (its histories and all their forks) is one task; it returns compact
numpy arrays (`sim.running.results.RunOutput`) to this process, which writes them to disk and
drops them, so memory stays flat however many runs a batch has. Tasks go to a local process pool
by default, to a Dask cluster with `scheduler=`, or run in this process with one worker; the same
function runs in each, so the results are identical.

Faults. Every scenario is resolved and checked before anything runs. A run that raises is
recorded in the manifest with its error and the others go on. Every file is written atomically and
the manifest is rewritten after each replicate, so an interrupted batch (Ctrl-C, a killed process)
keeps what finished, and `resume=True` runs only the missing runs, with the same seeds, giving the
same files as an uninterrupted batch.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import hashlib
import multiprocessing
import os
import re
import signal
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from sim.model import scenario as scenario_file
from sim.model.scenario import Scenario
from sim.running import engine
from sim.running.design import ONE_POINT, Design
from sim.running.progress import RunsBar
from sim.running.results import ResultsDir, RunOutput, package_version

MANIFEST_FORMAT = 1
SEED_RULE = "replicate i of every scenario runs with seed base_seed + i (common random numbers)"
LABEL_PATTERN = re.compile(r"[\w.-]+")
TASKS_PER_WORKER = 10
# Runs of one replicate done in one task: an experiment's points that share a history simulate it
# once per task, while a large design still spreads over every worker.
RUNS_PER_TASK = 16
# What changes results: the model sub-package and its data. Editing how runs are scheduled,
# stored or analysed (sim.running, sim.analysis, the CLI) does not stop a batch from resuming.
MODEL_PARTS = ("model", "data")


class BatchError(ValueError):
    """A batch that cannot run as asked; `str()` is the message for the user."""


def model_fingerprint() -> str:
    """sha256 of the model's code and data (every file of `sim.model` and `sim.data`), so a
    resume cannot mix two versions of the model."""
    root = Path(__file__).parents[1]
    digest = hashlib.sha256()
    for part in MODEL_PARTS:
        for path in sorted((root / part).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0"
                              + path.read_bytes())
    return digest.hexdigest()


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
    applied), replicates and the base seed. A batch is the one-point case: each label is a
    scenario file's; an experiment labels each (scenario, point) pair `<scenario>.s<point>`.
    `arms` says where each label comes from, in the order of `scenarios`."""

    scenarios: tuple[tuple[str, Scenario], ...]
    replicates: int
    base_seed: int
    overrides: dict[str, float] = field(default_factory=dict)
    design: Design = ONE_POINT
    arms: tuple[Arm, ...] = ()

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
        if self.replicates < 1:
            raise BatchError(f"replicates must be at least 1, got {self.replicates}")
        if not self.arms:
            object.__setattr__(self, "arms", tuple(Arm(label, 0, {})
                                                   for label, _ in self.scenarios))

    @classmethod
    def from_files(cls, files: list[str], replicates: int, base_seed: int | None = None,
                   overrides: dict[str, float] | None = None) -> Plan:
        """Load and check every scenario file, and the overrides, before anything runs: raises
        ScenarioError (a bad file or override) or BatchError (labels)."""
        return cls.experiment(files, ONE_POINT, replicates, base_seed, overrides)

    @classmethod
    def experiment(cls, files: list[str], design: Design, replicates: int,
                   base_seed: int | None = None,
                   overrides: dict[str, float] | None = None) -> Plan:
        """Every scenario file at every point of `design`, each `replicates` times; a point's
        values take effect by their roles (`Scenario.with_overrides`), after the overrides."""
        overrides = dict(overrides or {})
        loaded = [(Path(f).stem, scenario_file.load(f)) for f in files]
        one = len(design.points) == 1
        scenarios, arms = [], []
        for label, s in loaded:
            for k, point in enumerate(design.points):
                scenarios.append((label if one else f"{label}.s{k:04d}",
                                  s.with_overrides({**overrides, **point})))
                arms.append(Arm(label, k, point))
        seed = loaded[0][1].seed if base_seed is None else base_seed
        return cls(tuple(scenarios), replicates, seed, overrides, design, tuple(arms))

    def experiments_table(self) -> pa.Table:
        """One row per run: label, scenario, sample, replicate, seed and every varied value."""
        rows = [(label, arm, i) for i in range(self.replicates)
                for (label, _), arm in zip(self.scenarios, self.arms, strict=True)]
        columns = {
            "label": pa.array([label for label, _, _ in rows], pa.string()),
            "scenario": pa.array([arm.scenario for _, arm, _ in rows], pa.string()),
            "sample": pa.array([arm.sample for _, arm, _ in rows], pa.int32()),
            "replicate": pa.array([i for _, _, i in rows], pa.int32()),
            "seed": pa.array([self.seed(i) for _, _, i in rows], pa.int64()),
        }
        for f in self.design.factors:
            columns[f.name] = pa.array([arm.values[f.name] for _, arm, _ in rows], pa.float64())
        return pa.table(columns)

    def seed(self, replicate: int) -> int:
        return self.base_seed + replicate

    def describe(self) -> dict:
        """The plan as JSON for the manifest; a resumed batch must describe itself identically."""
        return {
            "replicates": self.replicates,
            "base_seed": self.base_seed,
            "seed_rule": SEED_RULE,
            "overrides": self.overrides,
            "design": self.design.describe(),
            "package_version": package_version(),
            "model_fingerprint": model_fingerprint(),
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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Recording:
    """Keeps a results directory's manifest in step with its files as runs finish.

    Shared by `haiti-sim run`, `batch` and `experiment`, so all leave the same layout behind:
    the manifest, the experiments table (one row per run, every varied value) and the runs.
    """

    def __init__(self, results: ResultsDir, plan: Plan, command: str, resume: bool = False):
        self.results, self.plan = results, plan
        description = plan.describe()
        if resume:
            try:
                manifest = results.read_manifest()
            except FileNotFoundError:
                raise BatchError(f"{results.path} holds no batch to resume (no manifest.json)"
                                 ) from None
            _check_same_plan(manifest["plan"], description)
            results.remove_partial_files()
            for run in manifest["runs"]:
                if run["status"] != "done" or not results.has_run(run["scenario"],
                                                                  run["replicate"]):
                    run.update(status="pending", error=None, traceback=None)
            manifest["resumed"] = manifest.get("resumed", []) + [_now()]
        else:
            if results.manifest_path.exists() and (
                    command != "run" or results.read_manifest()["command"] != "run"):
                raise BatchError(f"{results.path} already holds a batch; add --resume to complete "
                                 "it, or choose another --out")
            manifest = {
                "format": MANIFEST_FORMAT, "command": command, "plan": description,
                "experiments": results.experiments_path.name,
                "started": _now(), "finished": None, "status": "running",
                "runs": [{"scenario": label, "replicate": i, "seed": plan.seed(i),
                          "status": "pending", "error": None, "traceback": None}
                         for i in range(plan.replicates) for label, _ in plan.scenarios],
            }
        manifest.update(status="running", finished=None)
        self.manifest = manifest
        self.runs = {(r["scenario"], r["replicate"]): r for r in manifest["runs"]}
        results.write_experiments(plan.experiments_table())
        results.write_manifest(manifest)

    def pending(self) -> dict[int, list[str]]:
        """The scenarios still to run, by replicate."""
        todo: dict[int, list[str]] = {}
        for run in self.manifest["runs"]:
            if run["status"] != "done":
                todo.setdefault(run["replicate"], []).append(run["scenario"])
        return todo

    def count(self, status: str) -> int:
        return sum(r["status"] == status for r in self.manifest["runs"])

    def add(self, outputs: list[RunOutput]) -> None:
        for out in outputs:
            if out.ok:
                self.results.write_run(out)
            self.runs[out.scenario, out.replicate].update(
                status="done" if out.ok else "failed", error=out.error, traceback=out.traceback)
        self.results.write_manifest(self.manifest)

    def close(self, status: str | None = None) -> None:
        """Mark the batch finished (or `status`, e.g. interrupted) in the manifest."""
        if status is None:
            status = "complete" if not self.count("failed") else "complete with failures"
        self.manifest.update(status=status, finished=_now())
        self.results.write_manifest(self.manifest)


def _check_same_plan(old: dict, new: dict) -> None:
    """Refuse to resume with anything that would change results: the completed runs and the
    missing ones must come from the same scenarios, seeds and model."""
    if old == new:
        return
    if old["model_fingerprint"] != new["model_fingerprint"]:
        raise BatchError("the model's code or data changed since the batch started; its results "
                         "would mix two versions of the model: start a new batch")
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


class _InProcess(cf.Executor):
    """Runs each task at once in this process: one worker needs no pool, and errors keep their
    full tracebacks for debugging."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        future.set_result(fn(*args, **kwargs))
        return future


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
    return cf.ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
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


@contextlib.contextmanager
def _local_pool(workers: int):
    if workers == 1:
        yield _InProcess(), 1
        return
    pool = worker_pool(workers)
    try:
        yield pool, 2 * workers
    except BaseException:
        processes = list((pool._processes or {}).values())  # Python 3.14: pool.terminate_workers()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        raise
    pool.shutdown()


@contextlib.contextmanager
def _dask_executor(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise BatchError("running on a Dask cluster needs dask.distributed: "
                         "pip install 'haiti-sim[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        executor = client.get_executor(pure=False)
        try:
            yield executor, 2 * max(sum(client.nthreads().values()), 1)
        except BaseException:
            executor.shutdown(wait=False)
            raise
    finally:
        client.close()


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def run_batch(plan: Plan, out: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False,
              command: str = "batch") -> dict:
    """Run every scenario of `plan` `plan.replicates` times into the results directory `out`.

    Local processes by default (`workers`, default all cores; 1 runs in this process), or the
    Dask cluster at `scheduler`. Returns the manifest. On Ctrl-C the manifest is marked
    interrupted and KeyboardInterrupt propagates; `resume=True` completes the batch.
    """
    if workers is not None and workers < 1:
        raise BatchError(f"workers must be at least 1, got {workers}")
    backend = (_dask_executor(scheduler) if scheduler
               else _local_pool(workers or default_workers()))
    with backend as (executor, slots):
        recording = Recording(ResultsDir(out), plan, command, resume)
        done = Counter(r["scenario"] for r in recording.manifest["runs"]
                       if r["status"] == "done")
        bar = RunsBar({label: plan.replicates for label, _ in plan.scenarios}, done)
        try:
            _drain(executor, slots, plan, recording, bar)
        except KeyboardInterrupt:
            recording.close("interrupted")
            raise
        finally:
            bar.close()
    recording.close()
    return recording.manifest


def _drain(executor: cf.Executor, slots: int, plan: Plan, recording: Recording,
           bar: RunsBar) -> None:
    """Submit the pending replicates and record each as it finishes."""
    todo = deque(sorted(recording.pending().items()))
    by_label = dict(plan.scenarios)
    running: dict[cf.Future, tuple[int, list[str]]] = {}
    while todo or running:
        # A bounded window of tasks: enough to keep every worker busy while this process writes,
        # few enough that finished results never pile up in memory.
        while todo and len(running) < slots:
            replicate, labels = todo.popleft()
            if len(labels) > RUNS_PER_TASK:  # the rest goes back, as the next task
                todo.appendleft((replicate, labels[RUNS_PER_TASK:]))
                labels = labels[:RUNS_PER_TASK]
            task = tuple((label, by_label[label]) for label in labels)
            future = executor.submit(engine.run, task, plan.seed(replicate), replicate=replicate)
            running[future] = (replicate, labels)
        finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
        for future in finished:
            replicate, labels = running.pop(future)
            try:
                outputs = future.result()
            except Exception as exc:  # the worker itself died, or the cluster lost the task
                outputs = [RunOutput.failure(label, replicate, plan.seed(replicate),
                                             by_label[label].start, exc) for label in labels]
            recording.add(outputs)
            bar.update([o.scenario for o in outputs])
