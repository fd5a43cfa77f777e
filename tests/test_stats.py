"""The statistics over replicates (`sim.analysis.stats`): quantiles against numpy, NaN handling,
paired differences, and the Wilson interval against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import stats

Z95 = 1.959963984540054


def test_quantiles_match_numpy_over_replicates():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(25, 40))  # replicates x days
    median, low, high = stats.bands(values)
    assert median == pytest.approx(np.median(values, axis=0))
    assert low == pytest.approx(np.percentile(values, 5, axis=0))
    assert high == pytest.approx(np.percentile(values, 95, axis=0))
    cube = rng.normal(size=(7, 3, 4))  # replicates x frames x communes
    assert stats.median(cube) == pytest.approx(np.median(cube, axis=0))
    level = stats.interval(np.arange(11.0))
    assert (level.median, level.low, level.high, level.n) == pytest.approx((5.0, 0.5, 9.5, 11))


def test_nan_is_left_out_and_a_day_without_values_is_nan():
    values = np.array([[np.nan, 1.0, 1.0], [np.nan, 3.0, np.nan], [np.nan, 5.0, np.inf]])
    median, low, high = stats.bands(values)
    assert np.isnan(median[0]) and np.isnan(low[0]) and np.isnan(high[0])
    assert median[1] == 3.0 and (low[1], high[1]) == pytest.approx((1.2, 4.8))
    assert median[2] == 1.0  # only the finite value counts
    assert stats.interval(values[:, 1]).n == 3
    assert stats.interval(values[:, 0]) is None
    assert stats.interval(np.array([])) is None
    assert np.isnan(stats.bands(np.empty((0, 2)))[0]).all()


def test_differences_are_paired_by_replicate_number_not_by_position():
    mine = np.array([10.0, 11.0, 12.0, 13.0])
    theirs = np.array([2.0, 1.0, 0.0])
    # replicates 0-3 against 2, 1, 0 (stored in another order; replicate 3 has no partner)
    diff = stats.paired_differences(mine, [0, 1, 2, 3], theirs, [2, 1, 0])
    assert diff.tolist() == [10.0, 10.0, 10.0]
    a, b = stats.pair([5, 1, 3], [3, 9, 5])
    assert a.tolist() == [2, 0] and b.tolist() == [0, 2]
    days = np.arange(12.0).reshape(3, 4)
    assert stats.paired_differences(days, [0, 1, 2], days[::-1], [2, 1, 0]).tolist() == [
        [0.0] * 4] * 3


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (0, 10, 0.0, 0.2775328),  # the upper bound is z^2 / (n + z^2) at k = 0
    (5, 10, 0.2365931, 0.7634069),
    (10, 10, 0.7224672, 1.0),
    (1, 10, 0.0178762, 0.4041500),
    (3, 4, 0.3006418, 0.9544127),
])
def test_wilson_interval_at_95_percent_against_known_values(k, n, low, high):
    assert stats.wilson(k, n, Z95) == pytest.approx((low, high), abs=1e-6)


def test_wilson_interval_agrees_with_scipy():
    binomtest = pytest.importorskip("scipy.stats").binomtest  # not a dependency of haiti-sim
    for n in (1, 2, 5, 19, 50):
        for k in range(n + 1):
            ci = binomtest(k, n).proportion_ci(stats.LEVEL, "wilson")
            assert stats.wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_90_percent_edges_and_symmetry():
    assert stats.wilson(0, 10) == pytest.approx((0.0, stats.Z ** 2 / (10 + stats.Z ** 2)))
    assert stats.wilson(10, 10)[1] == 1.0 and stats.wilson(0, 1)[0] == 0.0
    low, high = stats.wilson(3, 10)
    assert stats.wilson(7, 10) == pytest.approx((1 - high, 1 - low))
    assert stats.wilson(5, 10)[0] > stats.wilson(5, 10, Z95)[0]  # 90% is narrower than 95%
    for k, n in ((-1, 5), (6, 5), (0, 0)):
        with pytest.raises(ValueError):
            stats.wilson(k, n)


def test_interval_width_shrinks_with_replicates():
    widths = [np.subtract(*stats.wilson(n // 2, n)[::-1]) for n in (4, 10, 40, 160, 640)]
    assert all(a > b for a, b in zip(widths, widths[1:], strict=False))
    assert widths[-1] < 0.07 < widths[0]


def test_probability_of_an_event_from_one_yes_or_no_per_replicate():
    p = stats.probability(np.array([True, False, False, True, False]))
    assert (p.p, p.n) == (0.4, 5) and (p.low, p.high) == stats.wilson(2, 5)
    assert stats.probability(np.array([], dtype=bool)) is None
    held = np.array([[1, 0, 0], [1, 1, 0]])
    assert stats.share_of_replicates(held).tolist() == [1.0, 0.5, 0.0]


def test_too_few_replicates_for_a_90_percent_interval():
    assert stats.MIN_REPLICATES == 20
    assert [n for n in range(1, 60) if stats.too_few(n)] == list(range(1, 20))
    # with too few, the interval's ends lie between the lowest (highest) two replicates
    values = np.arange(19.0)
    level = stats.interval(values)
    assert values[0] < level.low < values[1] and values[-2] < level.high < values[-1]
