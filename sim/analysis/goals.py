"""Goals: an outcome against a threshold by a date, and whether a run meets it.

A goal is what an analyst means by "gangs hold less than half of Port-au-Prince by the end of
2027": an outcome of the catalogue (`sim.model.outcomes`), below or above a threshold, judged in
one of three ways:

- `at`: on the date itself;
- `sustained`: on every one of the last `days` days up to and including the date;
- `ever`: on at least one day from the origin (a policy's branch date, where the lever starts to
  act; the start for a scenario without a branch) up to and including the date.

"Below" and "above" are strict (`<` and `>`). A stock is judged on its value at the end of each
day; a flow (killed, money spent) on its total since the origin, as `haiti-sim compare` counts
cumulative outcomes. The definitions live here, and only here, so that the target search, later
`compare` and the app read the same goal the same way; the probability of a goal over replicates
is `sim.analysis.stats.probability` of `Goal.met`.

`Goal.met` works on arrays (replicates x days of the goal's outcome, and their dates), so it reads
runs in memory and runs read back from disk alike (`ScenarioRuns.outcome` gives the array).
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import asdict, dataclass

import numpy as np

from sim.model import geography, outcomes
from sim.model.outcomes import Outcome

AT, SUSTAINED, EVER = MODES = ("at", "sustained", "ever")


class GoalError(ValueError):
    """A goal that cannot be judged as asked; `str()` is the message for the user."""


def outcome_names() -> tuple[str, ...]:
    """Every outcome a run records or the catalogue composes, by the names a goal may use."""
    recorded = outcomes.metric_names(geography.load().department_name)
    return recorded + tuple(o.name for o in outcomes.COMPOSITES)


def outcome(name: str, option: str = "--metric") -> Outcome:
    """The catalogue's outcome named `name`; a GoalError naming `option` and the outcomes (with
    a did-you-mean) if there is none."""
    known = outcome_names()
    if name not in known:
        near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise GoalError(f"{option}: no outcome is named '{name}'{hint}; the outcomes are "
                        f"{', '.join(o.name for o in outcomes.RECORDED)}, spent_usd, and per "
                        "department or road e.g. gang_population_share.Ouest, road_cut.RN1")
    return outcomes.get(name)


@dataclass(frozen=True)
class Goal:
    """`metric` below (or above) `threshold`, judged `mode` by the date `by`; `days` is the
    length of a sustained goal's window (1 for the others)."""

    metric: str
    threshold: float
    by: dt.date
    below: bool = True
    mode: str = AT
    days: int = 1

    @classmethod
    def of(cls, metric: str, threshold: float, by: dt.date, below: bool = True,
           sustained_days: int | None = None, ever: bool = False) -> Goal:
        """A checked goal: the metric is in the catalogue, a sustained window has a day or
        more, and at most one of `sustained_days` and `ever` is given."""
        outcome(metric)
        if not np.isfinite(threshold):
            raise GoalError(f"the threshold must be a number, got {threshold}")
        if sustained_days is not None and ever:
            raise GoalError("give --sustained-days D or --ever, not both")
        if sustained_days is not None:
            if sustained_days < 1:
                raise GoalError(f"--sustained-days must be 1 or more, got {sustained_days}")
            return cls(metric, float(threshold), by, below, SUSTAINED, int(sustained_days))
        return cls(metric, float(threshold), by, below, EVER if ever else AT)

    @property
    def outcome(self) -> Outcome:
        return outcomes.get(self.metric)

    @property
    def first_day(self) -> dt.date:
        """The first day of a sustained goal's window (the date itself for the others)."""
        return self.by - dt.timedelta(days=self.days - 1)

    def check(self, start: dt.date, end: dt.date, branch: dt.date | None) -> None:
        """Refuse a goal that a run from `start` to `end` (branching at `branch`) cannot judge,
        or that a policy's levers cannot change (judged wholly before the branch)."""
        if not start <= self.by <= end:
            raise GoalError(f"--by {self.by} is outside the run, which goes from {start} to "
                            f"{end}")
        if self.first_day < start:
            raise GoalError(f"--sustained-days {self.days}: the window from {self.first_day} "
                            f"to {self.by} begins before the run does ({start})")
        if branch is not None and self.by < branch:
            raise GoalError(f"--by {self.by} is before the branch date {branch}: the policy's "
                            "levers take effect from the branch and cannot change it")

    def met(self, values: np.ndarray, dates: np.ndarray, origin: dt.date) -> np.ndarray:
        """Whether each replicate meets the goal, from `values` (replicates x days of the goal's
        outcome, flows accumulated from `origin`) on `dates` (datetime64[D]); a day without a
        value (NaN) does not meet it."""
        values = np.atleast_2d(np.asarray(values, dtype=float))
        day = int((np.datetime64(self.by, "D") - dates[0]).astype(int))
        first = {AT: day, SUSTAINED: day - self.days + 1,
                 EVER: int((np.datetime64(origin, "D") - dates[0]).astype(int))}[self.mode]
        if not 0 <= max(first, 0) <= day < values.shape[1]:
            raise GoalError(f"the runs do not cover {self.first_day} to {self.by}")
        window = values[:, max(first, 0):day + 1]
        with np.errstate(invalid="ignore"):
            ok = window < self.threshold if self.below else window > self.threshold
        return ok.any(axis=1) if self.mode == EVER else ok.all(axis=1)

    def describe(self) -> str:
        """The goal in words, e.g. "Gang-held share of Port-au-Prince (area) below 50.0% on
        2027-12-31"."""
        o = self.outcome
        total = " (cumulative)" if o.flow else ""
        side = "below" if self.below else "above"
        when = {AT: f"on {self.by}",
                SUSTAINED: f"on every day from {self.first_day} to {self.by} ({self.days} days)",
                EVER: f"on some day by {self.by}"}[self.mode]
        return f"{o.label}{total} {side} {o.show(self.threshold)} {when}"

    def to_dict(self) -> dict:
        return {**asdict(self), "by": self.by.isoformat(), "description": self.describe()}
