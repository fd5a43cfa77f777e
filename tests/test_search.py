"""The target search (`sim.analysis.search`) on toy responses whose answer is known, and its
refusals."""

from __future__ import annotations

import datetime as dt
import math
import sys

import numpy as np
import pytest

from sim.analysis import search
from sim.analysis.goals import Goal
from sim.analysis.search import ALREADY, FOUND, NOT_REACHED, Settings
from sim.running.results import RunOutput


def toy(p, seed: int):
    """`evaluate` for a response `p(level)` under common random numbers: replicate r meets the
    goal at a level wherever its own uniform draw lies below p there (so, at every level above
    its own threshold). Records every (level, replicate) asked for."""
    draws = np.random.default_rng(seed).random(10_000)
    asked = []

    def evaluate(levels, replicates):
        asked.extend((float(lv), int(r)) for lv in levels for r in replicates)
        return draws[replicates][:, None] < p(np.asarray(levels))[None, :]

    return evaluate, asked


def logistic(answer: float, width: float, at: float):
    """A rising logistic curve that crosses `at` at `answer`."""
    middle = answer - width * math.log(at / (1 - at))
    return lambda x: 1 / (1 + np.exp(-(x - middle) / width))


def test_the_search_finds_the_known_answer_of_a_monotone_response():
    truth, covered, errors = 6000.0, 0, []
    for seed in range(8):
        evaluate, asked = toy(logistic(truth, 400, 0.8), seed)
        result = search.search(evaluate, 0, 20_000, 0.8, Settings(integer=True, seed=seed))
        assert result.status == FOUND
        lo, hi = result.interval
        covered += lo <= truth <= hi
        errors.append(result.answer - truth)
        p, p_low, p_high = result.p_at
        assert p_low <= 0.8 <= p_high and (p_high - p_low) / 2 <= 0.055
        # each (level, replicate) runs once, and each level's replicates are 0..n-1
        assert len(asked) == len(set(asked)) == result.runs
        for pt in result.points:
            assert sorted(r for lv, r in asked if lv == pt.level) == list(range(pt.n))
        # the replicates went where the curve crosses P, not to the coarse grid
        near = sum(pt.n for pt in result.points if abs(pt.level - truth) < 1000)
        assert near > result.runs / 2
    # The bootstrap's 90% interval covers the truth in about 3 of 4 searches of this toy (30 of
    # 40 seeds; the adaptive design follows its sample): 5 of these 8 seeds is what it gives.
    assert covered >= 5, errors
    assert np.median(np.abs(errors)) < 150, errors


def test_a_step_response_is_bisected_to_a_whole_unit():
    evaluate, _ = toy(lambda x: (x >= 3217).astype(float), 1)
    result = search.search(evaluate, 0, 10_000, 0.8, Settings(integer=True))
    assert (result.status, result.answer, result.interval) == (FOUND, 3217.0, (3216.0, 3217.0))
    assert result.runs < 300  # bisection on the first round's replicates


def test_a_goal_out_of_reach_or_reached_already_is_said_so():
    evaluate, _ = toy(lambda x: np.full(len(x), 0.3), 2)
    result = search.search(evaluate, 0, 1, 0.8)
    assert result.status == NOT_REACHED and result.answer is None and result.p_at[2] < 0.8
    evaluate, _ = toy(lambda x: np.full(len(x), 0.97), 3)
    result = search.search(evaluate, 0, 1, 0.8)
    assert result.status == ALREADY and result.p_at[1] >= 0.8


@pytest.mark.parametrize("args, message", [
    ((0, 1, 0.0), "strictly between 0 and 1"),
    ((0, 1, 1.0), "strictly between 0 and 1"),
    ((5, 5, 0.5), "must be below --high"),
    ((6, 5, 0.5), "must be below --high"),
])
def test_bad_input_is_refused(args, message):
    evaluate, asked = toy(lambda x: x, 0)
    with pytest.raises(search.SearchError, match=message):
        search.search(evaluate, *args)
    assert not asked


def test_the_isotonic_fit_pools_violators():
    assert search.isotonic(np.array([0.1, 0.5, 0.3, 0.9]), np.array([1, 1, 1, 2])).tolist() \
        == pytest.approx([0.1, 0.4, 0.4, 0.9])


def test_a_run_is_reduced_to_whether_it_meets_the_goal_flows_counted_from_the_origin():
    start = dt.date(2026, 1, 1)
    metrics = ("capital_gang_share_area", "killed")
    values = np.column_stack([np.full(10, 0.6), np.ones(10)])  # one killed a day
    out = RunOutput("x", 0, 1, start, metrics, values, np.zeros(3, bool))
    origin = start + dt.timedelta(days=2)
    # from the origin to day 6: 5 killed, not below 5; to day 5: 4, below 5
    assert not search.MeetsGoal(Goal.of("killed", 5, start + dt.timedelta(days=6)), origin)(out)
    assert search.MeetsGoal(Goal.of("killed", 5, start + dt.timedelta(days=5)), origin)(out)
    assert not search.MeetsGoal(Goal.of("capital_gang_share_area", 0.5, start), origin)(out)

if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
