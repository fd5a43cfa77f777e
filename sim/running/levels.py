"""One scenario at many values of one lever, replicate by replicate, on the batch's worker pool.

What the target search evaluates (`sim.analysis.search`): `lever_runs(...)` gives
`evaluate(levels, replicates)`, which runs the scenario at every lever value for every replicate
and returns what `reduce` makes of each run (whether it meets a goal), as a replicates x levels
array. A value of the lever is a point: the values of every parameter it sets (`values(level)`),
so other levers can move with it along a line (`sim.analysis.search.Line`).

Each replicate is one task, one call of the one run function, `sim.running.engine.run`, with every
value of the lever as a scenario: they share their history up to the branch date (the lever takes
effect there), which is simulated once, and fork at the branch. Replicate r runs with seed
`base_seed + r` at every value, as in a batch (common random numbers). `reduce` runs in the worker,
so only its result travels back, never a run's daily arrays. Runs are not written to disk: the
search keeps what `reduce` returns.

A search comes back to a replicate in later rounds, at other values. The first task of a
replicate also returns its history at the branch (the model pickled there, compressed: about
0.45 MB), which this process keeps and sends with the replicate's later tasks, so each history is
simulated once per search (`engine.run`'s `histories`): a later visit costs only its forks
(about 0.12 s per value for two years after the branch, instead of 0.2 s more for the
2023-2025 history). 256 replicates keep about 115 MB here.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import pickle
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from sim.model.scenario import Scenario
from sim.running import batch, engine
from sim.running.ensemble import Ensemble
from sim.running.results import RunOutput


class RunFailed(RuntimeError):
    """A run raised inside the model (a bug); the message holds its traceback."""


def run_replicate(scenario: Scenario, points: Sequence[dict[str, float]], seed: int,
                  replicate: int, reduce: Callable[[RunOutput], object],
                  history: bytes | None = None,
                  ensemble: Ensemble | None = None) -> tuple[list, bytes | None]:
    """Run `scenario` once with `seed` at each point (the values of the lever and of the levers
    moved with it): (`reduce` of each run, the history at the branch, packed, if this call
    simulated it). `history` is one packed by an earlier call for the same replicate, to start
    from instead of simulating it again. With `ensemble`, every value runs under the
    replicate's posterior draw (as in a batch)."""
    task = lever_scenarios(scenario, points)
    histories: dict = {}
    first = task[0][1] if ensemble is None else ensemble.apply(task[0][1], replicate)
    key = engine.history_key(first, seed) if scenario.branch is not None else None
    if history is not None and key is not None:
        histories[key] = unpack(history)
    outputs = engine.run(task, seed, replicate=replicate, ensemble=ensemble,
                         histories=histories)
    for out in outputs:
        if not out.ok:
            raise RunFailed(f"{out.scenario}, replicate {replicate} (seed {seed}):\n"
                            f"{out.traceback}")
    packed = None
    if history is None and key in histories:
        packed = pack(histories[key])
    return [reduce(out) for out in outputs], packed


def lever_scenarios(scenario: Scenario,
                    points: Sequence[dict[str, float]]) -> list[tuple[str, Scenario]]:
    """`scenario` at each point, labelled NAME=VALUE by its first parameter (the lever
    searched; the others follow it): the scenarios of one replicate (here and in the app's
    runner, which schedules the same runs in its own pool)."""
    return [(f"{next(iter(point))}={next(iter(point.values())):.10g}",
             scenario.with_overrides(point)) for point in points]


def pack(history: tuple[bytes, list]) -> bytes:
    """A history at the branch (`engine.run`'s `histories` value), compressed to keep."""
    return zlib.compress(pickle.dumps(history, pickle.HIGHEST_PROTOCOL), 1)


def unpack(packed: bytes) -> tuple[bytes, list]:
    return pickle.loads(zlib.decompress(packed))  # noqa: S301 - made by this program's runs


@contextlib.contextmanager
def lever_runs(scenario: Scenario, values: Callable[[float], dict[str, float]],
               reduce: Callable[[RunOutput], object], base_seed: int,
               workers: int | None = None, progress=None, ensemble: Ensemble | None = None):
    """`evaluate(levels, replicates)` for the search, while the worker pool is open (local
    processes, `workers` at most the cores; 1 runs in this process); `values(level)` is the
    point a lever value sets (`Line.values`). `progress`, if given, is told of runs planned
    (`plan(runs)`) and done (`done(runs)`). Replicate r runs under draw r of `ensemble` (None:
    point mode)."""
    with batch.backend(workers) as (pool, slots, _):  # stops its workers on any exception
        yield _Evaluate(pool, scenario, values, reduce, base_seed, progress, slots,
                        ensemble=ensemble)


@dataclass
class _Evaluate:
    pool: cf.Executor
    scenario: Scenario
    values: Callable[[float], dict[str, float]]
    reduce: Callable[[RunOutput], object]
    base_seed: int
    progress: object = None
    slots: int = 1
    ensemble: Ensemble | None = None
    histories: dict[int, bytes] = field(default_factory=dict)  # replicate -> packed history

    def __call__(self, levels: np.ndarray, replicates: np.ndarray) -> np.ndarray:
        if self.progress is not None:
            self.progress.plan(len(levels) * len(replicates))
        out = np.empty((len(replicates), len(levels)), dtype=object)
        todo = list(enumerate(replicates))[::-1]
        running: dict[cf.Future, int] = {}
        try:
            # A bounded window of tasks, as a batch keeps: a pool that replaces its workers
            # (max_tasks_per_child) can hang with many tasks queued at once.
            while todo or running:
                while todo and len(running) < self.slots:
                    k, r = todo.pop()
                    running[self.pool.submit(run_replicate, self.scenario,
                                             [self.values(lv) for lv in levels],
                                             self.base_seed + int(r), int(r),
                                             self.reduce, self.histories.get(int(r)),
                                             self.ensemble)] = k
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    k = running.pop(future)
                    out[k], packed = future.result()
                    if packed is not None:
                        self.histories[int(replicates[k])] = packed
                    if self.progress is not None:
                        self.progress.done(len(levels))
        except BrokenProcessPool:
            raise RunFailed("a worker process died (killed, out of memory, or a crash)"
                            ) from None
        return out
