"""Goals (`sim.analysis.goals`): at a date, sustained over the last days, ever by the date; below
and above; flows counted from the origin; and the mistakes a goal refuses."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.analysis.goals import Goal, GoalError

START = dt.date(2026, 1, 1)
DATES = np.datetime64(START, "D") + np.arange(10)


def day(k: int) -> dt.date:
    return START + dt.timedelta(days=k)


def test_at_sustained_and_ever_read_the_days_they_say():
    share = np.array([
        [0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.4, 0.4, 0.4, 0.4],  # below 0.5 from day 6 on
        [0.6, 0.4, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.4, 0.6],  # below on days 1 and 8 only
        [0.6] * 10,                                          # never below
    ])
    at = Goal.of("capital_gang_share_area", 0.5, day(8))
    assert at.met(share, DATES, START).tolist() == [True, True, False]
    sustained = Goal.of("capital_gang_share_area", 0.5, day(8), sustained_days=3)
    assert sustained.met(share, DATES, START).tolist() == [True, False, False]
    ever = Goal.of("capital_gang_share_area", 0.5, day(5), ever=True)
    assert ever.met(share, DATES, START).tolist() == [False, True, False]
    # ever counts from the origin (a policy's branch): day 1 is before it here
    assert ever.met(share, DATES, day(2)).tolist() == [False, False, False]
    above = Goal.of("capital_gang_share_area", 0.5, day(8), below=False)
    assert above.met(share, DATES, START).tolist() == [False, False, True]
    # strict: a value on the threshold meets neither side; a missing day meets nothing
    edge = np.array([[0.5] * 10, [np.nan] * 10])
    assert not at.met(edge, DATES, START).any() and not above.met(edge, DATES, START).any()


def test_a_flow_is_judged_on_its_total_since_the_origin():
    killed = np.full((1, 10), np.nan)  # one killed a day, counted from the origin (day 2)
    killed[:, 2:] = np.arange(1, 9)
    assert not Goal.of("killed", 5, day(6)).met(killed, DATES, day(2))[0]  # 5 by day 6
    assert Goal.of("killed", 5, day(5)).met(killed, DATES, day(2))[0]  # 4 by day 5
    assert "(cumulative)" in Goal.of("killed", 5, day(5)).describe()


def test_describe_says_the_goal_in_words():
    goal = Goal.of("capital_gang_share_area", 0.5, dt.date(2027, 12, 31), sustained_days=90)
    assert goal.describe() == ("Gang-held share of Port-au-Prince (area) below 50.0% on every "
                               "day from 2027-10-03 to 2027-12-31 (90 days)")
    assert goal.to_dict()["mode"] == "sustained" and goal.to_dict()["by"] == "2027-12-31"


@pytest.mark.parametrize("make, message", [
    (lambda: Goal.of("capital_share", 0.5, day(3)), "did you mean 'capital_gang_share_area'"),
    (lambda: Goal.of("road_cut.RN9", 0.5, day(3)), "no outcome is named 'road_cut.RN9'"),
    (lambda: Goal.of("killed", 5, day(3), sustained_days=0), "1 or more"),
    (lambda: Goal.of("killed", 5, day(3), sustained_days=3, ever=True), "not both"),
    (lambda: Goal.of("killed", float("nan"), day(3)), "must be a number"),
])
def test_a_goal_that_cannot_be_judged_is_refused(make, message):
    with pytest.raises(GoalError, match=message):
        make()


def test_check_refuses_dates_the_run_cannot_judge_or_the_lever_cannot_change():
    start, branch, end = dt.date(2023, 1, 1), dt.date(2026, 1, 1), dt.date(2027, 12, 31)
    Goal.of("killed", 5, end).check(start, end, branch)
    with pytest.raises(GoalError, match="outside the run"):
        Goal.of("killed", 5, dt.date(2028, 1, 1)).check(start, end, branch)
    with pytest.raises(GoalError, match="before the branch"):
        Goal.of("killed", 5, dt.date(2025, 6, 1)).check(start, end, branch)
    with pytest.raises(GoalError, match="begins before the run"):
        Goal.of("killed", 5, dt.date(2023, 1, 5), sustained_days=10).check(start, end, None)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
