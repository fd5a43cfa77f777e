"""PRIM (`sim.analysis.prim`): it recovers a box planted in synthetic data and calls the
dimensions it did not plant insignificant; its peels trade coverage for density step by step; its
quantiles and quasi-p-values are the textbook ones."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.stats import binomtest

from sim.analysis import prim


def _planted(seed: int = 0, n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Six uniform dimensions; the cases of interest are a > 0.6 and c < 0.35, with 5% of
    labels flipped at random."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 6))
    y = (x[:, 0] > 0.6) & (x[:, 2] < 0.35)
    return x, y ^ (rng.random(n) < 0.05)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prim_recovers_a_planted_box(seed):
    x, y = _planted(seed)
    t = prim.Trajectory(x, y, list("abcdef"))
    box = t.box(t.choose(0.9))
    strong = {lim.name: lim for lim in box.limits if lim.significant}
    assert set(strong) == {"a", "c"}
    assert strong["a"].low == pytest.approx(0.6, abs=0.04) and strong["a"].high is None
    assert strong["c"].high == pytest.approx(0.35, abs=0.04) and strong["c"].low is None
    # the flipped labels outside the box (5% of 86% of the points) cap its coverage near 0.76
    assert box.density >= 0.9 and box.coverage > 0.7
    # the trade-off: peeling raises density and loses coverage and mass, step by step
    peels = [s for s in t.steps if s.phase in ("start", "peel")]
    assert all(p.density < q.density and p.mass > q.mass and p.coverage >= q.coverage
               for p, q in zip(peels, peels[1:], strict=False))
    assert t.steps[0].coverage == 1 and t.steps[0].mass == 1 and t.steps[0].restricted == 0


def test_the_significant_part_of_a_box_frees_what_only_luck_restricts():
    x, y = _planted(9)
    t = prim.Trajectory(x, y, list("abcdef"))
    k = t.choose(0.8)
    assert {lim.name for lim in t.box(k).limits} == {"a", "b", "c"}  # b < 0.95: by luck
    kept = t.significant(k)
    assert {lim.name for lim in kept.limits} == {"a", "c"}
    assert all(lim.significant for lim in kept.limits)
    assert kept.mass > t.box(k).mass and kept.coverage >= t.box(k).coverage


def test_quasi_p_values_are_one_sided_binomial_tests():
    x, y = _planted(3, n=400)
    t = prim.Trajectory(x, y, list("abcdef"))
    k = t.choose(0.8)
    s, limit = t.steps[k], next(lim for lim in t.box(k).limits if lim.name == "a")
    low = s.low.copy()
    low[0] = t.bottom[0]  # the box without its limit on a
    wider = ((x >= low) & (x <= s.high)).all(axis=1)
    expected = binomtest(s.cases, s.points, y[wider].mean(), alternative="greater").pvalue
    assert limit.qp_low == pytest.approx(expected)


def test_quantile_cuts_between_values_and_past_ties():
    assert prim.quantile(np.arange(20.0), 0.05) == 0.5  # 5% of 20 values: the lowest one
    assert prim.quantile(np.arange(20.0), 0.95) == 18.5
    assert prim.quantile(np.array([0, 0, 0, 0, 1, 1.0]), 0.05) == 0.5  # a coarse dimension
    assert prim.quantile(np.array([0, 0, 0, 0, 1, 1.0]), 0.95) == 0.5
    assert prim.quantile(np.ones(5), 0.05) == 1.0  # nothing to cut: the peel removes nothing


def test_prim_needs_both_kinds_of_case():
    with pytest.raises(ValueError, match="some cases of interest"):
        prim.Trajectory(np.zeros((4, 2)), np.zeros(4, bool), ["a", "b"])



if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
