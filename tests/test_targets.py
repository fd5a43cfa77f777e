"""The calibration targets and their observation model (`sim.analysis.targets`): real metrics and
dates within the fitted record, the right days read, the likelihoods as stated, and a total
distance that tells the default parameters from a clearly wrong one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from sim.analysis import targets
from sim.model import outcomes, scenario
from sim.model.geography import load
from sim.running import engine

ROOT = Path(__file__).resolve().parents[1]
START = dt.date(2023, 1, 1)


def test_every_target_names_a_real_metric_and_a_date_in_2023_2024():
    names = outcomes.metric_names(load().department_name)
    for t in targets.TARGETS:
        assert t.metric in names or t is targets.RN1_ARTIBONITE, t.label
        last = t.until or t.when
        assert targets.FIRST_DATE <= t.when <= last <= targets.LAST_DATE, (t.label, t.period)
        assert t.weight > 0 and np.isfinite(t.value), t.label
    for t in targets.FLOWS:  # flows are calendar quarters, both ends included
        assert t.when.day == 1 and t.when.month in (1, 4, 7, 10), t.period
        assert (t.until + dt.timedelta(days=1)).day == 1 and 89 <= (t.until - t.when).days <= 91


def test_one_definition_per_quantity():
    """Killed and kidnapped: at most one target per quarter, and no annual total beside them."""
    for metric in ("killed", "kidnappings"):
        periods = [t.period for t in targets.TARGETS if t.metric == metric]
        assert periods and len(periods) == len(set(periods)), metric
    killed = {t.period: t.value for t in targets.FLOWS if t.metric == "killed"}
    assert killed["2023-Q4"] == 1_104  # BINUH's count, not the police's 1,432 homicides
    assert all(t.metric != "capital_gang_share_population" for t in targets.TARGETS)


def test_stocks_are_read_on_their_date_and_flows_summed_over_their_period():
    days = np.arange(731, dtype=float)
    names = ["displaced", "killed", "kidnappings", "police_officers", "capital_gang_share_area",
             "killed_in_state_operations", "killed_by_self_defence",
             "displaced_in_provinces_share", "gang_controlled_population"]
    # replicate r: stocks equal the day number plus r, flows 1 to 4 times r+1 a day
    values = np.stack([np.stack([days + r, np.full(731, r + 1.0), np.full(731, 2 * (r + 1.0)),
                                 days + r, days / 1000, np.full(731, 3 * (r + 1.0)),
                                 np.full(731, 4 * (r + 1.0)), days / 1000, days + r], axis=1)
                       for r in range(3)])
    sim = targets.simulate(values, names, START)
    for i, t in enumerate(targets.TARGETS):
        if t is targets.RN1_ARTIBONITE:
            assert np.isnan(sim[i]).all()  # no map given
        elif not t.flow:
            day = (t.when - START).days
            expected = day / 1000 if t.share else day + np.arange(3)
            assert sim[i] == pytest.approx(expected), t.label
            assert np.array_equal(sim[i], t.simulated(values, names, START))
        else:
            n = (t.until - t.when).days + 1
            rate = {"killed": 1, "kidnappings": 2, "killed_in_state_operations": 3,
                    "killed_by_self_defence": 4}[t.metric]
            per_day = rate * (np.arange(3) + 1)
            assert sim[i].tolist() == (n * per_day).tolist(), t.period
    q1_2024 = next(t for t in targets.FLOWS if t.metric == "killed" and t.period == "2024-Q1")
    assert (q1_2024.until - q1_2024.when).days + 1 == 91  # a leap year's first quarter
    displaced = tuple(t for t in targets.TARGETS if t.metric == "displaced")
    rows = [targets.TARGETS.index(t) for t in displaced]
    shifted = targets.simulate(values[:, 31:], names, dt.date(2023, 2, 1), targets=displaced)
    assert np.array_equal(shifted, sim[rows])  # a later start: the same dates, other indices


def test_a_target_outside_the_runs_is_an_error():
    with pytest.raises(ValueError, match="outside the runs"):
        targets.simulate(np.zeros((1, 365, 1)), ["displaced"], START,
                         targets=([t for t in targets.STOCKS if t.metric == "displaced"][-1],))


def test_negative_binomial_matches_scipy():
    for y, mean, k in [(846, 1000.0, 25.0), (170, 637.0, 16.0), (0, 3.0, 2.0), (12, 12.0, 0.5)]:
        expected = sps.nbinom.logpmf(y, k, k / (k + mean))
        assert targets.nbinom_logpmf(y, np.array([mean]), k)[0] == pytest.approx(expected,
                                                                                rel=1e-10)
    means = np.array([500.0, 846.0, 1200.0])
    ll = targets.log_likelihood(targets.NegBin(25.0), 846, means)
    assert ll == pytest.approx(sps.nbinom.logpmf(846, 25.0, 25.0 / (25.0 + means)))
    assert ll.argmax() == 1  # highest at the observation
    assert np.isfinite(targets.nbinom_logpmf(5, np.array([0.0]), 25.0)).all()  # floored mean


def test_interval_distance_is_zero_inside_and_grows_outside():
    x = np.array([0.5, 0.6, 0.75, 0.9, 0.95, 1.0])
    d = targets.interval_distance(x, 0.6, 0.9, 0.1)
    assert d[1:4].tolist() == [0.0, 0.0, 0.0]
    assert d[0] == pytest.approx(1.0) and d[4] == pytest.approx(0.5) and d[5] == pytest.approx(1.0)
    assert 0 < d[4] < d[5]
    counts = np.array([100.0, 1_000.0, 1_500.0, 3_000.0])
    upper = targets.interval_distance(counts, 0, 1_500, 0.2, log=True)
    assert upper[:3].tolist() == [0.0, 0.0, 0.0] and upper[3] == pytest.approx(np.log(2) / 0.2)
    ll = targets.log_likelihood(targets.Interval(0.6, 0.9, 0.1), np.nan, x)
    assert ll == pytest.approx(-0.5 * d ** 2)


def test_evaluate_totals_are_weighted_sums_and_zero_at_the_observations():
    n = len(targets.TARGETS)
    perfect = np.array([[t.value if not isinstance(t.likelihood, targets.Interval)
                         else min(max(t.value, t.likelihood.low), t.likelihood.high)]
                        for t in targets.TARGETS])
    fit = targets.evaluate(np.zeros((1, 731, 1)), ["x"], START, targets=())
    assert fit.total_distance.tolist() == [0.0]
    # evaluate on exact values: build a run whose every stock and flow equals its observation
    names = ["capital_gang_share_area", "displaced", "police_officers", "killed", "kidnappings",
             "killed_in_state_operations", "killed_by_self_defence",
             "displaced_in_provinces_share", "gang_controlled_population"]
    values = np.zeros((1, 731, len(names)))
    for t, v in zip(targets.TARGETS, perfect[:, 0], strict=True):
        if t.flow:
            a, b = (t.when - START).days, (t.until - START).days + 1
            values[0, a:b, names.index(t.metric)] = v / (b - a)
        elif t.metric:
            values[0, (t.when - START).days, names.index(t.metric)] = v
    fit = targets.evaluate(values, names, START, rn1_share=np.array([0.75]))
    assert fit.simulated.shape == fit.distance.shape == (n, 1)
    assert fit.distance[:, 0] == pytest.approx(np.zeros(n), abs=1e-9)
    assert fit.total_distance[0] == pytest.approx(0.0, abs=1e-9)
    worse = targets.evaluate(values * 1.5, names, START, rn1_share=np.array([0.3]))
    assert worse.total_distance[0] > 0
    assert worse.total_distance[0] == pytest.approx((worse.weights * worse.distance[:, 0]).sum())
    assert worse.total_log_likelihood[0] < fit.total_log_likelihood[0]


def _history_2023_2024() -> scenario.Scenario:
    s = scenario.load(ROOT / "scenarios" / "history.yaml")
    end = targets.LAST_DATE
    return dataclasses.replace(s, end=end, events=tuple(e for e in s.events if e.date <= end))


def _distance(s: scenario.Scenario, seeds) -> np.ndarray:
    observe = engine.Observe(map_dates=targets.MAP_DATES)
    outputs = [engine.run([("history", s)], seed, observe=observe)[0] for seed in seeds]
    assert all(o.ok for o in outputs), [o.error for o in outputs]
    fit = targets.evaluate_outputs(outputs)
    assert not np.isnan(fit.simulated).any()  # the map target was read too
    return fit.total_distance


def test_defaults_fit_the_record_better_than_a_clearly_wrong_parameter():
    """Three paired replicates of 2023-2024: the default kidnappings_per_member_per_year (the
    posterior median, 0.34; 90% interval 0.23 to 0.50) against its plausible maximum (0.7), which
    the record rules out. Measured: mean distance 34.2 against 79.3, each seed lower. (A
    parameter the record does not narrow is no test: gang_attack_rate at its plausible minimum
    fits as well as its median.)"""
    s = _history_2023_2024()
    seeds = (1, 2, 3)
    default = _distance(s, seeds)
    wrong = _distance(s.with_overrides({"kidnappings_per_member_per_year": 0.7}), seeds)
    assert default.mean() < wrong.mean(), (default, wrong)


if __name__ == "__main__":
    for name, f in list(globals().items()):
        if name.startswith("test_") and callable(f):
            f()
