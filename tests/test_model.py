"""Behaviour of the model: invariants, determinism, exact forks, and responses that must hold.

Runs are short (months, not years) and seeded; responses are checked on averages over paired
replicates (common random numbers), because single runs are stochastic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sim.model import combat, gangs, scenario
from sim.model.parameters import PARAMS
from sim.model.world import HaitiModel
from sim.running import engine

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def history() -> scenario.Scenario:
    return scenario.load(SCENARIOS / "history.yaml")


def short(sc: scenario.Scenario, days: int, **overrides) -> scenario.Scenario:
    """The scenario cut to its first `days` days, with parameters overridden from the start."""
    end = sc.start + dt.timedelta(days=days - 1)
    cut = dataclasses.replace(sc, end=end, events=tuple(e for e in sc.events if e.date <= end))
    return cut.with_overrides(overrides)


@pytest.fixture(scope="module")
def year_run(history) -> HaitiModel:
    model = HaitiModel(short(history, 365), seed=11)
    model.run()
    return model


def test_people_are_conserved(year_run):
    assert year_run.people_total() == pytest.approx(year_run.initial_population, rel=1e-9)
    cells = year_run.cells
    assert cells.hosted.sum() == pytest.approx(cells.displaced_from.sum(), rel=1e-9)


def test_people_are_conserved_every_day(history):
    model = HaitiModel(short(history, 60), seed=2)
    for _ in range(60):
        model.step()
        assert model.people_total() == pytest.approx(model.initial_population, rel=1e-9)


def test_no_negative_counts(year_run):
    cells, gs = year_run.cells, year_run.gang_state
    for array in (cells.residents, cells.displaced_from, cells.hosted, gs.members, gs.firearms,
                  gs.cash_usd):
        assert (array >= -1e-9).all()
    assert year_run.police.officers >= 0 and year_run.mission.troops >= 0
    values = year_run.recorder.values
    flows = [i for i, n in enumerate(year_run.recorder.names)
             if year_run.recorder.is_flow(n)]
    assert (values[:, flows] >= 0).all()


def test_shares_are_shares(year_run):
    rec = year_run.recorder
    for name in rec.names:
        if "share" in name or name.startswith("road_cut."):
            series = rec.series(name)
            assert ((series >= 0) & (series <= 1)).all(), name


def test_owners_are_valid(year_run):
    owner = year_run.cells.owner
    assert ((owner == -1) | ((owner >= 0) & (owner < len(year_run.gang_state.members)))).all()
    # the frontier kept up to date by every change of owner equals one counted from scratch
    assert np.array_equal(year_run.cells.border, combat.border_counts(year_run.geo, owner))


def test_initial_state_matches_the_observed_start(history):
    model = HaitiModel(history, seed=1)
    assert model.capital_gang_share == pytest.approx(0.6, abs=0.02)
    assert model.cells.displaced_from.sum() == pytest.approx(155_000, rel=1e-6)
    assert model.police.officers == 14_861
    assert model.mission.troops == 0


@pytest.mark.parametrize("radius_km", [None, 2.4])  # the shipped radius, and one near the top
def test_the_state_starts_with_the_neighbourhoods_it_held_in_early_2023(history, radius_km):
    # at 2.4 km two named groups' bases lie within reach of a state-held place (G9's is ~1.8 km
    # from Solino): the place must stop where the base is nearer
    sc = history if radius_km is None else history.with_overrides(
        {"initial_state_held_radius_km": radius_km})
    model = HaitiModel(sc, seed=1)
    kept = gangs.state_held(model.geo, model.p["initial_state_held_radius_km"])
    assert kept[model.geo.is_capital].sum() >= 25  # 33 of the capital's 265 cells at 1.69 km
    assert not kept[model.gang_state.home].any()  # no group's base
    assert (model.cells.owner[kept] == combat.STATE).all()
    # every group starts with ground of its own, and no generic group is based on a named
    # group's streets (its base and the cells next to it)
    assert np.isin(np.arange(len(model.gang_state.members)), model.cells.owner).all()
    geo, n_named = model.geo, len(gangs.NAMED_GANGS)
    streets = np.concatenate([geo.edge_dst[geo.edge_ptr[h]:geo.edge_ptr[h + 1]]
                              for h in model.gang_state.home[:n_named]])
    assert not np.isin(model.gang_state.home[n_named:],
                       np.concatenate([streets, model.gang_state.home[:n_named]])).any()


def test_generic_metro_groups_settle_near_their_coalitions_named_groups(history):
    def distances(spread_km):
        """Mean distance of the generic metro bases to the nearest named group of their own
        coalition and of the other one."""
        model = HaitiModel(history.with_overrides({"gang_base_spread_km": spread_km}), seed=1)
        g, geo, own, other = model.gang_state, model.geo, [], []
        for i in range(len(gangs.NAMED_GANGS), len(g.members)):
            if geo.is_metro[g.home[i]]:
                lon, lat = geo.lon[g.home[i]], geo.lat[g.home[i]]
                d = {a: min(np.hypot((lon - n.lon) * np.cos(np.radians(lat)), lat - n.lat)
                            for n in gangs.NAMED_GANGS if n.alliance == a)
                     for a in (gangs.G9, gangs.GPEP)}
                own.append(d[g.alliance[i]])
                other.append(d[gangs.GPEP if g.alliance[i] == gangs.G9 else gangs.G9])
        return np.mean(own), np.mean(other)
    near_own, near_other = distances(1.0)
    # each settles among its own coalition's groups (~3.6 km from them, ~4.3 km from the
    # other's: the two coalitions' named groups interleave across the capital; at 15 km, ~5.7
    # and ~5.7; over seeds 1-8 the ratio runs 0.74-0.85)
    assert near_own < 0.9 * near_other
    assert near_own < 0.7 * distances(15.0)[0]  # and the closer, the smaller the spread


def test_same_seed_same_result(history):
    sc = short(history, 120)
    a, b = HaitiModel(sc, seed=5), HaitiModel(sc, seed=5)
    a.run()
    b.run()
    assert np.array_equal(a.recorder.values, b.recorder.values)
    assert np.array_equal(a.cells.owner, b.cells.owner)


def test_different_seed_different_result(history):
    sc = short(history, 120)
    a, b = HaitiModel(sc, seed=5), HaitiModel(sc, seed=6)
    a.run()
    b.run()
    assert not np.array_equal(a.recorder.values, b.recorder.values)


def test_fork_continues_exactly_like_a_run_from_the_start():
    policy = scenario.load(SCENARIOS / "status_quo.yaml")
    history = scenario.load(SCENARIOS / "history.yaml")
    stop = policy.branch + dt.timedelta(days=60)
    cut = dataclasses.replace(policy, end=stop - dt.timedelta(days=1))
    whole = HaitiModel(cut, seed=4)
    whole.run()
    shared = HaitiModel(history, seed=4)
    shared.run(until=policy.branch)
    forked = shared.fork(cut)
    forked.run()
    assert np.array_equal(whole.recorder.values, forked.recorder.values)


def test_fork_refuses_a_different_history(history):
    model = HaitiModel(short(history, 30), seed=1)
    model.run()
    other = short(history, 60).with_overrides({"gang_count": 100})
    other = dataclasses.replace(other, events=other.events + (
        scenario.Event(history.start, "arms_interdiction", "set", 0.5),))
    with pytest.raises(ValueError, match="history"):
        model.fork(other)


def test_fork_refuses_different_starting_parameters(history):
    model = HaitiModel(short(history, 30), seed=1)
    model.run()
    with pytest.raises(ValueError, match="history"):
        model.fork(short(history, 60, arms_interdiction=0.5))
    model.fork(short(history, 60))  # the same history: accepted


def test_events_take_effect_on_their_date(history):
    day = 40
    when = history.start + dt.timedelta(days=day)
    sc = dataclasses.replace(
        short(history, 90, funding_mission_others=1e9, mission_troop_ceiling=5000),
        events=(scenario.Event(when, "mission_troops_target", "set", 3000),))
    model = HaitiModel(sc, seed=1)
    model.run()
    troops = model.recorder.series("troops")
    assert (troops[:day] == 0).all() and troops[day] > 0
    pace = PARAMS["mission_deploy_troops_per_month"].default * 12 / 365
    assert troops[day + 10] <= 11 * pace + 1e-9  # arrives at the deployment pace


def test_troops_never_exceed_target_ceiling_or_money(history):
    sc = short(history, 200, mission_troops_target=5000, mission_troop_ceiling=1200,
               funding_mission_others=50e6)
    model = HaitiModel(sc, seed=3)
    model.run()
    troops = model.recorder.series("troops")
    assert troops.max() <= 1200
    cost = PARAMS["mission_cost_usd_per_troop_year"].default
    assert troops[-1] <= 50e6 / cost * 1.5  # income plus a runway of cash, no more


def test_mission_cash_never_goes_negative(history):
    """A funding cut with no runway: the force shrinks as its balance is spent, and the mission
    never pays more than came in (issue 9: cash went to -$22 M)."""
    cut = history.start + dt.timedelta(days=40)
    # money that arrives the next day, in full, with no fixed costs: the payroll is what binds
    sc = short(history, 120, mission_runway_months=0, mission_deploy_troops_per_month=5000,
               mission_troops_target=5000, mission_troop_ceiling=5000,
               funding_mission_others=2e9, mission_disbursement_share=1.0,
               mission_disbursement_lag_months=0.0, mission_fixed_cost_usd_per_year=0.0)
    sc = dataclasses.replace(sc, events=sc.events + (
        scenario.Event(cut, "funding_mission_others", "set", 0.0),))
    model = HaitiModel(sc, seed=1)
    model.run()
    cash = model.recorder.series("mission_cash_usd")
    troops = model.recorder.series("troops")
    spent = model.recorder.series("spent_mission_usd")
    assert troops[:40].max() == pytest.approx(5000)  # the money did pay for a full deployment
    assert (cash >= 0).all()
    # after the cut the force shrinks as the balance is spent, never the other way
    assert troops[41:].max() <= troops[40] and troops[-1] < 0.5 * 5000
    assert cash[-1] < cash[40]
    # what was spent and what is left is what came in: the first 40 days' income, no more
    assert spent.sum() + cash[-1] == pytest.approx(2e9 / 365 * 40, rel=1e-9)


def _runs(history, days, replicates, **overrides) -> list[dict[str, float]]:
    """Outcomes averaged over the last 60 days of each replicate; replicate i uses seed 100 + i
    whatever the overrides, so two calls are paired (common random numbers)."""
    out = []
    for i in range(replicates):
        [run] = engine.run([("run", short(history, days, **overrides))], 100 + i, replicate=i)
        out.append({name: run.values[-60:, run.metrics.index(name)].mean() for name in (
            "gang_controlled_population", "troops", "gang_firearms")})
    return out


def mean(runs, name):
    return float(np.mean([r[name] for r in runs]))


FUNDED = {"funding_mission_others": 4e9, "mission_troop_ceiling": 20000,
          "mission_deploy_troops_per_month": 2000, "mission_mandate": 1}


@pytest.fixture(scope="module")
def baseline(history):
    return _runs(history, 240, 4)


@pytest.mark.parametrize("troops", [2000, 6000])
def test_more_troops_never_help_gangs(history, baseline, troops):
    more = _runs(history, 240, 4, mission_troops_target=troops, **FUNDED)
    assert mean(more, "troops") > 0.9 * troops
    assert mean(more, "gang_controlled_population") < mean(baseline, "gang_controlled_population")


def test_more_interdiction_never_helps_gangs(history, baseline):
    interdicted = _runs(history, 240, 4, arms_interdiction=0.9)
    assert mean(interdicted, "gang_firearms") < mean(baseline, "gang_firearms")
    assert mean(interdicted, "gang_controlled_population") <= 1.02 * mean(
        baseline, "gang_controlled_population")


def test_a_funding_cut_never_helps_the_state(history):
    funded = _runs(history, 240, 4, mission_troops_target=3000, **FUNDED)
    cut = _runs(history, 240, 4, mission_troops_target=3000,
                **dict(FUNDED, funding_mission_others=0.0))
    assert mean(cut, "troops") < mean(funded, "troops")
    assert mean(cut, "gang_controlled_population") >= mean(funded, "gang_controlled_population")


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
