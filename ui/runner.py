"""Running replicates for the app: in worker processes, off the script thread, cached by content.

Why worker processes: a run is mostly Python (the GIL), so a run in a thread of the Streamlit server
would slow every tab the server answers. One pool of processes serves all sessions (the batch's
pool, `sim.running.batch.worker_pool`: workers ignore Ctrl-C, leave if the server dies and are
replaced every few tasks); jobs take turns (round robin, one replicate at a time), so a long job in
one tab does not starve another.

Stopping and limits: Stop cancels a job's running replicates too. The server writes the task's id
into a flag table shared with the workers (`CANCEL_SLOTS` integers in shared memory, given to each
worker at its start); the engine's progress callback, called every 30 simulated days, finds it
and raises `Cancelled`, a BaseException that `engine.run`'s per-run `except Exception` lets
through, so the whole task ends within a simulated month, and nothing of it is cached or
recorded as failed. A run another job still waits for is not cancelled. Each browser session may
have at most `SESSION_RUN_DAYS` simulated run-days queued or running at once (`OverBudget`).

Faults: the batch's rule (`sim.running.batch.drain`). A worker that dies (killed, out of memory)
breaks the pool and fails every task in flight; the runner starts a new pool and runs those tasks
again one at a time, alone, so the innocent finish and only a task that kills its worker a second
time is recorded as failed (`WorkerDied`). The pool's futures report to a queue read by one thread
of the runner, never by taking the runner's lock themselves: a broken pool calls them while it
holds its own lock, which a thread submitting to it under the runner's lock would wait for.

What a worker runs: one replicate of a job's scenarios, as one call of the one run function,
`sim.running.engine.run`, observing the control map monthly for the map's date slider. Scenarios
that share a history simulate it once and fork; the history at the branch is also kept (pickled)
in a bounded cache here and handed back to the engine, so moving a slider and running again only
simulates the years after the branch. This module only schedules, caches and reports progress.

Parameter uncertainty: a job may run under a posterior ensemble (`sim.running.ensemble`, the
app's default): replicate i of each of its scenarios runs under draw i with seeds[i], as in a
batch. The job applies the draws when it is made, so what it sends to the workers, and the keys
below, are the scenarios as run, drawn values included.

Caching: a run's result depends only on the resolved scenario (dates, parameters, events) and the
seed, never on its name or file (`engine.run_key` of the scenario as run, so of its draw too),
so results are cached by that key, in a least-recently-used cache bounded in bytes, shared by
every session (results are read-only once made). A cached `RunOutput` keeps the label and
replicate of the job that first ran it; jobs index their runs by their own labels and replicates
and read neither.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import datetime as dt
import itertools
import logging
import multiprocessing
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Hashable, MutableMapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from sim.model.scenario import Scenario
from sim.running import engine, levels
from sim.running.batch import WorkerDied, default_workers, worker_pool
from sim.running.ensemble import Ensemble
from sim.running.results import RunOutput

RunKey = tuple
log = logging.getLogger(__name__)
CACHE_BYTES = int(os.environ.get("HAITI_SIM_APP_CACHE_MB", "512")) * 2**20
HISTORY_ENTRIES = int(os.environ.get("HAITI_SIM_APP_HISTORIES", "60"))  # ~1.7 MB each
MAX_WORKERS = int(os.environ.get("HAITI_SIM_APP_WORKERS", "0")) or None
MONTHLY = engine.Observe(monthly_maps=True)
# A session may have at most this many simulated run-days queued or running at once (a run-day:
# one scenario simulated for one day; 50 replicates of a policy and its reference over 13 years
# is about 475,000), so one user cannot keep every worker busy for hours while others wait.
SESSION_RUN_DAYS = 500_000
CANCEL_SLOTS = 4096  # more than the tasks ever in flight (2 per worker)
REDUCED_ENTRIES = 200_000  # reduced results (a search's yes/no per run) kept for every session


def snapshot_dates(s: Scenario) -> list[dt.date]:
    """The date each map snapshot shows: the morning of that day (the last one: the end's
    evening)."""
    return [min(s.start + dt.timedelta(days=int(d)), s.end) for d in MONTHLY.snapshot_steps(s)]


def nbytes(run: RunOutput) -> int:
    """What a run holds in the cache."""
    return sum(a.nbytes for a in (run.values, run.owner_is_gang, run.snapshot_steps,
                                  run.held_bits, run.commune_share) if a is not None)


# ------------------------------------------------------------------------------ in the workers
_progress: multiprocessing.Queue | None = None
_cancelled = None  # shared with the server: slot task_id % CANCEL_SLOTS holds task_id if stopped


class Cancelled(BaseException):
    """A task stopped by the server. A BaseException: `engine.run` records an `Exception` as the
    run's failure and goes on with the next run, while this must end the whole task."""


def _init_worker(progress, cancelled=None) -> None:
    global _progress, _cancelled
    _progress, _cancelled = progress, cancelled
    # Progress is expendable, and a worker must never wait on it to exit: a sibling killed
    # while it was writing (SIGKILL, out of memory) leaves the queue's write lock held, and a
    # feeder thread waiting for that lock would hold this worker's exit, and the server's (or a
    # test run's) exit with it, forever. The runner gives each new pool a new queue (`_renew`).
    progress.cancel_join_thread()


def _check_cancelled(task_id: int) -> None:
    if _cancelled is not None and _cancelled[task_id % CANCEL_SLOTS] == task_id:
        raise Cancelled(task_id)


def simulate(task_id: int, scenarios: list[tuple[str, Scenario]], seed: int, replicate: int,
             histories: dict[Hashable, tuple[bytes, list]],
             reduce: Callable[[RunOutput], object] | None = None) -> tuple[list, dict]:
    """One replicate of the labelled scenarios by `engine.run`: (their outputs in order, the
    histories simulated here, to be cached). `histories` holds those the parent already has.
    With `reduce`, a run is observed at its end only and what comes back is `reduce(output)`
    (a failed run's output stays as it is), so a search's run sends back one answer, not its
    daily arrays."""
    have, done = set(histories), 0
    _check_cancelled(task_id)

    def report(days: int) -> None:  # called every 30 simulated days: where Stop takes effect
        nonlocal done
        done += days
        _check_cancelled(task_id)
        if _progress is not None:
            _progress.put((task_id, done))

    outputs = engine.run(scenarios, seed, replicate=replicate,
                         observe=MONTHLY if reduce is None else engine.ENDS_ONLY,
                         histories=histories, progress=report)
    if reduce is not None:
        outputs = [reduce(out) if out.ok else out for out in outputs]
    return outputs, {k: v for k, v in histories.items() if k not in have}


def failed(out) -> bool:
    """Whether a task's output is a failed run (a reduced output is a success)."""
    return isinstance(out, RunOutput) and not out.ok


def reference() -> str:
    """A short id that names one logged traceback, for the user to quote."""
    return uuid.uuid4().hex[:8]


def _message(out: RunOutput) -> str:
    """A failed run's error for the user, with a reference to its traceback, which goes to the
    server's log (a traceback shows the server's paths)."""
    ref = reference()
    log.error("run %s, seed %s failed (reference %s):\n%s", out.scenario, out.seed, ref,
              out.traceback)
    return f"{out.error} (reference {ref})"


def task_days(scenarios: list[Scenario], seed: int, have: set) -> int:
    """Simulated days a task will run, for its progress bar (`have`: the histories cached)."""
    days, seen = 0, set()
    for s in scenarios:
        if s.branch is None:
            days += s.days
            continue
        hkey = engine.history_key(s, seed)
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


def timing(seconds: float, done: int, from_cache: int) -> str:
    """How `done` finished runs came: "in 4.2 s", or "loaded from the cache" when none had to
    be simulated (a cached job finishes at once, and "in 0.0 s" read as a broken clock), or
    both. A run another job finished before this one reached it counts as cached."""
    if from_cache and from_cache >= done:
        return "loaded from the cache"
    cached = f" ({from_cache:,} loaded from the cache)" if from_cache else ""
    return f"in {seconds:.1f} s{cached}"


class Job:
    """Replicates of one or more labelled scenarios, run with seeds `seeds` and, with `ensemble`,
    under its draws (common random numbers: replicate i of every scenario uses seeds[i] and
    draw i). Results fill in as replicates finish; the job holds them, so a result evicted from
    the shared cache stays visible to its job.

    A search's job (`reduce` given) keeps `reduce(output)` of each run instead of the output
    (cached by run and reduction), `replicates` numbers its replicates (the draw each runs
    under: a search's later rounds run replicates 12, 13, ...), and its histories at the branch
    go to `histories` (the search's own store, packed), not to the shared cache, which holds
    the app's monthly-mapped ones."""

    def __init__(self, job_id: int, scenarios: list[tuple[str, Scenario]], seeds: list[int],
                 ensemble: Ensemble | None = None, replicates: list[int] | None = None,
                 reduce: Callable[[RunOutput], Hashable] | None = None,
                 histories: MutableMapping[Hashable, bytes] | None = None):
        self.id = job_id
        self.scenarios = dict(scenarios)
        self.labels = [label for label, _ in scenarios]
        self.seeds = list(seeds)
        self.ensemble = ensemble
        self.numbers = list(range(len(self.seeds)) if replicates is None else replicates)
        self.reduce = reduce
        self.histories = {} if reduce is not None and histories is None else histories
        # each replicate's scenario as run: under its draw, or as given (point mode)
        self.runs = {label: [s if ensemble is None else ensemble.apply(s, r)
                             for r in self.numbers] for label, s in scenarios}
        self.keys = {label: [self._key(s, seed) for s, seed in zip(runs, self.seeds,
                                                                   strict=True)]
                     for label, runs in self.runs.items()}
        self.results: dict[str, dict[int, object]] = {label: {} for label in self.labels}
        self.from_cache = 0  # runs of `results` found in the cache, not simulated for this job
        self.errors: list[str] = []
        self.pending = collections.deque(range(len(self.seeds)))
        self.waiting: set[tuple[str, int]] = set()  # runs another job is computing
        self.days_total: dict[int, int] = {}
        self.days_done: dict[int, int] = {}
        self.started = time.monotonic()
        self.finished: float | None = None
        self.stopped = False
        self.owner: Hashable | None = None  # the browser session that started it

    def _key(self, s: Scenario, seed: int) -> RunKey:
        key = engine.run_key(s, seed)
        return key if self.reduce is None else ("reduced", self.reduce, key)

    @property
    def run_days(self) -> int:
        """Simulated run-days still to do (an upper bound: cached histories are not counted)."""
        remaining = len(self.pending) * sum(s.days for s in self.scenarios.values())
        running = sum(max(total - self.days_done.get(t, 0), 0)
                      for t, total in self.days_total.items())
        return remaining + running

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

    def timing(self) -> str:
        return timing(self.elapsed(), self.runs_done, self.from_cache)

    def done(self, label: str) -> dict[int, RunOutput]:
        """The finished runs of `label` by replicate: a copy, taken at once (results arrive from
        another thread, and iterating over the live dict could see it grow)."""
        return self.results[label].copy()

    def replicates(self, label: str) -> list[RunOutput]:
        """The finished runs of `label`, in replicate order."""
        done = self.done(label)
        return [done[i] for i in sorted(done)]


@dataclass
class _Task:
    """One replicate of a job in the pool: its runs as (run key, label, scenario), the pool it
    went to (`generation`), and whether it is the retry of a task whose worker died."""

    job: Job
    replicate: int
    items: list[tuple[RunKey, str, Scenario]]
    generation: int = 0
    retried: bool = False


class Runner:
    """The app's process pool, shared caches and job queue (one per server process)."""

    def __init__(self, workers: int | None = None, cache_bytes: int = CACHE_BYTES,
                 histories: int = HISTORY_ENTRIES):
        self.workers = workers or MAX_WORKERS or max(1, min(default_workers(), 4))
        self.cache = LRU(cache_bytes, nbytes)
        self.reduced = LRU(REDUCED_ENTRIES)
        self.histories = LRU(histories)
        self.lock = threading.RLock()
        self.jobs: list[Job] = []
        self.ids = itertools.count(1)
        self.task_ids = itertools.count(1)
        self.inflight: dict[RunKey, list[tuple[Job, str, int]]] = {}
        self.tasks: dict[int, _Task] = {}  # submitted, or waiting in `retries`
        self.retries: collections.deque[int] = collections.deque()  # lost with a dead worker
        self.cancelled = None  # the flag table shared with the workers (see `_check_cancelled`)
        self.turn = 0
        self.pool: cf.ProcessPoolExecutor | None = None
        self.generation = 0  # how many pools a dead worker broke
        self.progress_queue = None
        self.completions: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._complete, daemon=True, name="haiti-sim-results").start()

    # -------------------------------------------------------------- pool
    def _pool(self) -> cf.ProcessPoolExecutor:
        if self.pool is None:
            context = multiprocessing.get_context("forkserver")
            if self.cancelled is None:  # kept by every pool: a retried task reads its flag
                self.cancelled = context.RawArray("q", CANCEL_SLOTS)
            if self.progress_queue is None:  # a new one after a dead worker (`_renew`)
                self.progress_queue = context.Queue()
                threading.Thread(target=self._read_progress, args=(self.progress_queue,),
                                 daemon=True, name="haiti-sim-progress").start()
            self.pool = worker_pool(self.workers, ("ui.runner",), _init_worker,
                                    (self.progress_queue, self.cancelled))
        return self.pool

    def _renew(self, generation: int) -> None:
        """Drop the pool a dead worker broke (`generation`), once: its other futures fail
        with it, and the next task starts a new one. The broken pool has already ended its
        workers and closes itself."""
        if generation == self.generation:
            self.pool = None
            self.generation += 1
            # The dead worker may have held the progress queue's write lock: the next pool gets
            # a new queue. The old queue's reader waits on it for good: a daemon thread per
            # dead worker.
            self.progress_queue = None

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
                task = self.tasks.get(task_id)
                if task is not None:
                    task.job.days_done[task_id] = days

    def _complete(self) -> None:
        """Record finished tasks, in this thread (see the module's docstring: Faults)."""
        while (item := self.completions.get()) is not None:
            try:
                self._finished(*item)
            except Exception:  # a bug here must not stop the runner recording other tasks
                log.exception("recording task %s failed", item[0])

    # -------------------------------------------------------------- jobs
    def session_run_days(self, owner: Hashable) -> int:
        """Simulated run-days the jobs of session `owner` still have to do."""
        with self.lock:
            return sum(j.run_days for j in self.jobs if j.owner == owner and j.running)

    def check_budget(self, owner: Hashable, asked: int) -> None:
        """Refuse (OverBudget) `asked` more run-days for session `owner` over SESSION_RUN_DAYS."""
        with self.lock:
            busy = self.session_run_days(owner)
            if busy + asked > SESSION_RUN_DAYS:
                raise OverBudget(asked, busy)

    def submit(self, scenarios: list[tuple[str, Scenario]], seeds: list[int],
               owner: Hashable | None = None, ensemble: Ensemble | None = None, *,
               replicates: list[int] | None = None,
               reduce: Callable[[RunOutput], Hashable] | None = None,
               histories: MutableMapping[Hashable, bytes] | None = None,
               budget: bool = True) -> Job:
        """Start a job (under the draws of `ensemble`, if given; a search's job with
        `replicates`, `reduce` and `histories`, see `Job`); runs already in the cache are filled
        in at once. A job of session `owner` that would take it over SESSION_RUN_DAYS is refused
        (OverBudget) unless `budget` is False (a search's later rounds: the search was checked
        when it started, and its jobs still count against the session's next ones); one whose
        events push a drawn value out of its range raises ScenarioError."""
        with self.lock:
            if owner is not None and budget:
                self.check_budget(owner, len(seeds) * sum(s.days for _, s in scenarios))
            job = Job(next(self.ids), scenarios, seeds, ensemble, replicates, reduce, histories)
            job.owner = owner
            for label in job.labels:
                for i in range(len(job.seeds)):
                    self._from_cache(job, label, i)
            self.jobs.append(job)
            self._pump()
            self._check_done(job)
        return job

    def stop(self, job: Job) -> None:
        """Run no more of `job`'s replicates, and cancel its running ones (they end within a
        simulated month, are not cached and count as neither done nor failed) unless another
        job waits for one of their runs."""
        with self.lock:
            job.pending.clear()
            job.stopped = True
            # stop waiting for runs other jobs compute; its own running tasks still report here
            for waiters in self.inflight.values():
                waiters[:] = [w for w in waiters
                              if w[0] is not job or (w[1], w[2]) not in job.waiting]
            job.waiting.clear()
            for task_id, task in self.tasks.items():
                wanted = any(not w.stopped for key, _, _ in task.items
                             for w, _, _ in self.inflight.get(key, []))
                if task.job is job and not wanted and self.cancelled is not None:
                    self.cancelled[task_id % CANCEL_SLOTS] = task_id
            self._check_done(job)

    def _check_done(self, job: Job) -> None:
        busy = job.pending or job.waiting or any(t.job is job for t in self.tasks.values())
        if not busy and job.finished is None:
            job.finished = time.monotonic()
            if job in self.jobs:
                self.jobs.remove(job)

    def _cache(self, job: Job) -> LRU:
        """Where `job`'s results are cached: full outputs, or a search's reduced ones."""
        return self.cache if job.reduce is None else self.reduced

    def _from_cache(self, job: Job, label: str, i: int) -> bool:
        """Fill in run i of `label` from the cache if it is there (counted in
        `job.from_cache`)."""
        hit = self._cache(job).get(job.keys[label][i])
        if hit is not None:
            job.results[label][i] = hit
            job.from_cache += 1
        return hit is not None

    def _next_task(self) -> tuple[Job, int, list[tuple[RunKey, str, Scenario]]] | None:
        """The next replicate to run, as (run key, label, scenario) of each run, taking jobs in
        turn; runs cached or being computed for another job are not run twice."""
        candidates = [j for j in self.jobs if j.pending]
        while candidates:
            job = candidates[self.turn % len(candidates)]
            self.turn += 1
            i = job.pending.popleft()
            items = []
            for label in job.labels:
                if i in job.results[label] or self._from_cache(job, label, i):
                    continue
                key = job.keys[label][i]
                if key in self.inflight:
                    self.inflight[key].append((job, label, i))
                    job.waiting.add((label, i))
                elif key not in {k for k, _, _ in items}:
                    items.append((key, label, job.runs[label][i]))
            if items:
                return job, i, items
            self._check_done(job)
            candidates = [j for j in self.jobs if j.pending]
        return None

    def _pump(self) -> None:
        """Keep two tasks per worker in the pool; after a worker died, run its lost tasks
        again one at a time, alone, before anything else."""
        while True:
            running = [t for i, t in self.tasks.items() if i not in self.retries]
            if self.retries or any(t.retried for t in running):
                if running:
                    return
                self._submit(self.retries.popleft(), retried=True)
                continue
            if len(running) >= 2 * self.workers:
                return
            task = self._next_task()
            if task is None:
                return
            job, i, items = task
            for key, _, _ in items:
                self.inflight[key] = [(job, label, i) for label in job.labels
                                      if job.keys[label][i] == key]
            task_id = next(self.task_ids)
            self.tasks[task_id] = _Task(job, i, items)
            self._submit(task_id)

    def _submit(self, task_id: int, retried: bool = False) -> None:
        task = self.tasks[task_id]
        task.retried = retried
        job = task.job
        seed = job.seeds[task.replicate]
        scenarios = [(label, s) for _, label, s in task.items]
        hkeys = {engine.history_key(s, seed) for _, s in scenarios if s.branch is not None}
        have = {h: self._history(job, h) for h in hkeys}
        have = {h: v for h, v in have.items() if v is not None}
        job.days_total[task_id] = task_days([s for _, s in scenarios], seed, set(have))
        job.days_done.pop(task_id, None)
        args = (simulate, task_id, scenarios, seed, job.numbers[task.replicate], have,
                job.reduce)
        try:
            try:
                future = self._pool().submit(*args)
            except BrokenProcessPool:  # broken before its futures reported: a new pool
                self._renew(self.generation)
                future = self._pool().submit(*args)
        except Exception as exc:  # no pool can start (recorded as the task's failure)
            self._renew(self.generation)
            future = cf.Future()
            future.set_exception(exc)
        task.generation = self.generation
        future.add_done_callback(lambda f, t=task_id: self.completions.put((t, f)))

    def _history(self, job: Job, key: Hashable) -> tuple[bytes, list] | None:
        """A history at the branch for `job`: its own (a search's), else the shared one (a
        search may start from a history with monthly maps; it observes nothing before the
        branch, so the maps do not change its runs)."""
        if job.histories is not None and key in job.histories:
            return levels.unpack(job.histories[key])
        return self.histories.get(key)

    def _finished(self, task_id: int, future: cf.Future) -> None:
        with self.lock:
            task = self.tasks[task_id]
            seed = task.job.seeds[task.replicate]
            try:
                outputs, made = future.result()
            except Cancelled:
                self._cancelled(task_id)
                return
            except BrokenProcessPool:  # a worker died (killed, out of memory, a crash)
                self._renew(task.generation)
                if not task.retried:
                    self.retries.append(task_id)
                    self._pump()
                    return
                outputs, made = self._failures(task, seed, WorkerDied()), {}
            except Exception as exc:  # the task could not start, or its result not be read
                outputs, made = self._failures(task, seed, exc), {}
            job = self._forget(task_id)
            for hkey, history in made.items():
                if job.histories is None:
                    self.histories.put(hkey, history)
                else:  # a search's: made without the maps the shared ones carry
                    job.histories[hkey] = levels.pack(history)
            touched = {job}
            for (key, _, _), out in zip(task.items, outputs, strict=True):
                if not failed(out):
                    self._cache(job).put(key, out)
                for waiter, label, i in self.inflight.pop(key, []):
                    touched.add(waiter)
                    waiter.waiting.discard((label, i))
                    if not failed(out):
                        waiter.results[label][i] = out
                    else:
                        waiter.errors.append(f"{label}, seed {waiter.seeds[i]}: {_message(out)}")
            self._pump()
            for j in touched:
                self._check_done(j)

    @staticmethod
    def _failures(task: _Task, seed: int, exc: BaseException) -> list[RunOutput]:
        return [RunOutput.failure(label, task.replicate, seed, s.start, exc)
                for _, label, s in task.items]

    def _forget(self, task_id: int) -> Job:
        job = self.tasks.pop(task_id).job
        job.days_done.pop(task_id, None)
        job.days_total.pop(task_id, None)
        return job

    def _cancelled(self, task_id: int) -> None:
        """A stopped task: nothing cached or recorded; a job that began waiting for one of its
        runs after the stop runs that replicate itself."""
        with self.lock:
            items = self.tasks[task_id].items
            job = self._forget(task_id)
            touched = {job}
            for key, _, _ in items:
                for waiter, label, i in self.inflight.pop(key, []):
                    touched.add(waiter)
                    waiter.waiting.discard((label, i))
                    if not waiter.stopped and i not in waiter.pending:
                        waiter.pending.appendleft(i)
            self._pump()
            for j in touched:
                self._check_done(j)


class OverBudget(Exception):
    """A session asked for more simulated run-days at once than SESSION_RUN_DAYS."""

    def __init__(self, asked: int, busy: int):
        self.asked, self.busy = asked, busy
        super().__init__(
            f"This run would simulate {asked:,} run-days (replicates × scenarios × days), and "
            f"this session's runs still have {busy:,} to do: each session may have at most "
            f"{SESSION_RUN_DAYS:,} queued at once, so that one user does not keep the others "
            f"waiting. Stop a run, or choose fewer replicates or a shorter horizon.")


def shutdown(runner: Runner) -> None:
    if runner.pool is not None:
        runner.pool.shutdown(wait=False, cancel_futures=True)
    runner.completions.put(None)  # ends the thread that records finished tasks


def wait(job: Job, timeout: float = 120.0) -> Job:
    """Block until `job` finishes (for tests and scripts; the app polls instead)."""
    deadline = time.monotonic() + timeout
    while job.running:
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job.id} still running after {timeout} s")
        time.sleep(0.05)
    return job

