"""The target search for the app: `haiti-sim target`'s search, run on the app's runner.

What runs is the command line's: `sim.analysis.search.search` decides which lever values and
replicates to run, `sim.analysis.search.MeetsGoal` (a `sim.analysis.goals.Goal`) reduces each run
to whether it meets the goal, and the runs are `sim.running.levels.lever_scenarios` of the
scenario, stopped at the goal's date, replicate r with seed base + r under draw r of the
posterior. Only the scheduling differs: `search.search` runs in a thread of the server, and its
`evaluate(levels, replicates)` submits those runs as one job of the shared runner (`ui.runner`),
so they take turns with every tab's other runs, report their progress and stop with Stop
(which ends the running replicates within a simulated month and the search at once). The
histories at the branch stay with the search (packed, about 0.45 MB a replicate) for its later
rounds; what each run says is cached by the runner, so asking again with another probability or
precision reruns only what is new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

from sim.analysis import search
from sim.analysis.goals import Goal
from sim.model.scenario import Scenario
from sim.running import levels
from sim.running.ensemble import Ensemble
from ui.runner import Job, Runner, timing

RUNNING, DONE, STOPPED, FAILED = "running", "done", "stopped", "failed"


class Stopped(Exception):
    """Raised inside the search's thread when the user pressed Stop."""


@dataclass(frozen=True)
class Question:
    """What the page asks: the smallest value of the lever of `line` (moving its other levers
    with it) for which `goal` is met with at least `probability`, in `scenario` (as resolved,
    with the user's settings), searched as `settings` says (its `seed` is the bootstrap's;
    replicate r runs with `base_seed + r`)."""

    scenario: Scenario
    line: search.Line
    goal: Goal
    probability: float
    settings: search.Settings
    base_seed: int

    @property
    def lever(self) -> str:
        return self.line.lever

    @property
    def low(self) -> float:
        return self.line.low

    @property
    def high(self) -> float:
        return self.line.high

    @property
    def runs_to(self) -> Scenario:
        """The scenario as run: nothing after the goal's date can change whether it is met."""
        return dataclasses.replace(self.scenario, end=self.goal.by)

    @property
    def origin(self) -> dt.date:
        return self.scenario.branch or self.scenario.start

    def first_round_days(self) -> int:
        """Simulated run-days of the first round (what the session's budget is checked for)."""
        return self.settings.first_levels * self.settings.first_replicates * self.runs_to.days


@dataclass
class TargetRun:
    """One search in a thread of the server: its state, read by the page as it goes."""

    question: Question
    runner: Runner
    owner: Hashable | None = None
    ensemble: Ensemble | None = None
    status: str = RUNNING
    result: search.Search | None = None
    error: str = ""
    estimate: search.Estimate | None = None  # the last round's fit
    rounds: int = 0
    tally: dict[float, list[int]] = field(default_factory=dict)  # level -> [met, runs]
    runs_done: int = 0  # of the rounds finished
    from_cache: int = 0  # of those, found in the cache
    job: Job | None = None  # the round running
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    histories: dict = field(default_factory=dict, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self) -> TargetRun:
        threading.Thread(target=self._search, daemon=True, name="haiti-sim-target").start()
        return self

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def timing(self) -> str:
        return timing(self.elapsed(), self.runs(), self.from_cache)

    def runs(self) -> int:
        """Runs done so far, the round running included."""
        job = self.job
        return self.runs_done + (job.runs_done if job is not None and job.running else 0)

    def points(self) -> list[search.Point]:
        """The curve's points so far (each lever value: replicates meeting the goal, of how
        many run), as the search's result holds them at the end."""
        if self.result is not None:
            return list(self.result.points)
        with self._lock:
            return [search.Point(level, met, n) for level, (met, n) in sorted(self.tally.items())]

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            job = self.job
        if job is not None:
            self.runner.stop(job)

    # ------------------------------------------------------------------ in the thread
    def _search(self) -> None:
        q = self.question
        try:
            self.result = search.search(self._evaluate, q.low, q.high, q.probability,
                                        q.settings, self._on_round)
            self.status = DONE
        except Stopped:
            self.status = STOPPED
        except Exception as exc:  # a refusal or a failed run: a message for the page
            self.error, self.status = str(exc), FAILED
        finally:
            self.job, self.histories = None, {}
            self.finished = time.monotonic()

    def _on_round(self, round_: int, estimate: search.Estimate) -> None:
        self.rounds, self.estimate = round_, estimate

    def _evaluate(self, values: np.ndarray, replicates: np.ndarray) -> np.ndarray:
        q = self.question
        scenarios = levels.lever_scenarios(q.runs_to, [q.line.values(v) for v in values])
        numbers = [int(r) for r in replicates]
        with self._lock:
            if self._stop.is_set():
                raise Stopped
            self.job = job = self.runner.submit(
                scenarios, [q.base_seed + r for r in numbers], self.owner, self.ensemble,
                replicates=numbers, reduce=search.MeetsGoal(q.goal, q.origin),
                histories=self.histories, budget=False)
        while job.running:
            time.sleep(0.05)
        if self._stop.is_set():
            raise Stopped
        if job.errors:
            raise levels.RunFailed(f"A run failed inside the model (a bug; please report it): "
                                   f"{job.errors[0]}")
        met = np.array([[bool(job.results[label][i]) for label, _ in scenarios]
                        for i in range(len(numbers))], dtype=bool).reshape(len(numbers),
                                                                           len(scenarios))
        with self._lock:
            for k, value in enumerate(values):
                tally = self.tally.setdefault(float(value), [0, 0])
                tally[0] += int(met[:, k].sum())
                tally[1] += len(numbers)
            self.runs_done += job.runs_total
            self.from_cache += job.from_cache
        return met
