"""What the calibration fits: the historical scenario cut at the end of the fitted record, the
parameters it varies with their priors, and how one point is simulated and scored.

The record scenario is `scenarios/history.yaml` (its known inputs: the mission's authorisation,
funding and deployments, the alliance, the police) ending on `targets.LAST_DATE`, 31 Dec 2024:
nothing of 2025 is simulated or seen, so the 2025 projection stays out of sample.

The parameters are every one with a plausible range (`design.uncertainties()`: the world's
uncertainties and the uncertain starting values), except those the record scenario states itself
(the police headcount and the capital's share at the start, ...): those are observed, not fitted.
Their priors are the plausible ranges, uniform or log-uniform as the table declares.

The distance of a run is `targets.evaluate`'s weighted total (best attainable log-likelihood
minus the run's, summed over targets), and its parts are the same per family of targets (the
capital's share, displacement, killed, kidnapped, police, RN1), which the screening reads.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from sim.analysis import targets
from sim.calibration.abc import Evaluations
from sim.model import scenario as scenario_file
from sim.model.scenario import Scenario
from sim.running import design, engine, fingerprint
from sim.running.design import Factor

DATA = Path(__file__).parents[1] / "data"


def family(t: targets.Target) -> str:
    return t.metric or "rn1"


# The series of the record, in the order of its targets: a run's distance is split by them.
FAMILIES = tuple(dict.fromkeys(family(t) for t in targets.TARGETS))


@dataclasses.dataclass(frozen=True)
class Problem:
    """A record scenario and the factors a calibration varies (in the prior's unit cube)."""

    scenario: Scenario
    factors: tuple[Factor, ...]
    source: str
    record: tuple[targets.Target, ...] = targets.TARGETS

    @classmethod
    def of(cls, path: str | Path, only: tuple[str, ...] | None = None,
           record: tuple[targets.Target, ...] = targets.TARGETS) -> Problem:
        """The record scenario of the file at `path`, ended on the last day of the record, and
        every uncertain parameter it does not set itself (or only those of `only`); `record`
        the figures it is fitted to (a synthetic record in parameter-recovery tests)."""
        path = Path(path)
        full = scenario_file.load(path)
        stated = set(scenario_file.parse_text(path.read_text(encoding="utf-8"),
                                              str(path)).parameters)
        stated |= {e.name for e in full.events}
        end = targets.LAST_DATE
        if not full.start <= targets.FIRST_DATE <= end <= full.end:
            raise ValueError(f"{path}: the record scenario must run from {targets.FIRST_DATE} "
                             f"(or before) to {end} (or after); it runs {full.start} to {full.end}")
        cut = dataclasses.replace(full, end=end, branch=None,
                                  events=tuple(e for e in full.events if e.date <= end))
        factors = tuple(f for f in design.uncertainties()
                        if f.name not in stated and (only is None or f.name in only))
        return cls(cut, factors, str(path), tuple(record))

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.factors]

    def point(self, unit: np.ndarray) -> dict[str, float]:
        """The parameter values at one point of the unit cube."""
        return {f.name: f.value(float(u)) for f, u in zip(self.factors, unit, strict=True)}

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Parameter values of many points (rows of `unit`)."""
        return np.array([[f.value(float(u)) for f, u in zip(self.factors, row, strict=True)]
                         for row in np.atleast_2d(unit)])

    def describe(self) -> dict:
        """What a calibration of this problem depends on: the resumed one must match it."""
        return {"scenario": self.source,
                "scenario_sha256": hashlib.sha256(Path(self.source).read_bytes()).hexdigest(),
                "record_end": self.scenario.end.isoformat(),
                "factors": [[f.name, f.low, f.high, f.log] for f in self.factors],
                "targets": [[t.label, t.period, t.shown, t.weight] for t in self.record],
                "model": fingerprint.calibrated_model()}


def data_version() -> str:
    """sha256 of the observed record (`sim/data/observed/`)."""
    return fingerprint.files(sorted((DATA / "observed").rglob("*.csv")), DATA)


def score(outputs, record=targets.TARGETS) -> tuple[float, np.ndarray, np.ndarray]:
    """(distance, parts per family, every target's simulated value) of one run's outputs."""
    if not outputs[0].ok:
        n = len(record)
        return np.inf, np.full(len(FAMILIES), np.inf), np.full(n, np.nan)
    fit = targets.evaluate_outputs(outputs, record)
    weighted = np.nan_to_num(fit.weights * fit.distance[:, 0])
    parts = np.zeros(len(FAMILIES))
    for i, t in enumerate(fit.targets):
        parts[FAMILIES.index(family(t))] += weighted[i]
    return float(weighted.sum()), parts, fit.simulated[:, 0]


OBSERVE = engine.Observe(map_dates=targets.MAP_DATES)


def simulate_points(scenario: Scenario, points: list[dict[str, float]], seeds: list[int],
                    record: tuple[targets.Target, ...] = targets.TARGETS) -> Evaluations:
    """Run the record scenario at each point with its seed (in a worker); score each run."""
    rows = []
    for point, seed in zip(points, seeds, strict=True):
        s = scenario.with_overrides(point)
        rows.append(score(engine.run([("record", s)], int(seed), observe=OBSERVE), record))
    return Evaluations(np.array([r[0] for r in rows]), np.array([r[1] for r in rows]),
                       np.array([r[2] for r in rows]))
