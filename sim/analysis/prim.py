"""PRIM, the Patient Rule Induction Method: the box of parameter values where the cases of interest
concentrate (Friedman and Fisher 1999, "Bump hunting in high-dimensional data"), as scenario
discovery uses it (Bryant and Lempert 2010) to say "the policy fails when ...".

Given points `x` (one row per run, one column per varied parameter) and a yes/no `y` per run (a
case of interest: the goal is not met, say), PRIM starts from the box that holds every point and

- peels: of the 2k candidate boxes that cut off the `alpha` share (5%) of the box's points below
  or above along one of the k dimensions, it keeps the one whose density (share of cases of
  interest in the box) gains most per point removed (the "lenient" objective of sdtoolkit and the
  EMA Workbench, which does not favour peeling a few points of a coarse dimension), and stops
  when no peel raises the density or the box would hold less than `mass_min` of the points;
- pastes: then widens one restricted limit at a time by the `paste_alpha` share of the points
  just outside it, while that raises the density.

Each box on the way is one step of the trajectory, with its coverage (share of all the cases of
interest inside it), density and mass (share of all points inside it): the trade-off between
coverage and density an analyst chooses from (`Trajectory.choose`: the box with the most coverage
at a least density). A chosen box's limits come with quasi-p-values (Bryant and Lempert 2010):
for each restricted limit, the one-sided binomial chance that a box without that limit would
hold as many cases of interest by luck; above 0.05 the restriction is not significant.

Why our own and not a package's: the `prim` package (a standalone copy of the EMA Workbench's) is
licensed under the GPL v3, which this MIT-licensed project cannot ship with, and imports pandas,
mplcursors and matplotlib's pyplot for its charts; the EMA Workbench (BSD) pulls in
scikit-learn, statsmodels, seaborn and platypus for a method of a hundred lines. This module
follows the EMA Workbench's algorithm (objective, quantiles, order of candidates, stopping rules)
on numeric data, and was checked to give the same trajectory as the `prim` package on the planted
box of the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05  # share of a box's points one peel or paste moves
MASS_MIN = 0.05  # the smallest share of all points a box may hold
SIGNIFICANT = 0.05  # quasi-p-value below which a restriction counts


@dataclass(frozen=True)
class Step:
    """One box of the trajectory: its limits, the points and cases of interest inside, and how
    it was reached ("start", "peel" or "paste")."""

    low: np.ndarray
    high: np.ndarray
    points: int
    cases: int
    coverage: float
    density: float
    mass: float
    restricted: int
    phase: str


@dataclass(frozen=True)
class Limit:
    """A chosen box's limits along one restricted dimension (None: that side is open) and the
    quasi-p-value of each restricted side."""

    name: str
    low: float | None
    high: float | None
    qp_low: float | None
    qp_high: float | None

    @property
    def significant(self) -> bool:
        """Every restricted side is significant (quasi-p-value below SIGNIFICANT)."""
        return all(q < SIGNIFICANT for q in (self.qp_low, self.qp_high) if q is not None)


@dataclass(frozen=True)
class Box:
    """A box of the trajectory with its restricted dimensions' limits."""

    step: int
    coverage: float
    density: float
    mass: float
    limits: tuple[Limit, ...]


def quantile(values: np.ndarray, q: float) -> float:
    """sdtoolkit's quantile, which the peels cut at: the midpoint between two neighbouring
    sorted values, moved out past ties, so a cut never falls on a value and a coarse dimension
    (a few distinct values) is cut between two of them."""
    data = np.sort(values)
    i = (len(data) - 1) * q
    lo, hi = math.floor(i), math.ceil(i)
    if q > 0.5:
        while data[lo] == data[hi] and lo > 0:
            lo -= 1
    else:
        while data[lo] == data[hi] and hi < len(data) - 1:
            hi += 1
    return float((data[lo] + data[hi]) / 2)


def _gain(y_old: np.ndarray, y_new: np.ndarray) -> float:
    """The lenient objective: the change of density per point the box loses (or gains)."""
    mean_new = y_new.mean() if len(y_new) else 0.0
    moved = abs(len(y_old) - len(y_new))
    return 0.0 if not moved else float((mean_new - y_old.mean()) / moved)


class Trajectory:
    """The boxes PRIM goes through on `x` (points x dimensions, named `names`) for the cases of
    interest `y`, from the box holding every point to the last one pasted."""

    def __init__(self, x, y, names: list[str], alpha: float = ALPHA,
                 paste_alpha: float = ALPHA, mass_min: float = MASS_MIN):
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=bool)
        self.names = list(names)
        if self.x.ndim != 2 or self.x.shape != (len(self.y), len(self.names)):
            raise ValueError(f"x must be points x {len(self.names)} dimensions, one row per y")
        if not 0 < self.y.sum() < len(self.y):
            raise ValueError("PRIM needs some cases of interest and some others")
        self.alpha, self.paste_alpha, self.mass_min = alpha, paste_alpha, mass_min
        self.bottom, self.top = self.x.min(axis=0), self.x.max(axis=0)
        self.steps: list[Step] = [self._step(self.bottom, self.top, "start")]
        self._peel()
        self._paste()

    def _inside(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return ((self.x >= low) & (self.x <= high)).all(axis=1)

    def _restricted(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return (low != self.bottom) | (high != self.top)

    def _step(self, low: np.ndarray, high: np.ndarray, phase: str) -> Step:
        inside = self._inside(low, high)
        points, cases = int(inside.sum()), int(self.y[inside].sum())
        return Step(low.copy(), high.copy(), points, cases, cases / int(self.y.sum()),
                    cases / points if points else 0.0, points / len(self.y),
                    int(self._restricted(low, high).sum()), phase)

    def _best(self, candidates, inside: np.ndarray):
        """The candidate (low, high) with the greatest gain over the box `inside`, fewer
        restricted dimensions breaking ties, the first in order after that."""
        best = None
        for low, high in candidates:
            new = self._inside(low, high)
            score = (_gain(self.y[inside], self.y[new]),
                     -int(self._restricted(low, high).sum()))
            if best is None or score > best[0]:
                best = (score, low, high, new)
        return best

    def _peel(self) -> None:
        while True:
            last = self.steps[-1]
            inside = self._inside(last.low, last.high)
            candidates = []
            for j in range(len(self.names)):
                xj = self.x[inside, j]
                high = last.high.copy()
                high[j] = quantile(xj, 1 - self.alpha)
                low = last.low.copy()
                low[j] = quantile(xj, self.alpha)
                candidates += [(last.low, high), (low, last.high)]
            (gain, _), low, high, new = self._best(candidates, inside)
            mass = new.sum() / len(self.y)
            if not (mass >= self.mass_min and mass < last.mass and gain > 0):
                return
            self.steps.append(self._step(low, high, "peel"))

    def _paste(self) -> None:
        while True:
            last = self.steps[-1]
            inside = self._inside(last.low, last.high)
            candidates = []
            for j in np.flatnonzero(self._restricted(last.low, last.high)):
                others = np.ones(len(self.names), bool)
                others[j] = False
                near = ((self.x[:, others] >= last.low[others])
                        & (self.x[:, others] <= last.high[others])).all(axis=1)
                below = self.x[near & (self.x[:, j] <= last.low[j]), j]
                above = self.x[near & (self.x[:, j] >= last.high[j]), j]
                low, high = last.low.copy(), last.high.copy()
                low[j] = quantile(below, 1 - self.paste_alpha) if len(below) else self.bottom[j]
                high[j] = quantile(above, self.paste_alpha) if len(above) else self.top[j]
                candidates += [(low, last.high), (last.low, high)]
            if not candidates:
                return
            (gain, _), low, high, new = self._best(candidates, inside)
            mass = new.sum() / len(self.y)
            if not (mass >= self.mass_min and mass > last.mass and gain > 0
                    and self.y[new].mean() > self.y[inside].mean()):
                return
            self.steps.append(self._step(low, high, "paste"))

    def choose(self, min_density: float) -> int:
        """The step with the most coverage among those of at least `min_density` (fewer
        restricted dimensions, then more density, breaking ties); the densest if none is."""
        dense = [k for k, s in enumerate(self.steps) if s.density >= min_density]
        if not dense:
            return max(range(len(self.steps)), key=lambda k: (self.steps[k].density, -k))
        return max(dense, key=lambda k: (self.steps[k].coverage, -self.steps[k].restricted,
                                         self.steps[k].density))

    def box(self, k: int) -> Box:
        """Step `k` with the limits of its restricted dimensions and their quasi-p-values."""
        return self._box(self.steps[k], k)

    def significant(self, k: int) -> Box:
        """Step `k` without its restrictions that are not significant: the limit with the
        largest quasi-p-value at or above SIGNIFICANT is freed (the other side of its dimension
        stays), the box's statistics and quasi-p-values are computed anew, and so on until
        every limit left is significant (Bryant and Lempert's advice, which the EMA Workbench's
        `drop_restriction` follows by hand). With few runs for many dimensions this can free
        every one."""
        s = self.steps[k]
        while True:
            box = self._box(s, k)
            sides = [(q, lim.name, lower) for lim in box.limits
                     for q, lower in ((lim.qp_low, True), (lim.qp_high, False))
                     if q is not None and q >= SIGNIFICANT]
            if not sides:
                return box
            _, name, lower = max(sides)
            j = self.names.index(name)
            low, high = s.low.copy(), s.high.copy()
            if lower:
                low[j] = self.bottom[j]
            else:
                high[j] = self.top[j]
            s = self._step(low, high, s.phase)

    def _box(self, s: Step, k: int) -> Box:
        from scipy.stats import binom

        limits = []
        for j in np.flatnonzero(self._restricted(s.low, s.high)):
            sides = []
            for lower in (True, False):
                value, bound = (s.low[j], self.bottom[j]) if lower else (s.high[j], self.top[j])
                if value == bound:
                    sides.append((None, None))
                    continue
                low, high = s.low.copy(), s.high.copy()
                (low if lower else high)[j] = bound
                p = self.y[self._inside(low, high)].mean()
                # the chance of the box's cases of interest or more among its points, at the
                # rate of the box without this limit
                sides.append((float(value), float(binom.sf(s.cases - 1, s.points, p))))
            (low_value, qp_low), (high_value, qp_high) = sides
            limits.append(Limit(self.names[j], low_value, high_value, qp_low, qp_high))
        return Box(k, s.coverage, s.density, s.mass, tuple(limits))
