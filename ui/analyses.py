"""Sensitivity and discovery for the app: `haiti-sim sensitivity`'s and `haiti-sim discover`'s
experiments, run on the app's runner, analysed by the command line's functions.

What runs is the command line's: the same design (`sim.running.design.morris`, `saltelli`,
`latin_hypercube` over the same factors) and the same plan (`sim.running.batch.Plan.experiment`:
the scenario at every point, replicate i with seed base + i, in point mode, stopped at `end`).
Only where the runs go differs: instead of a results directory, one job of the shared runner
(`ui.runner`), each run reduced in its worker to what the analysis needs (its outcomes on the
last day, `sensitivity.LastDay`, or whether it meets the goal, `search.MeetsGoal`), so the job
takes turns with every tab's other runs, reports its progress and stops with Stop. The indices
and PRIM's box are then `sensitivity.of_outputs` and `discover.of_cases`, the functions the
command line's `analyse` and `discover` call once they have read a directory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

from sim.analysis import discover, search, sensitivity
from sim.analysis.goals import Goal
from sim.model import outcomes
from sim.running.batch import Plan
from sim.running.design import Design
from ui.runner import Job, Runner

RUNNING, DONE, STOPPED, FAILED = "running", "done", "stopped", "failed"


@dataclass(frozen=True)
class Request:
    """One analysis as the page asks it: the scenario file, the design over `factors`, the
    replicates and base seed, the end of the runs, and for a discovery the goal."""

    path: str
    design: Design
    replicates: int
    base_seed: int
    end: object = None  # dt.date | None: the scenario's own end
    goal: Goal | None = None
    cases: str = discover.FAIL
    min_density: float = discover.MIN_DENSITY
    outcome_names: tuple[str, ...] = ()  # a sensitivity's (empty: the key outcomes)

    @property
    def kind(self) -> str:
        return "sensitivity" if self.goal is None else "discover"

    def plan(self) -> Plan:
        """The command line's plan (raises ScenarioError or BatchError for a bad setting)."""
        return Plan.experiment([self.path], self.design, self.replicates, self.base_seed, {},
                               None, self.end)


@dataclass
class AnalysisRun:
    """One analysis in a thread of the server, read by the page as it goes."""

    request: Request
    plan: Plan
    runner: Runner
    owner: Hashable | None = None
    status: str = RUNNING
    result: object = None  # sensitivity.Sensitivity | discover.Discovery
    error: str = ""
    job: Job | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def runs_total(self) -> int:
        return len(self.plan.scenarios) * self.plan.replicates

    def run_days(self) -> int:
        return self.plan.replicates * sum(s.days for _, s in self.plan.scenarios)

    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def start(self) -> AnalysisRun:
        threading.Thread(target=self._work, daemon=True, name="haiti-sim-analysis").start()
        return self

    def stop(self) -> None:
        self._stop.set()
        job = self.job
        if job is not None:
            self.runner.stop(job)

    def _origin(self):
        s = self.plan.scenarios[0][1]
        return s.branch or s.start

    def _work(self) -> None:
        q = self.request
        try:
            if q.goal is None:
                names = q.outcome_names or tuple(o.name for o in sensitivity.COMPARED)
                reduce = sensitivity.LastDay(names, self._origin())
            else:
                reduce = search.MeetsGoal(q.goal, self._origin())
            seeds = [self.plan.seed(r) for r in range(self.plan.replicates)]
            self.job = job = self.runner.submit(list(self.plan.scenarios), seeds, self.owner,
                                                None, reduce=reduce, budget=False)
            if self._stop.is_set():
                self.runner.stop(job)
            while job.running:
                time.sleep(0.05)
            if self._stop.is_set():
                self.status = STOPPED
                return
            if job.errors:
                raise RuntimeError(f"A run failed inside the model (a bug; please report it): "
                                   f"{job.errors[0]}")
            self.result = self._sensitivity(job, names) if q.goal is None else self._discover(job)
            self.status = DONE
        except Exception as exc:  # a refusal or a failed run: a message for the page
            self.error, self.status = str(exc), FAILED
        finally:
            self.finished = time.monotonic()

    def _sensitivity(self, job: Job, names: tuple[str, ...]) -> sensitivity.Sensitivity:
        wanted = [outcomes.get(n) for n in names]
        y = sensitivity.point_means(
            [[job.results[label][i] for i in range(self.plan.replicates)]
             for label, _ in self.plan.scenarios], wanted)
        return sensitivity.of_outputs(self.plan.design, y, wanted, self.plan.replicates,
                                      self._origin(), self.plan.base_seed, [], "point")

    def _discover(self, job: Job) -> discover.Discovery:
        q = self.request
        factors = [f.name for f in self.plan.design.factors]
        x, met = [], []
        for (label, _), arm in zip(self.plan.scenarios, self.plan.arms, strict=True):
            for i in range(self.plan.replicates):
                x.append([arm.values[f] for f in factors])
                met.append(bool(job.results[label][i]))
        met = np.array(met)
        y = ~met if q.cases == discover.FAIL else met
        return discover.of_cases(np.array(x, dtype=float), y, factors, q.goal, q.cases,
                                 q.min_density, [], "point")
