"""Designs of experiments: which parameter values an experiment runs, drawn from the table.

A factor is a parameter varied over a range: by default an uncertainty's plausible range (with its
prior: uniform, or log-uniform for quantities known to within a factor) and a lever's validity
range, or a range the user gives. A design is a list of points (one value per factor), made by
a full factorial grid, a Latin hypercube or a scrambled Sobol sequence (`scipy.stats.qmc`): the
hypercube spreads a few hundred points evenly over many factors; Sobol points are the
low-discrepancy sequence Saltelli's variance-based sensitivity analysis builds on. Samplers are
seeded, so a design is reproducible from its description (`Design.describe`), which the manifest
keeps.

Factors, samplers and the rest of the code work on the parameter table's declarations
(`sim.model.parameters.Param`), never on ad-hoc dictionaries of names.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.model.parameters import PARAMS

METHODS = ("grid", "lhs", "sobol")


class DesignError(ValueError):
    """A design that cannot be made as asked; `str()` is the message for the user."""


@dataclass(frozen=True)
class Factor:
    """A parameter varied from `low` to `high`, on a log scale if `log`."""

    name: str
    low: float
    high: float
    log: bool = False

    @classmethod
    def of(cls, name: str, low: float | None = None, high: float | None = None) -> Factor:
        """A factor over the given range, or by default the parameter's plausible range (an
        uncertainty, with its prior) or its validity range (a lever)."""
        if name not in PARAMS:
            raise DesignError(f"unknown parameter '{name}' (haiti-sim params lists them)")
        p = PARAMS[name]
        if low is None and (p.choices or (p.initial and not p.uncertain)):
            what = "is a choice among names" if p.choices else "sets the starting state"
            raise DesignError(f"{name} {what}: give its range or values (NAME=LOW:HIGH or "
                              "NAME=V1,V2,...)")
        default_low, default_high = p.plausible or (p.low, p.high)
        low = default_low if low is None else float(low)
        high = default_high if high is None else float(high)
        if not p.low <= low < high <= p.high:
            raise DesignError(f"{name}: the range {low:g} to {high:g} must rise and lie within "
                              f"{p.low:g} to {p.high:g} {p.unit}")
        return cls(name, low, high, log=p.prior == "log-uniform" and low > 0)

    def value(self, u: float) -> float:
        """The factor's value at `u` in [0, 1] of its range (whole numbers rounded)."""
        if self.log:
            x = self.low * (self.high / self.low) ** u
        else:
            x = self.low + u * (self.high - self.low)
        x = min(max(x, self.low), self.high)
        return float(round(x)) if PARAMS[self.name].integer else float(x)


def uncertainties() -> list[Factor]:
    """Every parameter with a plausible range, over that range."""
    return [Factor.of(name) for name, p in PARAMS.items() if p.uncertain]


@dataclass(frozen=True)
class Design:
    """The points an experiment runs (one dict of values per point) and how they were made."""

    method: str
    factors: tuple[Factor, ...]
    points: tuple[dict[str, float], ...]
    seed: int | None = None
    unit_points: np.ndarray | None = field(default=None, compare=False, repr=False)

    def describe(self) -> dict:
        return {"method": self.method, "seed": self.seed, "points": len(self.points),
                "factors": [{"name": f.name, "low": f.low, "high": f.high, "log": f.log}
                            for f in self.factors]}


ONE_POINT = Design("none", (), ({},))


def _check(factors: Sequence[Factor]) -> None:
    names = [f.name for f in factors]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DesignError(f"{twice[0]} is varied twice")
    if not factors:
        raise DesignError("an experiment needs at least one factor to vary")


def grid(levels: dict[str, Sequence[float]]) -> Design:
    """Every combination of the given values (a full factorial)."""
    for name, values in levels.items():
        if len(set(values)) < 2:
            raise DesignError(f"{name}: a grid needs at least 2 different values")
    factors = [Factor.of(n, min(v), max(v)) for n, v in levels.items()]
    _check(factors)
    names = list(levels)
    points = tuple({n: float(x) for n, x in zip(names, combo, strict=True)}
                   for combo in itertools.product(*levels.values()))
    return Design("grid", tuple(factors), points)


def levels(factor: Factor, count: int) -> list[float]:
    """`count` values evenly spread over a factor's range (on its scale), ends included."""
    if count < 2:
        raise DesignError(f"{factor.name}: a grid needs at least 2 levels, got {count}")
    return list(dict.fromkeys(factor.value(u) for u in np.linspace(0, 1, count)))


def latin_hypercube(factors: Sequence[Factor], n: int, seed: int) -> Design:
    """`n` points, one in each of `n` equal slices of every factor's range (McKay et al. 1979),
    the slices' pairing optimised against correlation between factors."""
    _check(factors)
    if n < 2:
        raise DesignError(f"a Latin hypercube needs at least 2 points, got {n}")
    from scipy.stats import qmc  # here: scipy.stats costs a batch's parent ~60 MB it rarely needs

    unit = qmc.LatinHypercube(d=len(factors), seed=np.random.default_rng(seed)).random(n)
    return _design("lhs", factors, unit, seed)


def sobol(factors: Sequence[Factor], n: int, seed: int) -> Design:
    """A scrambled Sobol sequence of `n` points; `n` is rounded up to a power of two, which the
    sequence needs to keep its balance."""
    _check(factors)
    from scipy.stats import qmc

    m = max(1, math.ceil(math.log2(max(n, 2))))
    unit = qmc.Sobol(d=len(factors), scramble=True, seed=np.random.default_rng(seed)
                     ).random_base2(m)
    return _design("sobol", factors, unit, seed)


def _design(method: str, factors: Sequence[Factor], unit: np.ndarray, seed: int) -> Design:
    points = tuple({f.name: f.value(u) for f, u in zip(factors, row, strict=True)}
                   for row in unit)
    return Design(method, tuple(factors), points, seed, unit)
