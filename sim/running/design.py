"""Designs of experiments: which parameter values an experiment runs, drawn from the table.

A factor is a parameter varied over a range: by default an uncertainty's plausible range (with its
prior: uniform, or log-uniform for quantities known to within a factor) and a lever's validity
range, or a range the user gives. A design is a list of points (one value per factor), made by
a full factorial grid, a Latin hypercube or a scrambled Sobol sequence (`scipy.stats.qmc`): the
hypercube spreads a few hundred points evenly over many factors; Sobol points are the
low-discrepancy sequence Saltelli's variance-based sensitivity analysis builds on. The two
sensitivity designs are SALib's: Morris trajectories (elementary effects, one factor moved a step
at a time) and Saltelli's scheme for Sobol indices (`morris`, `saltelli`). Every sampler works on
the unit cube and maps each coordinate through `Factor.value`, so the prior's scale (log-uniform)
and whole numbers are handled once. Samplers are seeded, so a design is reproducible from its
description (`Design.describe`, which the manifest keeps; `rebuild` makes it again): the
sensitivity analysis needs the unit points, which the experiments table does not hold.

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


def levers() -> list[Factor]:
    """Every lever over its validity range (a choice among names over the choices' indices)."""
    return [Factor.of(name, p.low, p.high) if p.choices else Factor.of(name)
            for name, p in PARAMS.items() if p.lever]


@dataclass(frozen=True)
class Design:
    """The points an experiment runs (one dict of values per point) and how they were made."""

    method: str
    factors: tuple[Factor, ...]
    points: tuple[dict[str, float], ...]
    seed: int | None = None
    unit_points: np.ndarray | None = field(default=None, compare=False, repr=False)
    settings: dict = field(default_factory=dict)  # what else makes the design: trajectories...

    def describe(self) -> dict:
        out = {"method": self.method, "seed": self.seed, "points": len(self.points),
               "factors": [{"name": f.name, "low": f.low, "high": f.high, "log": f.log}
                           for f in self.factors]}
        return {**out, "settings": self.settings} if self.settings else out


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


def _design(method: str, factors: Sequence[Factor], unit: np.ndarray, seed: int,
            settings: dict | None = None) -> Design:
    points = tuple({f.name: f.value(u) for f, u in zip(factors, row, strict=True)}
                   for row in unit)
    return Design(method, tuple(factors), points, seed, unit, dict(settings or {}))


def _unit_problem(factors: Sequence[Factor]) -> dict:
    """SALib's problem on the unit cube: `Factor.value` maps each coordinate afterwards."""
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [[0.0, 1.0]] * len(factors)}


def morris(factors: Sequence[Factor], trajectories: int, levels: int, seed: int) -> Design:
    """Morris's screening design (Morris 1991; SALib's sampler): `trajectories` random paths on
    a grid of `levels` values per factor, each moving one factor at a time by a fixed step, so
    a path of k factors is k + 1 points and gives one elementary effect of each factor."""
    _check(factors)
    if len(factors) < 2:
        raise DesignError("a Morris design needs at least 2 factors")
    if trajectories < 2:
        raise DesignError(f"a Morris design needs at least 2 trajectories, got {trajectories}")
    if levels < 2 or levels % 2:
        raise DesignError(f"Morris levels must be an even number of 2 or more, got {levels}")
    from SALib.sample import morris as sampler

    unit = sampler.sample(_unit_problem(factors), trajectories, num_levels=levels, seed=seed)
    return _design("morris", factors, unit, seed,
                   {"trajectories": trajectories, "levels": levels})


def saltelli(factors: Sequence[Factor], n: int, seed: int) -> Design:
    """Saltelli's design for first-order and total Sobol indices (Saltelli et al. 2010; SALib's
    sampler on a scrambled Sobol sequence): n x (k + 2) points for k factors, `n` rounded up to
    a power of two, which the sequence needs to keep its balance."""
    _check(factors)
    if len(factors) < 2:
        raise DesignError("a Saltelli design needs at least 2 factors")
    if n < 2:
        raise DesignError(f"a Saltelli design needs a base sample of at least 2, got {n}")
    from SALib.sample import sobol as sampler

    n = 2 ** math.ceil(math.log2(n))
    unit = sampler.sample(_unit_problem(factors), n, calc_second_order=False, seed=seed)
    return _design("saltelli", factors, unit, seed, {"base_samples": n})


def rebuild(described: dict) -> Design:
    """The design a manifest describes (`Design.describe`), made again from its seed: its unit
    points are what a sensitivity analysis reads. Only the sensitivity designs are rebuilt."""
    factors = [Factor(f["name"], f["low"], f["high"], f["log"]) for f in described["factors"]]
    method, seed, settings = described["method"], described["seed"], described.get("settings", {})
    if method == "morris":
        return morris(factors, settings["trajectories"], settings["levels"], seed)
    if method == "saltelli":
        return saltelli(factors, settings["base_samples"], seed)
    raise DesignError(f"a {method} design is not a sensitivity design (Morris or Saltelli)")
