"""Common random numbers across worlds: two scenarios that differ by a lever from day D share
every draw before D, and after D differ less with the same seed than with independent seeds.

Each draw of a day is keyed by (seed, kind of draw, day, group or cell) (`sim.model.jit`), so a
change on day D cannot shift the draws of later days or of the rest of the map.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sim.model import scenario
from sim.model.world import HaitiModel

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DAYS, D = 300, 200
METRICS = ("capital_gang_share_area", "gang_controlled_population", "displaced",
           "gang_members", "killed", "kidnappings", "engagements")
SEEDS = (1, 2, 3, 4)


def cut(history: scenario.Scenario, *extra: scenario.Event) -> scenario.Scenario:
    end = history.start + dt.timedelta(days=DAYS - 1)
    events = tuple(e for e in history.events if e.date <= end) + extra
    return dataclasses.replace(history, end=end, events=events)


def series(sc: scenario.Scenario, seed: int) -> np.ndarray:
    model = HaitiModel(sc, seed=seed)
    rec = model.run()
    return np.stack([rec.series(m) for m in METRICS], axis=1)


@pytest.fixture(scope="module")
def history() -> scenario.Scenario:
    return scenario.load(SCENARIOS / "history.yaml")


@pytest.fixture(scope="module")
def base(history) -> dict[int, np.ndarray]:
    return {seed: series(cut(history), seed) for seed in SEEDS}


@pytest.mark.parametrize("lever, value", [("arms_interdiction", 0.9),
                                          ("gang_attack_rate", 2.5),
                                          ("police_operational_share", 0.5)])
def test_a_lever_from_day_d_changes_nothing_before_it_and_less_than_a_new_seed(
        history, base, lever, value):
    when = history.start + dt.timedelta(days=D)
    policy = cut(history, scenario.Event(when, lever, "set", value))
    paired, unpaired = [], []
    for i, seed in enumerate(SEEDS):
        changed = series(policy, seed)
        assert np.array_equal(changed[:D], base[seed][:D])  # the same world before D
        assert not np.array_equal(changed[D:], base[seed][D:])  # the lever does something
        other = base[SEEDS[(i + 1) % len(SEEDS)]]
        paired.append(np.abs(changed[D:] - base[seed][D:]).mean(0))
        # both differences carry the lever's effect; only the paired one shares the draws
        unpaired.append(np.abs(changed[D:] - other[D:]).mean(0))
    paired, unpaired = np.mean(paired, 0), np.mean(unpaired, 0)
    for name, p, u in zip(METRICS, paired, unpaired, strict=True):
        assert p < u, f"{name}: paired difference {p:.4g} not below unpaired {u:.4g}"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
