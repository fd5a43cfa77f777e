"""Properties that hold at every parameter point, checked at random ones (hypothesis).

The other tests check the model at chosen points; these draw the points: every uncertain value
from its plausible range, every lever from its whole validity range (a policy can be anything the
model accepts), and, half the time, a cut of all mission funding on a random day (the case that
once drove the mission's cash below zero). Each point runs the first 120 days of the historical
scenario, and the run must conserve people, keep shares in [0, 1], stocks non-negative and every
recorded number finite. The draws are derandomized, so CI checks the same points every time; a
failure prints the point (hypothesis shrinks it), to be pasted into `point_scenario`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from pathlib import Path

import mesa
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import mission, scenario
from sim.model.parameters import DONORS, PARAMS, defaults
from sim.model.world import HaitiModel

HISTORY = Path(__file__).resolve().parents[1] / "scenarios" / "history.yaml"
DAYS = 120


def _values(p) -> st.SearchStrategy[float]:
    low, high = p.plausible if p.uncertain else (p.low, p.high)
    if p.integer:
        return st.integers(int(np.ceil(low)), int(np.floor(high))).map(float)
    return st.floats(low, high, allow_nan=False)


POINTS = st.fixed_dictionaries({name: _values(p) for name, p in PARAMS.items()
                                if p.uncertain or p.lever})
CUTS = st.none() | st.tuples(st.integers(1, DAYS - 1), st.just(0.0) | st.floats(0, 1))


def point_scenario(point: dict[str, float], cut: tuple[int, float] | None) -> scenario.Scenario:
    """The first `DAYS` days of the history at `point`; `cut` = (day, factor) scales every
    donor's mission funding by `factor` on that day."""
    history = scenario.load(HISTORY)
    end = history.start + dt.timedelta(days=DAYS - 1)
    sc = dataclasses.replace(history, end=end,
                             events=tuple(e for e in history.events if e.date <= end))
    sc = sc.with_overrides(point)
    if cut is not None:
        day, factor = cut
        when = sc.start + dt.timedelta(days=day)
        sc = dataclasses.replace(sc, events=sc.events + tuple(
            scenario.Event(when, f"funding_mission_{d}", "scale", factor) for d in DONORS))
    return sc


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(point=POINTS, cut=CUTS)
def test_every_parameter_point_conserves_people_and_keeps_numbers_sane(point, cut):
    model = HaitiModel(point_scenario(point, cut), seed=7)
    cash = []
    for _ in range(DAYS):
        model.step()
        assert model.people_total() == pytest.approx(model.initial_population, rel=1e-9)
        cash.append(model.mission.cash_usd)
    rec = model.recorder
    values = rec.values
    bad = [n for i, n in enumerate(rec.names) if not np.isfinite(values[:, i]).all()]
    assert not bad, f"not finite: {bad}"
    for name in rec.names:
        series = rec.series(name)
        if "share" in name or name.startswith("road_cut."):
            assert ((series >= 0) & (series <= 1)).all(), name
        else:
            assert (series >= 0).all(), name  # every recorded count, flow and balance
    assert min(cash) >= 0
    cells, gs = model.cells, model.gang_state
    for array in (cells.residents, cells.displaced_from, cells.hosted, gs.members, gs.firearms,
                  gs.cash_usd):
        assert (array >= -1e-9).all()
    assert cells.hosted.sum() == pytest.approx(cells.displaced_from.sum(), rel=1e-9)
    assert min(model.police.officers, model.army.soldiers, model.mission.troops) >= 0


MISSION = ("mission_troops_target", "mission_troop_ceiling", "mission_deploy_troops_per_month",
           "mission_mandate", "mission_runway_months", "mission_cost_usd_per_troop_year",
           "pko_cost_factor", "pko_deploy_factor", "mission_disbursement_share",
           "mission_disbursement_lag_months", "mission_fixed_cost_usd_per_year",
           "mission_carryover_months", *(f"funding_mission_{d}" for d in DONORS))


def _whole_range(name: str) -> st.SearchStrategy[float]:
    p = PARAMS[name]
    return st.integers(int(p.low), int(p.high)).map(float) if p.integer else st.floats(
        p.low, p.high, allow_nan=False)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(start=st.fixed_dictionaries({n: _whole_range(n) for n in MISSION}),
       cuts=st.lists(st.tuples(st.integers(0, 364), st.floats(0, 1)), max_size=4),
       losses=st.lists(st.tuples(st.integers(0, 364), st.floats(0, 5000)), max_size=4))
def test_the_mission_never_spends_money_it_does_not_have(start, cuts, losses):
    """The mission alone, over a year, at any point of its parameters' validity ranges (a zero
    runway and the fastest deployment included), with donors cutting at random days and troops
    killed: the whole model rarely reaches these corners in a short run, so they are drawn here."""
    p = dict(defaults(), **start)
    model = mesa.Model(rng=1)
    model.p, model.rates = p, types.SimpleNamespace(mission=mission.rates(p))
    m = mission.Mission(model)
    for day in range(365):
        for when, factor in cuts:
            if when == day:
                for d in DONORS:
                    p[f"funding_mission_{d}"] *= factor
                model.rates = types.SimpleNamespace(mission=mission.rates(p))
        m.killed += sum(killed for when, killed in losses if when == day)
        model.today = dt.date(2026, 12, 1) + dt.timedelta(days=day)  # a 1 January inside
        available_usd = m.cash_usd + m.pipeline_usd * model.rates.mission.disbursement_per_day
        m.step()
        assert m.cash_usd >= 0 and m.troops >= 0
        assert m.spent_usd <= available_usd
        assert m.troops <= min(p["mission_troops_target"], p["mission_troop_ceiling"]) + 1e-9


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
