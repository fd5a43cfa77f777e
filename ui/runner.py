"""Running replicates for the app: in worker processes, off the script thread, cached by content.

Why worker processes: a run is mostly Python (the GIL), so a run in a thread of the Streamlit server
would slow every tab the server answers. One pool of processes serves all sessions; jobs take turns
(round robin, one replicate at a time), so a long job in one tab does not starve another.

Why one task per replicate: the scenarios of a job that share a history (policy scenarios
branching from `history.yaml`, same seed) simulate it once and fork, as
`sim.running.batch.run_replicate`
does; the history at the branch is also kept (pickled) in a bounded cache, so moving a slider and
running again only simulates the years after the branch.

Why the app does not use `run_replicate` itself: the map's date slider needs the control map every
month, and a `RunOutput` holds only the last day's. `simulate` is a thin adapter that records those
snapshots (see the report to sim/ owners: a snapshot option there would remove it).

Caching: a run's result depends only on the resolved scenario (dates, parameters, events) and the
seed, never on its name or file, so results are cached by that key, in a least-recently-used cache
bounded in bytes, shared by every session (results are read-only once made).
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import dataclasses
import datetime as dt
import itertools
import multiprocessing
import os
import pickle
import threading
import time
import traceback
from collections.abc import Hashable

import numpy as np

from sim.model.scenario import Scenario
from sim.running.batch import default_workers
from sim.running.engine import history_key

RunKey = tuple
CACHE_BYTES = int(os.environ.get("HAITI_SIM_APP_CACHE_MB", "512")) * 2**20
HISTORY_ENTRIES = int(os.environ.get("HAITI_SIM_APP_HISTORIES", "60"))  # ~1.7 MB each
MAX_WORKERS = int(os.environ.get("HAITI_SIM_APP_WORKERS", "0")) or None


def run_key(s: Scenario, seed: int) -> RunKey:
    """What a run's results depend on: not the scenario's name, description, file or notes."""
    return (s.start, s.end, s.branch, tuple(sorted(s.parameters.items())),
            tuple((e.date, e.name, e.op, e.value) for e in s.events), seed)


def snapshot_steps(s: Scenario) -> np.ndarray:
    """Simulated days done at each map snapshot: the start, the first of every month, the end."""
    steps = {0, s.days}
    month = dt.date(s.start.year, s.start.month, 1)
    while month <= s.end:
        steps.add((month - s.start).days)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return np.array(sorted(d for d in steps if 0 <= d <= s.days))


def snapshot_dates(s: Scenario) -> list[dt.date]:
    """The date each snapshot shows: the morning of that day (the last one: the end's evening)."""
    return [min(s.start + dt.timedelta(days=int(d)), s.end) for d in snapshot_steps(s)]


@dataclasses.dataclass(frozen=True, eq=False)
class RunResult:
    """One run, compactly: the daily outcomes and the control map every month."""

    seed: int
    start: dt.date
    metrics: tuple[str, ...]
    values: np.ndarray  # days x metrics, as the model's Recorder
    held_bits: np.ndarray  # snapshots x packed cells: the cell is gang-held
    commune_share: np.ndarray  # snapshots x communes: share of residents under gang control
    n_cells: int

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.held_bits.nbytes + self.commune_share.nbytes

    def series(self, name: str) -> np.ndarray:
        return self.values[:, self.metrics.index(name)]

    def held(self) -> np.ndarray:
        """Snapshots x cells, True where a gang holds the cell."""
        return np.unpackbits(self.held_bits, axis=1, count=self.n_cells).astype(bool)


# ------------------------------------------------------------------------------ in the workers
_progress: multiprocessing.Queue | None = None


def _init_worker(progress) -> None:
    global _progress
    _progress = progress


def _observe(model) -> tuple[np.ndarray, np.ndarray]:
    geo, cells = model.geo, model.cells
    held = cells.owner >= 0
    n = len(geo.commune_name)
    residents = np.bincount(geo.commune, cells.residents, minlength=n)
    under = np.bincount(geo.commune, cells.residents * held, minlength=n)
    return np.packbits(held), (under / np.maximum(residents, 1e-9)).astype(np.float32)


def _advance(model, s: Scenario, last_step: int, snaps: list, report) -> None:
    """Run `model` to `last_step` days done, taking the snapshots due on the way; `snaps` holds
    the ones already taken (a history's), one per snapshot step, in order."""
    steps = [int(d) for d in snapshot_steps(s) if d <= last_step]
    for step in steps[len(snaps):]:
        if step > model.steps:
            before = model.steps
            model.run(until=s.start + dt.timedelta(days=step))
            report(model.steps - before)
        snaps.append(_observe(model))


def simulate(task_id: int, items: list[tuple[RunKey, Scenario]], seed: int,
             histories: dict[Hashable, tuple[bytes, list]]) -> tuple[dict, dict]:
    """Run one replicate of several scenarios; return ({key: RunResult or error}, new histories).

    `histories` holds pickled models at the branch date (with the snapshots taken before it) for
    the history keys the parent already has; the ones simulated here are returned to be cached.
    """
    from sim.model.world import HaitiModel  # in the worker only: the parent never builds a model

    groups: dict[Hashable, list[tuple[RunKey, Scenario]]] = {}
    for key, s in items:
        hkey = history_key(s, seed) if s.branch is not None else key
        groups.setdefault(hkey, []).append((key, s))
    results, made = {}, {}
    done = 0

    def report(days: int) -> None:
        nonlocal done
        done += days
        if _progress is not None:
            _progress.put((task_id, done))

    for hkey, group in groups.items():
        first = group[0][1]
        try:
            if first.branch is None:
                base, snaps = HaitiModel(first, seed), []
            elif hkey in histories:
                blob, snaps = histories[hkey]
                base = pickle.loads(blob)  # noqa: S301 - made by this program's own workers
            else:
                base, snaps = HaitiModel(first, seed), []
                _advance(base, first, (first.branch - first.start).days, snaps, report)
                made[hkey] = (pickle.dumps(base, protocol=pickle.HIGHEST_PROTOCOL), list(snaps))
        except Exception as exc:  # a bug in the model: shown to the user, the job goes on
            for key, _ in group:
                results[key] = _error(exc)
            continue
        for key, s in group:
            try:
                model = base.fork(s) if s.branch is not None else base
                own = list(snaps)
                _advance(model, s, s.days, own, report)
                results[key] = RunResult(
                    seed, s.start, tuple(model.recorder.names), model.recorder.values,
                    np.stack([h for h, _ in own]), np.stack([c for _, c in own]),
                    model.geo.n_cells)
            except Exception as exc:
                results[key] = _error(exc)
    return results, made


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-3:])


def task_days(items: list[tuple[RunKey, Scenario]], seed: int, have: set) -> int:
    """Simulated days a task will run, for its progress bar."""
    days, seen = 0, set()
    for _, s in items:
        if s.branch is None:
            days += s.days
            continue
        hkey = history_key(s, seed)
        split = (s.branch - s.start).days
        if hkey not in have and hkey not in seen:
            days += split
        seen.add(hkey)
        days += s.days - split
    return max(days, 1)


# ------------------------------------------------------------------------------ in the server
class LRU:
    """A thread-safe least-recently-used mapping bounded by total size (`size(value)`)."""

    def __init__(self, capacity: int, size=lambda value: 1):
        self.capacity, self.size = capacity, size
        self.data: collections.OrderedDict = collections.OrderedDict()
        self.used = 0
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            if key not in self.data:
                return None
            self.data.move_to_end(key)
            return self.data[key]

    def __contains__(self, key) -> bool:
        with self.lock:
            return key in self.data

    def put(self, key, value) -> None:
        with self.lock:
            if key in self.data:
                self.used -= self.size(self.data.pop(key))
            self.data[key] = value
            self.used += self.size(value)
            while self.used > self.capacity and len(self.data) > 1:
                _, old = self.data.popitem(last=False)
                self.used -= self.size(old)

    def __len__(self) -> int:
        return len(self.data)


class Job:
    """Replicates of one or more labelled scenarios, run with seeds `seeds` (common random
    numbers: replicate i of every scenario uses seeds[i]). Results fill in as replicates finish;
    the job holds them, so a result evicted from the shared cache stays visible to its job."""

    def __init__(self, job_id: int, scenarios: list[tuple[str, Scenario]], seeds: list[int]):
        self.id = job_id
        self.scenarios = dict(scenarios)
        self.labels = [label for label, _ in scenarios]
        self.seeds = list(seeds)
        self.keys = {label: [run_key(s, seed) for seed in self.seeds] for label, s in scenarios}
        self.results: dict[str, dict[int, RunResult]] = {label: {} for label in self.labels}
        self.errors: list[str] = []
        self.pending = collections.deque(range(len(self.seeds)))
        self.waiting: set[tuple[str, int]] = set()  # runs another job is computing
        self.days_total: dict[int, int] = {}
        self.days_done: dict[int, int] = {}
        self.started = time.monotonic()
        self.finished: float | None = None
        self.stopped = False

    @property
    def runs_total(self) -> int:
        return len(self.labels) * len(self.seeds)

    @property
    def runs_done(self) -> int:
        return sum(len(r) for r in self.results.values()) + len(self.errors)

    @property
    def running(self) -> bool:
        return self.finished is None

    def progress(self) -> float:
        """Share of the job's runs done, counting the running replicates' simulated days."""
        total = self.runs_total
        if not total:
            return 1.0
        partial = sum(min(self.days_done.get(t, 0) / d, 0.99) * len(self.labels)
                      for t, d in self.days_total.items())
        return min((self.runs_done + partial) / total, 1.0)

    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def done(self, label: str) -> dict[int, RunResult]:
        """The finished runs of `label` by replicate: a copy, taken at once (results arrive from
        another thread, and iterating over the live dict could see it grow)."""
        return self.results[label].copy()

    def replicates(self, label: str) -> list[RunResult]:
        """The finished runs of `label`, in replicate order."""
        done = self.done(label)
        return [done[i] for i in sorted(done)]


class Runner:
    """The app's process pool, shared caches and job queue (one per server process)."""

    def __init__(self, workers: int | None = None, cache_bytes: int = CACHE_BYTES,
                 histories: int = HISTORY_ENTRIES):
        self.workers = workers or MAX_WORKERS or max(1, min(default_workers(), 4))
        self.cache = LRU(cache_bytes, lambda r: r.nbytes if isinstance(r, RunResult) else 1000)
        self.histories = LRU(histories)
        self.lock = threading.RLock()
        self.jobs: list[Job] = []
        self.ids = itertools.count(1)
        self.task_ids = itertools.count(1)
        self.inflight: dict[RunKey, list[tuple[Job, str, int]]] = {}
        self.tasks: dict[int, Job] = {}
        self.turn = 0
        self.pool: cf.ProcessPoolExecutor | None = None
        self.progress_queue = None

    # -------------------------------------------------------------- pool
    def _pool(self) -> cf.ProcessPoolExecutor:
        if self.pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["sim.running.worker", "ui.runner"])
            self.progress_queue = context.Queue()
            self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=context,
                                               initializer=_init_worker,
                                               initargs=(self.progress_queue,))
            threading.Thread(target=self._read_progress, args=(self.progress_queue,),
                             daemon=True, name="haiti-sim-progress").start()
        return self.pool

    def warm_up(self) -> None:
        """Start the workers now (loading the model takes a few seconds, and compiling it some
        twenty more the first time after an install) so the first run does not wait for them."""
        with self.lock:
            pool = self._pool()
        for _ in range(self.workers):
            pool.submit(time.sleep, 0)

    def _read_progress(self, progress) -> None:
        while True:
            try:
                task_id, days = progress.get()
            except (EOFError, OSError, ValueError):
                return
            with self.lock:
                job = self.tasks.get(task_id)
                if job is not None:
                    job.days_done[task_id] = days

    # -------------------------------------------------------------- jobs
    def submit(self, scenarios: list[tuple[str, Scenario]], seeds: list[int]) -> Job:
        """Start a job; runs already in the cache are filled in at once."""
        with self.lock:
            job = Job(next(self.ids), scenarios, seeds)
            for label in job.labels:
                for i, key in enumerate(job.keys[label]):
                    hit = self.cache.get(key)
                    if isinstance(hit, RunResult):
                        job.results[label][i] = hit
            self.jobs.append(job)
            self._pump()
            self._check_done(job)
        return job

    def stop(self, job: Job) -> None:
        """Run no more of `job`'s replicates (the running ones finish and are cached)."""
        with self.lock:
            job.pending.clear()
            job.stopped = True
            # stop waiting for runs other jobs compute; its own running tasks still report here
            for waiters in self.inflight.values():
                waiters[:] = [w for w in waiters
                              if w[0] is not job or (w[1], w[2]) not in job.waiting]
            job.waiting.clear()
            self._check_done(job)

    def _check_done(self, job: Job) -> None:
        busy = job.pending or job.waiting or job.id in {j.id for j in self.tasks.values()}
        if not busy and job.finished is None:
            job.finished = time.monotonic()
            if job in self.jobs:
                self.jobs.remove(job)

    def _next_task(self) -> tuple[Job, int, list] | None:
        """The next replicate to run, taking jobs in turn; runs cached or being computed for
        another job are not run twice."""
        candidates = [j for j in self.jobs if j.pending]
        while candidates:
            job = candidates[self.turn % len(candidates)]
            self.turn += 1
            i = job.pending.popleft()
            items = []
            for label in job.labels:
                if i in job.results[label]:
                    continue
                key = job.keys[label][i]
                hit = self.cache.get(key)
                if isinstance(hit, RunResult):
                    job.results[label][i] = hit
                elif key in self.inflight:
                    self.inflight[key].append((job, label, i))
                    job.waiting.add((label, i))
                elif key not in {k for k, _ in items}:
                    items.append((key, job.scenarios[label]))
            if items:
                return job, i, items
            self._check_done(job)
            candidates = [j for j in self.jobs if j.pending]
        return None

    def _pump(self) -> None:
        while len(self.tasks) < 2 * self.workers:
            task = self._next_task()
            if task is None:
                return
            job, i, items = task
            seed = job.seeds[i]
            for key, _ in items:
                self.inflight[key] = [(job, label, i) for label in job.labels
                                      if job.keys[label][i] == key]
            hkeys = {history_key(s, seed) for _, s in items if s.branch is not None}
            have = {h: self.histories.get(h) for h in hkeys}
            have = {h: v for h, v in have.items() if v is not None}
            task_id = next(self.task_ids)
            self.tasks[task_id] = job
            job.days_total[task_id] = task_days(items, seed, set(have))
            try:
                future = self._pool().submit(simulate, task_id, items, seed, have)
            except Exception as exc:  # the pool is broken (a worker was killed): start anew
                self.pool = None
                future = cf.Future()
                future.set_exception(exc)
            future.add_done_callback(
                lambda f, t=task_id, it=items: self._finished(t, it, f))

    def _finished(self, task_id: int, items: list, future: cf.Future) -> None:
        try:
            results, made = future.result()
        except Exception as exc:  # the worker died (out of memory, killed)
            if isinstance(exc, cf.process.BrokenProcessPool):
                with self.lock:
                    self.pool = None
            results, made = {key: _error(exc) for key, _ in items}, {}
        with self.lock:
            job = self.tasks.pop(task_id)
            job.days_done.pop(task_id, None)
            job.days_total.pop(task_id, None)
            for hkey, history in made.items():
                self.histories.put(hkey, history)
            touched = {job}
            for key, _ in items:
                result = results[key]
                if isinstance(result, RunResult):
                    self.cache.put(key, result)
                for waiter, label, i in self.inflight.pop(key, []):
                    touched.add(waiter)
                    waiter.waiting.discard((label, i))
                    if isinstance(result, RunResult):
                        waiter.results[label][i] = result
                    else:
                        waiter.errors.append(f"{label}, seed {waiter.seeds[i]}: {result}")
            self._pump()
            for j in touched:
                self._check_done(j)


def shutdown(runner: Runner) -> None:
    if runner.pool is not None:
        runner.pool.shutdown(wait=False, cancel_futures=True)


def wait(job: Job, timeout: float = 120.0) -> Job:
    """Block until `job` finishes (for tests and scripts; the app polls instead)."""
    deadline = time.monotonic() + timeout
    while job.running:
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job.id} still running after {timeout} s")
        time.sleep(0.05)
    return job

