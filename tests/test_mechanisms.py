"""Each mechanism on a micro-world of four cells, against its equation in docs/odd.md (section 7).

The kernels are called directly with hand-built records (`CellState`, `GangState`,
`geography.World`, `combat.Deployment`, each module's `Rates`). Deterministic mechanisms are
checked to rounding; random ones by the frequency or mean over many days, each day drawing from
its own keyed generators (`sim.model.jit`), within five standard errors.

The micro-world is a line of cells 0 - 1 - 2 - 3: cells 0 and 1 in the metro, 2 in Artibonite, 3
in the rest of the country.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
import types
from pathlib import Path

import mesa
import numpy as np
import pytest

from sim.model import combat, gangs, jit, mission, population, security_forces
from sim.model.combat import STATE
from sim.model.geography import World
from sim.model.parameters import PARAMS
from sim.model.population import CellState
from sim.model.world import rates as all_rates

ROOT = Path(__file__).resolve().parents[1]
SEED = jit.seed_key(np.random.SeedSequence(7))
DAYS = 4000  # draws per frequency check


def params(**overrides) -> dict[str, float]:
    p = {name: float(param.default) for name, param in PARAMS.items()}
    p.update(overrides)
    return p


def short_history(days: int, events=(), **parameters):
    """The record's scenario (scenarios/history.yaml) cut to its first `days` days, with `events`
    in place of its own and `parameters` set from the start."""
    from sim.model import scenario
    h = scenario.load(ROOT / "scenarios" / "history.yaml")
    return dataclasses.replace(h, end=h.start + dt.timedelta(days=days - 1), events=tuple(events),
                               parameters={**h.parameters, **parameters})


def world(cell_value=(1.0, 1.0, 1.0, 1.0)) -> World:
    """Four cells in a line: 0-1 metro, 2 Artibonite, 3 elsewhere; road cells 1 and 2; what
    holding them takes under the default parameters."""
    src = np.array([0, 1, 1, 2, 2, 3])
    dst = np.array([1, 0, 2, 1, 3, 2], dtype=np.int32)
    is_metro = np.array([True, True, False, False])
    return World(edge_ptr=np.searchsorted(src, np.arange(5)).astype(np.int64), edge_dst=dst,
                 is_metro=is_metro,
                 region=np.array([combat.METRO, combat.METRO, combat.ARTIBONITE, combat.REST],
                                 dtype=np.int32),
                 region_population=np.array([100_000.0, 300_000.0, 100_000.0]),
                 key_sites=np.array([1], dtype=np.int32), road_cells=np.array([1, 2]),
                 cargo_cells=np.array([1, 2], dtype=np.int32),
                 cell_value=np.array(cell_value),
                 hold_weight=gangs.hold_weights(is_metro, np.array([1, 2]), params()))


def cells(owner, residents=(10_000.0, 20_000.0, 5_000.0, 1_000.0), displaced=(0, 0, 0, 0),
          claimant=(-1, -1, -1, -1)) -> CellState:
    owner = np.array(owner, dtype=np.int32)
    border = np.array([sum(owner[b] != owner[a] for b in nbrs) for a, nbrs in
                       enumerate(((1,), (0, 2), (1, 3), (2,)))], dtype=np.int32)
    displaced = np.array(displaced, dtype=float)
    return CellState(owner=owner, border=border, residents=np.array(residents, dtype=float),
                     displaced_from=displaced, hosted=np.zeros(4) + displaced.sum() / 4,
                     days_secure=np.zeros(4, np.int32),
                     claimant=np.array(claimant, dtype=np.int32),
                     killed_by_gangs=np.zeros(4), held_days=np.zeros(4, np.int64),
                     alarm=np.zeros(4))


def economy(g, c, r, day=0, garrison=None):
    """One day of `gangs.economy` on the four-cell `world()`; by default every cell's garrison is
    at the reference presence for kidnapping, so the state's presence weighs 1."""
    if garrison is None:
        garrison = c.residents * r.kidnap_presence_reference
    return gangs.economy(g, c, world(), r, SEED, day, np.asarray(garrison, dtype=float))


def gang_state(members=(100.0, 50.0), firearms=None, cash=(1e6, 1e6), alliance=(3, 4),
               home=(0, 3), overstretch=(0.5, 0.5), posture=(1.0, 1.0)) -> gangs.GangState:
    members = np.array(members, dtype=float)
    alliance = np.array(alliance, dtype=np.int32)
    return gangs.GangState(
        members=members, firearms=members.copy() if firearms is None else np.array(firearms),
        cash_usd=np.array(cash, dtype=float), alliance=alliance, coalition=alliance.copy(),
        home=np.array(home, dtype=np.int32), posture=np.array(posture),
        overstretch=np.array(overstretch, dtype=float))


def no_deployment(garrison=(0.0, 0.0, 0.0, 0.0), reserve_power=(0.0, 0.0, 0.0),
                  operations=(0.0, 0.0, 0.0), own_garrison=None,
                  mobile_personnel=None) -> combat.Deployment:
    """A deployment; by default the state's own garrison is all of it and the mobile force is
    never used up (`mobile_personnel` large)."""
    garrison = np.array(garrison)
    return combat.Deployment(garrison=garrison, garrison_power=garrison.copy(),
                             own_garrison=garrison.copy() if own_garrison is None
                             else np.array(own_garrison),
                             reserve_power=np.array(reserve_power),
                             reserve_personnel=np.array(reserve_power),
                             mobile_personnel=np.full(3, 1e12) if mobile_personnel is None
                             else np.array(mobile_personnel),
                             operations=np.array(operations),
                             shares=np.tile([1.0, 0.0, 0.0], (3, 1)))


def no_engagements() -> combat.Engagements:
    return combat.Engagements(*(np.zeros(0, t) for t in (np.int64, np.int64, np.int64, np.bool_,
                                                         float, float, np.bool_)))


def within(observed_mean, expected_mean, sd, n):
    assert abs(observed_mean - expected_mean) < 5 * sd / np.sqrt(n) + 1e-12, (
        observed_mean, expected_mean)


# --------------------------------------------------------------------- 7.5 the contest
def test_win_probability_is_the_logistic_of_the_log_force_ratio():
    assert combat.win_probability(3.0, 1.0, 1.5, 2.0) == pytest.approx(0.8)
    assert combat.win_probability(1.0, 1.0, 1.5, 2.0) == pytest.approx(1 / (1 + 1.5 ** 2))
    for a, d, adv, k in [(10.0, 4.0, 2.0, 3.0), (1.0, 7.0, 1.0, 0.5)]:
        assert combat.win_probability(a, d, adv, k) == pytest.approx(1 / (1 + (adv * d / a) ** k))


def test_a_gang_attack_is_won_as_often_as_the_contest_says():
    # gang 0 holds cell 0 and attacks the state-held cell 1 every day (a huge attack rate)
    p = params(gang_attack_rate=1e6, ally_support_share=0.0)
    r = combat.rates(p)
    c, g = cells([0, STATE, STATE, STATE]), gang_state(firearms=(50.0, 50.0))
    dep = no_deployment(garrison=(0, 2.0, 0, 0), reserve_power=(3.0, 0, 0))
    won = []
    for day in range(DAYS):
        eng = combat.engage(c, g, dep, world(), r, SEED, day)
        assert list(eng.cells) == [1] and eng.attacker[0] == 0
        won.append(eng.attacker_won[0])
    armed = 0.5
    attack = 100 * p["gang_concentration"] * (armed + p["gang_unarmed_member_power"] * (1 - armed))
    defence = 2.0 + 3.0 + p["community_defence_per_1000_residents"] * 20_000 / 1000
    expected = 1 / (1 + (p["defender_advantage"] * defence / attack) ** p["combat_steepness"])
    within(np.mean(won), expected, np.sqrt(expected * (1 - expected)), DAYS)


def test_attacks_are_spread_over_edges_in_proportion_to_value_over_defence():
    # gang 0 in cell 1 borders state cells 0 and 2; E_g attacks a day; cell 2 is worth 3 times
    p = params(gang_attack_rate=4.0, gang_concentration=0.1)
    r = combat.rates(p)
    c = cells([STATE, 0, STATE, 1], residents=(1_000.0, 1_000.0, 1_000.0, 1_000.0))
    g = gang_state(members=(100.0, 0.0), posture=(1.0, 0.0))
    w = world(cell_value=(1.0, 1.0, 3.0, 1.0))
    counts = np.zeros(4)
    for day in range(DAYS):
        counts[combat.engage(c, g, no_deployment(), w, r, SEED, day).cells] += 1
    expected_attacks = p["gang_attack_rate"] / 1000 * 100  # E_g = 0.4
    defence = p["community_defence_per_1000_residents"]  # at 1,000 residents
    score = np.array([1.0, 3.0]) * (1_000 + p["target_value_floor_residents"]) / (1 + defence)
    pr = expected_attacks * score / score.sum()
    within(counts[0] / DAYS, pr[0], np.sqrt(pr[0] * (1 - pr[0])), DAYS)
    within(counts[2] / DAYS, pr[1], np.sqrt(pr[1] * (1 - pr[1])), DAYS)


# --------------------------------------------------------------------- 7.6, 7.7 outcomes
def engagement(attacker, defender, cell, won, attack_personnel=200.0, defence_personnel=100.0):
    return combat.Engagements(np.array([cell]), np.array([attacker]), np.array([defender]),
                              np.array([won]), np.array([attack_personnel]),
                              np.array([defence_personnel]), np.zeros(1, np.bool_))


@pytest.mark.parametrize("overstretch, captures", [(0.5, True), (1.0, False), (1.5, False)])
def test_a_won_attack_captures_only_below_capacity_and_keeps_the_frontier_right(
        overstretch, captures):
    c = cells([0, STATE, STATE, 1])
    g = gang_state(overstretch=(overstretch, 0.5))
    eng = engagement(0, STATE, 1, True)
    combat.resolve(eng, c, g, no_deployment(), world(), combat.rates(params()), SEED, 0)
    assert eng.captured[0] == captures
    assert c.owner[1] == (0 if captures else STATE)
    assert list(c.border) == list(cells(list(c.owner)).border)  # recounted from scratch


def test_a_won_state_operation_clears_the_cell():
    c = cells([0, 0, STATE, 1])
    eng = engagement(STATE, 0, 1, True)
    combat.resolve(eng, c, gang_state(), no_deployment(), world(), combat.rates(params()),
                   SEED, 0)
    assert c.owner[1] == STATE and eng.captured[0]
    assert c.claimant[1] == 0 and c.held_days[1] == 0  # gang 0 keeps a claim on it


@pytest.mark.parametrize("won", [True, False])
def test_engagement_losses_are_poisson_at_the_winners_and_losers_rates(won):
    # a state operation (attacker STATE) against gang 0 in cell 1, not won, so nothing moves
    p = params(loss_rate_loser=0.05, loss_rate_winner=0.02, state_casualty_ratio=0.2)
    r = combat.rates(p)
    state_dead, gang_dead, civilians = [], [], []
    for day in range(DAYS):
        c, g = cells([0, 0, STATE, 1]), gang_state(members=(1e9, 50.0))
        eng = engagement(STATE, 0, 1, False, attack_personnel=400.0, defence_personnel=300.0)
        eng.attacker_won[0] = won
        if won:
            g.overstretch[:] = 0.5
        killed_gang, killed_state, killed_civilians, in_operations = combat.resolve(
            eng, c, g, no_deployment(), world(), r, SEED, day)
        # a state operation: its gang and civilian dead, not the state's own, are BINUH's
        assert in_operations == killed_gang + killed_civilians
        state_dead.append(killed_state.sum())
        gang_dead.append(killed_gang)
        civilians.append(killed_civilians)
    att = (p["loss_rate_winner"] if won else p["loss_rate_loser"]) * p["state_casualty_ratio"]
    dfn = p["loss_rate_loser"] if won else p["loss_rate_winner"]
    civ = p["civilians_killed_per_engagement"] * np.sqrt(20_000 / 10_000)
    for observed, lam in [(state_dead, 400 * att), (gang_dead, 300 * dfn), (civilians, civ)]:
        within(np.mean(observed), lam, np.sqrt(lam), DAYS)
        assert np.var(observed) == pytest.approx(lam, rel=0.15)


def test_a_fight_between_gangs_kills_no_one_in_the_states_operations():
    eng = engagement(1, 0, 1, True, attack_personnel=2_000.0, defence_personnel=2_000.0)
    g = gang_state(members=(1e4, 1e4))
    killed_gang, _, killed_civilians, in_operations = combat.resolve(
        eng, cells([0, 0, 1, 1]), g, no_deployment(), world(), combat.rates(params()), SEED, 0)
    assert killed_gang + killed_civilians > 0 and in_operations == 0


def test_self_defence_brigades_kill_on_the_frontier_at_their_rate_mostly_gang_members():
    # cells 0-1 gang 0, 2-3 state: cell 2 (5,000 residents) is the frontier
    rate = 3650.0  # per 1,000 frontier residents a year: 10 per 1,000 a day
    r = combat.rates(params(self_defence_killings_per_1000_frontier_residents_per_year=rate,
                            lynched_gang_member_share=0.8))
    gang_dead = civilians = 0.0
    for day in range(DAYS):
        c, g = cells([0, 0, STATE, STATE]), gang_state(members=(1e6, 50.0))
        killed_gang, killed_civilians = combat.self_defence(c, g, world(), r, SEED, day,
                                                            no_engagements())
        assert g.members[0] == 1e6 - killed_gang and g.members[1] == 50.0
        assert c.residents[3] == 1_000.0 and c.residents[2] == 5_000.0 - killed_civilians
        gang_dead, civilians = gang_dead + killed_gang, civilians + killed_civilians
    lam = 5_000 * 10 / 1000  # the frontier's 5,000 residents at 10 per 1,000 a day
    within((gang_dead + civilians) / DAYS, lam, np.sqrt(lam), DAYS)
    assert gang_dead / (gang_dead + civilians) == pytest.approx(0.8, abs=0.03)


def test_no_frontier_no_lynchings():
    r = combat.rates(params(self_defence_killings_per_1000_frontier_residents_per_year=3650.0))
    for owner in ([0, 0, 0, 0], [STATE, STATE, STATE, STATE]):
        assert combat.self_defence(cells(owner), gang_state(), world(), r, SEED, 0,
                                   no_engagements()) == (0.0, 0.0)


def test_brigades_lynch_more_next_to_ground_gangs_have_just_taken_and_the_alarm_fades():
    rate = 3650.0  # 10 per 1,000 frontier residents a day
    r = combat.rates(params(self_defence_killings_per_1000_frontier_residents_per_year=rate,
                            self_defence_alarm_boost=2.0, self_defence_alarm_days=10.0))
    taken = engagement(0, STATE, 1, True)  # gang 0 took cell 1 from the state today
    taken.captured[0] = True
    total = 0.0
    for day in range(DAYS):
        c = cells([0, 0, STATE, STATE])
        total += sum(combat.self_defence(c, gang_state(members=(1e6, 50.0)), world(), r, SEED,
                                         day, taken))
        assert c.alarm.tolist() == [1.0, 0.0, 1.0, 0.0]  # the neighbours of the cell taken
    lam = 5_000 * 10 / 1000 * (1 + 2.0)  # the frontier cell 2, alarmed: three times the rate
    within(total / DAYS, lam, np.sqrt(lam), DAYS)
    combat.self_defence(c, gang_state(), world(), r, SEED, DAYS, no_engagements())
    assert c.alarm[2] == pytest.approx(np.exp(-1 / 10.0))  # a quiet day later it has faded
    fought = engagement(0, STATE, 1, False)  # an attack repelled raises no alarm
    c = cells([0, 0, STATE, STATE])
    combat.self_defence(c, gang_state(), world(), r, SEED, 0, fought)
    assert c.alarm.sum() == 0.0


def test_the_alarm_stands_at_one_until_the_movement_starts_then_fades():
    # brigades that form at once along the frontier start on alert (Bwa Kale, 24 Apr 2023)
    days = 30.0
    before = combat.rates(params(self_defence_movement=0, self_defence_alarm_days=days,
                                 self_defence_killings_per_1000_frontier_residents_per_year=3650.0))
    c = cells([0, 0, STATE, STATE])
    assert combat.self_defence(c, gang_state(members=(1e6, 50.0)), world(), before, SEED, 0,
                               no_engagements()) == (0.0, 0.0)
    assert c.alarm.tolist() == [1.0] * 4
    started = combat.rates(params(self_defence_alarm_days=days))
    for day in range(1, 11):
        combat.self_defence(c, gang_state(), world(), started, SEED, day, no_engagements())
    assert c.alarm == pytest.approx(np.full(4, np.exp(-10 / days)))


def test_brigades_on_alert_deter_kidnapping_along_the_frontier_they_guard():
    # gang 0 holds cell 0, gang 1 cell 3; the state holds 1 (next to gang 0) and 2 (next to 1)
    base = dict(kidnappings_per_member_per_year=36.5, self_defence_kidnap_deterrence=0.6,
                kidnap_frontier_elasticity=0.0)
    owner = [0, STATE, STATE, 1]
    for movement, expected in ((1, 20 * 0.1 * (1 - 0.6) + 10 * 0.1 * (1 - 0.6 * 0.5)),
                               (0, 30 * 0.1)):  # no brigades, no deterrence
        r = gangs.rates(params(self_defence_movement=movement, **base))
        counts = []
        for day in range(DAYS):
            c = cells(owner)
            c.alarm[:] = [0.0, 1.0, 0.5, 0.0]
            counts.append(economy(gang_state(members=(20.0, 10.0)), c, r, day))
        within(np.mean(counts), expected, np.sqrt(expected), DAYS)


def test_drone_operations_strike_gang_held_metro_cells_by_their_residents():
    # cells 0 (10,000 residents) and 1 (20,000) of the metro held by gangs 0 and 1; cell 3, held
    # by gang 1 too, is outside the metro and never struck
    ops, per_op, bystanders = 3.0, 4.0, 0.5  # operations a day, killed per operation
    r = combat.rates(params(drone_operations_per_month=ops * 365 / 12,
                            drone_killed_per_operation=per_op + bystanders,
                            drone_gang_member_share=per_op / (per_op + bystanders)))
    dead, civilians = np.zeros(2), 0.0
    for day in range(DAYS):
        c, g = cells([0, 1, STATE, 1]), gang_state(members=(1e6, 1e6))
        killed_gang, killed_civilians = combat.drone_strikes(c, g, world(), r, SEED, day)
        assert killed_gang == (1e6 - g.members).sum()
        assert c.residents[2] == 5_000.0 and c.residents[3] == 1_000.0
        assert c.residents[0] + c.residents[1] == 30_000.0 - killed_civilians
        dead, civilians = dead + (1e6 - g.members), civilians + killed_civilians
    # a Poisson number of operations, each killing a Poisson number: variance lam * mu * (1 + mu)
    within(dead.sum() / DAYS, ops * per_op, np.sqrt(ops * per_op * (1 + per_op)), DAYS)
    within(civilians / DAYS, ops * bystanders, np.sqrt(ops * bystanders * (1 + bystanders)),
           DAYS)
    assert dead[1] / dead.sum() == pytest.approx(2 / 3, abs=0.03)  # twice the residents


def test_no_drone_operations_without_gang_held_metro_or_at_a_rate_of_zero():
    busy = combat.rates(params(drone_operations_per_month=3000.0))
    idle = combat.rates(params(drone_operations_per_month=0.0))
    for owner, r in (([STATE, STATE, 0, 1], busy), ([0, 1, 0, 1], idle)):
        c, g = cells(owner), gang_state()
        assert combat.drone_strikes(c, g, world(), r, SEED, 0) == (0.0, 0.0)
        assert list(g.members) == [100.0, 50.0]


def test_state_deaths_are_booked_to_the_forces_by_their_regional_shares():
    c, g = cells([0, 0, STATE, 1]), gang_state()
    dep = no_deployment()._replace(shares=np.tile([0.5, 0.2, 0.3], (3, 1)))
    eng = engagement(STATE, 0, 1, False, attack_personnel=1e4, defence_personnel=0.0)
    _, by_force, _, _ = combat.resolve(eng, c, g, dep, world(), combat.rates(params()), SEED,
                                       0)
    assert by_force.sum() > 0
    assert by_force == pytest.approx(by_force.sum() * np.array([0.5, 0.2, 0.3]))


# --------------------------------------------------------------------- 7.8 violence
def test_one_sided_killings_are_poisson_at_the_members_rate_spread_by_residents():
    p = params(gang_killings_per_member_per_year=365.0)  # one a member a day
    r = combat.rates(p)
    totals, in_cell_1 = [], []
    for day in range(DAYS // 4):
        c = cells([0, 0, STATE, 1], residents=(10_000.0, 30_000.0, 5_000.0, 0.0))
        totals.append(combat.gang_violence(c, gang_state(members=(2.0, 5.0)), r, SEED, day))
        in_cell_1.append(30_000.0 - c.residents[1])
    # gang 1 holds only an empty cell: it kills no one; gang 0 kills Poisson(2) a day
    within(np.mean(totals), 2.0, np.sqrt(2.0), len(totals))
    within(np.mean(in_cell_1), 2.0 * 0.75, np.sqrt(1.5), len(totals))


# --------------------------------------------------------------------- 7.9 consolidation
def test_unheld_cleared_ground_reverts_with_the_garrison_shortfall():
    p = params(reversion_per_day=0.4, hold_personnel_per_1000_residents=5.0)
    r = combat.rates(p)
    need = 5.0 * 20_000 / 1000
    # a quarter of the need is held, by troops: the state's own garrison is nil
    dep = no_deployment(garrison=(0.0, 0.25 * need, 0.0, 0.0), own_garrison=(0.0,) * 4)
    reverted = []
    for day in range(DAYS):
        c = cells([0, STATE, STATE, STATE], claimant=(-1, 0, -1, -1))
        combat.consolidate(c, gang_state(overstretch=(0.5, 0.5)), dep, world(), r, SEED, day)
        reverted.append(c.owner[1] == 0)
        assert c.owner[2] == STATE  # never cleared from a gang: no claim, no reversion
    expected = 0.4 * (1 - 0.25)
    within(np.mean(reverted), expected, np.sqrt(expected * (1 - expected)), DAYS)


def test_a_claim_has_no_time_limit_and_lapses_only_under_the_state_s_own_garrison():
    p = params(reversion_per_day=1.0, hold_personnel_per_1000_residents=5.0,
               claim_lapse_days=30.0)
    r = combat.rates(p)
    need = 5.0 * 20_000 / 1000
    # held in full by mission troops for 100 days: the claim stands, the cell does not revert
    c = cells([0, STATE, STATE, STATE], claimant=(-1, 0, -1, -1))
    troops = no_deployment(garrison=(0, need, 0, 0), own_garrison=(0.0,) * 4)
    for day in range(100):
        combat.consolidate(c, gang_state(), troops, world(), r, SEED, day)
    assert c.owner[1] == STATE and c.claimant[1] == 0
    # the troops leave: with the claim standing, the cell falls back at once (chance 1)
    combat.consolidate(c, gang_state(), no_deployment(), world(), r, SEED, 100)
    assert c.owner[1] == 0 and c.claimant[1] == -1
    # held by the police for claim_lapse_days: the claim lapses, and then nothing reverts
    c = cells([0, STATE, STATE, STATE], claimant=(-1, 0, -1, -1))
    police = no_deployment(garrison=(0, need, 0, 0))
    for day in range(29):
        combat.consolidate(c, gang_state(), police, world(), r, SEED, day)
    assert c.claimant[1] == 0 and c.held_days[1] == 29
    combat.consolidate(c, gang_state(), police, world(), r, SEED, 29)
    assert c.claimant[1] == -1
    combat.consolidate(c, gang_state(), no_deployment(), world(), r, SEED, 30)
    assert c.owner[1] == STATE


def test_remnants_retake_a_claimed_cell_with_no_gang_next_to_it_while_they_exist():
    r = combat.rates(params(reversion_per_day=0.3))
    # cell 3 is claimed by gang 1 and borders only state-held cell 2
    retaken = []
    for day in range(DAYS):
        c = cells([STATE, STATE, STATE, STATE], claimant=(-1, -1, -1, 1))
        combat.consolidate(c, gang_state(), no_deployment(), world(), r, SEED, day)
        retaken.append(c.owner[3] == 1)
    within(np.mean(retaken), 0.3, np.sqrt(0.3 * 0.7), DAYS)
    c = cells([STATE, STATE, STATE, STATE], claimant=(-1, -1, -1, 1))
    for day in range(200):  # a group with no members left has no remnants
        combat.consolidate(c, gang_state(members=(100.0, 0.0)), no_deployment(), world(), r,
                           SEED, day)
    assert c.owner[3] == STATE


def test_ground_never_claimed_or_fully_held_does_not_revert():
    r = combat.rates(params(reversion_per_day=1.0))
    for claimant, garrison in [(-1, 0.0), (0, 1e6)]:
        c = cells([0, STATE, STATE, STATE], claimant=(-1, claimant, -1, -1))
        combat.consolidate(c, gang_state(), no_deployment(garrison=(0, garrison, 0, 0)),
                           world(), r, SEED, 0)
        assert c.owner[1] == STATE


def test_an_overstretched_coalition_releases_border_cells_but_never_its_home():
    p = params(overstretch_release_per_day=0.5)
    r = combat.rates(p)
    released, home_kept = [], True
    for day in range(DAYS):
        c = cells([0, 0, STATE, STATE])  # cell 0 is gang 0's home; cell 1 borders the state
        combat.consolidate(c, gang_state(overstretch=(2.0, 0.5)), no_deployment(), world(), r,
                           SEED, day)
        released.append(c.owner[1] == STATE)
        home_kept &= c.owner[0] == 0
    expected = 0.5 * (1 - 1 / 2.0)  # one frontier edge
    within(np.mean(released), expected, np.sqrt(expected * (1 - expected)), DAYS)
    assert home_kept


# --------------------------------------------------------------------- 7.12 flight and return
def test_flight_follows_engagements_captures_and_gang_rule():
    p = params(flee_share_per_engagement=0.01, flee_neighbour_share=0.5,
               flee_share_on_capture=0.05, flee_rate_gang_control_per_year=0.365)
    r = population.rates(p)
    c = cells([0, 0, STATE, STATE])  # after the day's fights: gang 0 took cell 1 from the state
    before = c.residents.copy()
    eng = engagement(0, STATE, 1, True)
    eng.captured[0] = True
    population.step(c, world(), r, eng)
    rule = 0.365 / 365
    f1 = 0.01 + 0.05
    f0 = 0.5 * 0.01
    expected_out = np.array([f0 + (1 - f0) * rule, f1 + (1 - f1) * rule, 0.5 * 0.01, 0.0])
    assert c.displaced_from == pytest.approx(before * expected_out)
    assert c.residents == pytest.approx(before * (1 - expected_out))
    # hosted in state-held cells by residents; no metro cell is safe, so all go to the provinces
    out = (before * expected_out).sum()
    assert c.hosted[2] + c.hosted[3] == pytest.approx(out)
    assert c.hosted[2] / c.hosted[3] == pytest.approx(c.residents[2] / c.residents[3])


def test_the_displaced_split_between_provinces_and_metro():
    p = params(flee_share_per_engagement=0.1, flee_to_provinces_share=0.7)
    c = cells([STATE, 0, STATE, STATE])
    population.step(c, world(), population.rates(p), engagement(0, STATE, 1, False))
    out = c.displaced_from.sum()
    assert c.hosted[0] == pytest.approx(0.3 * out)
    assert c.hosted[2] + c.hosted[3] == pytest.approx(0.7 * out)


def test_the_hosted_flee_fighting_with_their_hosts_and_all_leave_gang_held_ground():
    p = params(flee_share_per_engagement=0.1, flee_neighbour_share=0.5,
               flee_rate_gang_control_per_year=0.0, flee_per_civilian_killed=0.0)
    # 4,000 displaced from cell 3, hosted 1,000 in each cell; a gang holds cell 0 and attacks 1
    c = cells([0, STATE, STATE, STATE], displaced=(0.0, 0.0, 0.0, 4_000.0))
    again = population.step(c, world(), population.rates(p), engagement(0, STATE, 1, False))
    # all of cell 0's, a tenth of cell 1's (its fight), half that of its neighbour cell 2's
    assert again == pytest.approx(1_000.0 + 100.0 + 50.0)
    assert c.hosted[0] == 0.0
    assert c.hosted.sum() == pytest.approx(c.displaced_from.sum())  # hosted again, not lost
    assert c.displaced_from[3] == 4_000.0  # still displaced from home: they were counted once
    # the quiet province cell 3 takes its share of them and of the day's new flight
    assert c.hosted[3] > 1_000.0


def test_the_displaced_return_once_their_cell_has_been_secure_long_enough():
    p = params(return_after_days_secure=3.0, return_rate_per_year=36.5)
    r = population.rates(p)
    c = cells([STATE, STATE, STATE, STATE], displaced=(0.0, 1_000.0, 0.0, 0.0))
    empty = no_engagements()
    for day in range(3):
        population.step(c, world(), r, empty)
        assert c.displaced_from[1] == (1_000.0 if day < 2 else pytest.approx(900.0))
    assert c.residents.sum() + c.displaced_from.sum() == pytest.approx(36_000.0 + 1_000.0)
    assert c.hosted.sum() == pytest.approx(c.displaced_from.sum())


# --------------------------------------------------------------------- 7.1-7.3 gangs
def test_economy_income_upkeep_arms_and_recruitment():
    p = params(kidnappings_per_member_per_year=0.0, arms_trafficked_per_year=1e9,
               firearm_loss_per_year=0.0, gang_attrition_per_year=0.0,
               gang_cash_reserve_months=36.0)  # the reserve's cap does not bind here
    r = gangs.rates(p)
    c = cells([0, 0, 0, 1], displaced=(0.0, 10_000.0, 0.0, 0.0))
    g = gang_state(members=(100.0, 10.0), firearms=(80.0, 10.0), cash=(5e5, 0.0))
    economy(g, c, r, 0)
    day = 1 / 365
    # group 0 holds cells 0-2: 35,000 residents, road cells 1 and 2, both cargo cells
    income = (35_000 * p["extortion_usd_per_resident_per_year"] * day
              + 2 * p["checkpoint_usd_per_day"] + p["cargo_extortion_usd_per_year"] * day)
    cash = 5e5 + income - 100 * p["gang_upkeep_usd_per_member_per_year"] * day
    bought = min(100 - 80, p["gang_arms_budget_share"] * cash / p["firearm_price_usd"])
    cash -= bought * p["firearm_price_usd"]
    assert g.firearms[0] == pytest.approx(80 + bought)
    assert g.cash_usd[0] == pytest.approx(cash)
    displaced_share = 10_000 / 45_000
    recruits = (35_000 / 1000 * p["gang_recruits_per_1000_residents_per_year"] * day
                * (1 + p["recruitment_displacement_boost"] * displaced_share))
    armable = max((80 + bought) / p["gang_min_armed_share"] - 100, 0)
    assert g.members[0] == pytest.approx(100 + min(recruits, armable))
    # group 1 (cell 3: 1,000 residents' extortion is less than 10 members' upkeep) is broke
    assert g.members[1] == pytest.approx(10 * (1 - p["gang_unpaid_desertion_per_day"]))
    assert g.cash_usd[1] == 0.0
    # overstretch: load over capacity, rural residents weighted, less on a rural road (cell 2)
    rural = p["gang_residents_per_member"] / p["gang_rural_residents_per_member"]
    load = 30_000 + 5_000 * rural * p["gang_road_hold_share"]
    assert g.overstretch[0] == pytest.approx(load / (100 * p["gang_residents_per_member"]))


def test_a_rural_road_is_held_by_checkpoints_at_a_share_of_its_residents_weight():
    p = params(gang_residents_per_member=1000.0, gang_rural_residents_per_member=200.0,
               gang_road_hold_share=0.2)
    w = world()  # cells 0-1 metro, 2-3 not; road cells 1 (metro) and 2 (Artibonite)
    weights = gangs.hold_weights(w.is_metro, w.road_cells, p)
    assert weights.tolist() == pytest.approx([1.0, 1.0, 5.0 * 0.2, 5.0])


@pytest.mark.parametrize("road_share, held", [(0.2, [0, 0, 0, -1]), (1.0, [0, 0, -1, -1])])
def test_the_initial_territory_takes_a_rural_road_at_its_checkpoint_weight(road_share, held):
    # a line 0 - 1 - 2 - 3 of 1,000 residents each: 0-1 metro, 2 a rural road cell, 3 rural;
    # one group of 3 members based in cell 1 can hold 3,000 metro residents
    geo = types.SimpleNamespace(
        n_cells=4, population=np.full(4, 1_000.0), is_metro=np.array([True, True, False, False]),
        road_mask=np.array([0, 0, 1, 0]), is_capital=np.zeros(4, bool),
        edge_src=np.array([0, 1, 1, 2, 2, 3]), edge_dst=np.array([1, 0, 2, 1, 3, 2]))
    p = params(gang_residents_per_member=1000.0, gang_rural_residents_per_member=200.0,
               gang_road_hold_share=road_share, gang_initial_fill=1.0,
               initial_capital_gang_share=0.0)
    group = types.SimpleNamespace(index=0, home_cell=1)
    owner = gangs.initial_territory(geo, [group], np.array([3.0]), p, np.zeros(4, bool))
    # the road cell weighs 1,000 x 5 x 0.2 = 1,000 (room for it) or 5,000 (none)
    assert owner.tolist() == held


def test_a_group_keeps_at_most_its_reserve_and_spends_the_rest_outside_the_fight():
    p = params(kidnappings_per_member_per_year=0.0, arms_trafficked_per_year=0.0,
               gang_cash_reserve_months=6.0, gang_upkeep_usd_per_member_per_year=1200.0)
    g = gang_state(members=(100.0, 10.0), cash=(1e9, 0.0))
    economy(g, cells([0, 0, 0, 1]), gangs.rates(p), 0)
    assert g.cash_usd[0] == pytest.approx(6 / 12 * 1200 * 100)  # of the members before recruits


def test_remnants_draw_their_share_of_claimed_ground_and_fights_cost_ammunition():
    p = params(kidnappings_per_member_per_year=0.0, gang_attrition_per_year=0.0,
               gang_remnant_share=0.25, extortion_usd_per_resident_per_year=365.0,
               checkpoint_usd_per_day=0.0, cargo_extortion_usd_per_year=0.0,
               gang_upkeep_usd_per_member_per_year=365.0, arms_trafficked_per_year=0.0)
    r = gangs.rates(p)
    # gang 1 (50 members at $1 a day) holds nothing but claims cell 1 (20,000 residents): it
    # draws a quarter of their $1 a day each
    c = cells([0, STATE, STATE, STATE], claimant=(-1, 1, -1, -1))
    g = gang_state(cash=(0.0, 0.0))
    economy(g, c, r, 0)
    assert g.cash_usd[1] == pytest.approx(0.25 * 20_000 - 50)
    # a fight: each side pays for its fighters' ammunition; the state pays nothing here
    q = params(gang_ammo_usd_per_fighter_engagement=20.0)
    g = gang_state(cash=(1e6, 1e6))
    eng = engagement(0, 1, 3, False, attack_personnel=100.0, defence_personnel=50.0)
    combat.resolve(eng, cells([0, 0, 1, 1]), g, no_deployment(), world(), combat.rates(q),
                   SEED, 0)
    assert g.cash_usd == pytest.approx([1e6 - 2_000, 1e6 - 1_000])


def test_short_supply_is_rationed_in_proportion_to_what_each_group_wants():
    p = params(kidnappings_per_member_per_year=0.0, arms_trafficked_per_year=365.0 * 3,
               arms_interdiction=0.5, firearm_loss_per_year=0.0)
    g = gang_state(members=(100.0, 100.0), firearms=(90.0, 96.0), cash=(1e7, 1e7))
    economy(g, cells([0, 0, 1, 1]), gangs.rates(p), 0)
    # supply 1.5 a day, wanted 10 and 4: each gets 1.5/14 of its want
    assert g.firearms[0] - 90 == pytest.approx(10 * 1.5 / 14)
    assert g.firearms[1] - 96 == pytest.approx(4 * 1.5 / 14)


def test_kidnappings_are_poisson_in_members():
    # both groups border a state-held cell; at elasticity 0 only that matters
    r = gangs.rates(params(kidnappings_per_member_per_year=36.5, kidnap_frontier_elasticity=0.0,
                           self_defence_movement=0))
    counts = [economy(gang_state(members=(20.0, 10.0)), cells([0, STATE, STATE, 1]), r, day)
              for day in range(DAYS)]
    within(np.mean(counts), 30 * 0.1, np.sqrt(3.0), DAYS)
    # a group of under one member kidnaps no one
    counts = [economy(gang_state(members=(0.5, 10.0)), cells([0, STATE, STATE, 1]), r, day)
              for day in range(DAYS)]
    within(np.mean(counts), 10 * 0.1, np.sqrt(1.0), DAYS)


def test_kidnappings_follow_the_residents_along_each_groups_frontier_with_the_state():
    # gang 0 (20 members) borders state-held cell 1 (20,000 residents), gang 1 (10 members)
    # borders cell 2 (5,000): 1,000 and 500 frontier residents per member, against 500, when
    # they are rivals
    base = dict(kidnappings_per_member_per_year=36.5, kidnap_frontier_residents_per_member=500,
                self_defence_movement=0)
    for elasticity in (0.0, 0.5, 1.0):
        r = gangs.rates(params(kidnap_frontier_elasticity=elasticity, **base))
        expected = 20 * 0.1 * 2.0 ** elasticity + 10 * 0.1 * 1.0 ** elasticity
        counts = [economy(gang_state(members=(20.0, 10.0)), cells([0, STATE, STATE, 1]), r, day)
                  for day in range(DAYS)]
        within(np.mean(counts), expected, np.sqrt(expected), DAYS)
        # allies share their pool: 25,000 over 30 members, 833 each
        expected = 30 * 0.1 * (25_000 / 30 / 500) ** elasticity
        counts = [economy(gang_state(members=(20.0, 10.0), alliance=(3, 3)),
                                cells([0, STATE, STATE, 1]), r, day)
                  for day in range(DAYS)]
        within(np.mean(counts), expected, np.sqrt(expected), DAYS)
        # with no state-held neighbour there is nobody within reach, whatever the elasticity
        assert sum(economy(gang_state(members=(20.0, 10.0)), cells([0, 0, 1, 1]), r, day)
                   for day in range(50)) == 0


def test_the_states_presence_in_the_frontier_cells_deters_kidnapping():
    # gang 0 (20 members) borders cell 1 (20,000 residents), gang 1 (10 members) cell 2 (5,000);
    # the frontier pool does not matter (elasticity 0); the garrisons do
    base = dict(kidnappings_per_member_per_year=36.5, kidnap_frontier_elasticity=0.0,
                self_defence_movement=0, kidnap_presence_elasticity=0.5)
    r = gangs.rates(params(**base))
    ref = r.kidnap_presence_reference
    c = cells([0, STATE, STATE, 1])

    def mean_kidnapped(garrison, alliance=(3, 4)):
        return np.mean([economy(gang_state(members=(20.0, 10.0), alliance=alliance), c, r, day,
                                garrison) for day in range(DAYS)])

    # four times the reference presence halves gang 0's rate (4 ** -0.5); gang 1's holds
    garrison = np.array([0, 4 * ref * 20_000, ref * 5_000, 0])
    within(mean_kidnapped(garrison), 20 * 0.1 / 2 + 10 * 0.1, np.sqrt(2.0), DAYS)
    # allies weigh their pool's cells by residents: (20,000 / 2 + 5,000) / 25,000 = 0.6
    within(mean_kidnapped(garrison, (3, 3)), 30 * 0.1 * 0.6, np.sqrt(1.8), DAYS)
    # an empty post weighs as a tenth of the reference, not without bound: 10 ** 0.5
    expected = 20 * 0.1 * 10**0.5 + 10 * 0.1
    within(mean_kidnapped(np.array([0, 0, ref * 5_000, 0])), expected,
           np.sqrt(expected), DAYS)
    # at elasticity 0 the garrisons change nothing
    r0 = gangs.rates(params(**{**base, "kidnap_presence_elasticity": 0.0}))
    assert [economy(gang_state(members=(20.0, 10.0)), c, r0, day, np.zeros(4))
            for day in range(50)] == [economy(gang_state(members=(20.0, 10.0)), c, r0, day,
                                              garrison) for day in range(50)]


def test_posture_from_arms_pay_and_room_to_expand():
    p = params()
    g = gang_state(members=(100.0, 0.5), firearms=(50.0, 0.5), cash=(25_000.0, 0.0),
                   overstretch=(0.9, 0.0))
    gangs.plan(g, gangs.rates(p))
    months = 25_000 / (100 * p["gang_upkeep_usd_per_member_per_year"] / 12)
    pay = 0.5 + months / (2 * p["gang_full_posture_pay_months"])
    expand = min(1.0, 0.1 / p["gang_expand_margin"])
    raid = p["gang_raid_posture"]
    assert g.posture[0] == pytest.approx(min(p["gang_max_posture"], 0.5 * pay)
                                         * (raid + (1 - raid) * expand))
    assert g.posture[1] == 0.0  # fewer than one member


# --------------------------------------------------------------------- 7.4 deployment
def test_deployment_splits_police_by_region_and_garrisons_by_residents():
    p = params(police_operational_share=0.5, police_share_capital=0.6,
               police_offensive_share=0.2, state_reaction_share=0.1, mission_capital_share=0.9,
               army_operations_share=0.25)
    r = combat.rates(p)
    c = cells([STATE, STATE, STATE, 0])
    dep = combat.deploy(c, world(), r, 10_000.0, 40.0, 1_000.0)
    operational = 5_000.0
    police = np.array([0.6, 0.4 * 300 / 400, 0.4 * 100 / 400]) * operational
    garrison = police * 0.8
    assert dep.garrison[0] == pytest.approx(garrison[0] * 10_000 / 30_000)
    # the key site: 30 of the 40 soldiers guard it, 10 join the metro's operations
    assert dep.garrison[1] == pytest.approx(garrison[0] * 20_000 / 30_000 + 30.0)
    assert dep.garrison[2] == pytest.approx(garrison[1])
    assert dep.garrison[3] == 0.0  # gang-held
    troops = np.array([900.0, 100.0, 0.0]) * (1 - p["mission_support_share"])  # in the field
    offensive = police * 0.2
    soldiers = np.array([10.0, 0.0, 0.0])
    assert dep.reserve_personnel == pytest.approx(0.1 * (offensive + soldiers + troops))
    assert dep.reserve_power == pytest.approx(0.1 * (offensive * r.police_firepower
                                                     + soldiers * r.army_firepower
                                                     + troops * p["mission_firepower"]))
    assert dep.operations == pytest.approx(p["state_operation_rate"] / 1000 * (
        offensive + soldiers + troops * mission.tempo(p)))
    assert dep.shares.sum(1) == pytest.approx(np.ones(3))


def test_field_troops_hold_contested_ground_first_and_the_rest_are_mobile():
    p = params(police_operational_share=0.5, police_share_capital=0.6, police_offensive_share=0.2,
               state_reaction_share=0.1, mission_capital_share=1.0, mission_support_share=0.25,
               hold_personnel_per_1000_residents=10.0)
    r = combat.rates(p)
    # cells 0 and 1 (metro) are state-held; gang 0 claims cell 1 (20,000 residents)
    c = cells([STATE, STATE, STATE, 0], claimant=(-1, 0, -1, -1))
    base = combat.deploy(cells([STATE, STATE, STATE, 0]), world(), r, 500.0, 0.0, 0.0)
    shortfall = 10.0 * 20_000 / 1000 - base.garrison[1]
    assert shortfall > 0
    for troops in (100.0, 1_000.0):  # part of the shortfall made up, then all of it
        dep = combat.deploy(c, world(), r, 500.0, 0.0, troops)
        field = troops * 0.75
        hold = min(field, shortfall)
        assert dep.garrison[1] == pytest.approx(base.garrison[1] + hold)
        assert dep.own_garrison[1] == pytest.approx(base.garrison[1])
        assert dep.garrison[0] == pytest.approx(base.garrison[0])  # not claimed: police only
        assert dep.mobile_personnel[combat.METRO] == pytest.approx(
            base.mobile_personnel[combat.METRO] + field - hold)
        assert dep.operations[combat.METRO] == pytest.approx(
            base.operations[combat.METRO] + p["state_operation_rate"] / 1000 * (field - hold)
            * mission.tempo(p))


def test_the_day_s_engagements_use_the_mobile_force_up():
    # the state has a mobile force of 30 in the metro and commits at most 20 to one engagement;
    # a huge operation rate: with gang 0's cells 0 and 1 both targets, only two operations are
    # launched (20, then the 10 left), and none once it is used up
    r = combat.rates(params(state_reaction_share=1.0))
    c, g = cells([0, 0, STATE, 1]), gang_state()
    for mobile, launched in [(30.0, 1), (0.0, 0)]:
        dep = no_deployment(reserve_power=(20.0, 0, 0), operations=(1e6, 0, 0),
                            mobile_personnel=(mobile, 0, 0))
        eng = combat.engage(c, g, dep, world(), r, SEED, 0)
        ops = eng.attacker == STATE
        assert ops.sum() == launched
        assert eng.attack_personnel[ops].sum() <= mobile


# --------------------------------------------------------------------- 7.10 police
def police_day(officers=10_000.0, gang_share=0.5, **overrides):
    """One day of a police force alone: (attrition of the day as a yearly rate, pay spent)."""
    p = params(**{"police_intake_per_year": 0.0, "police_attrition_per_year": 0.03,
                  "police_stress_attrition_per_year": 0.12, "police_pay_attrition_per_year": 0.2,
                  "police_cost_usd_per_officer_year": 10_000.0, "police_hazard_pay_max": 1.0,
                  "police_pay_retention": 0.5, "funding_police_donors": 0.0, **overrides})
    model = mesa.Model(rng=1)
    model.rates = types.SimpleNamespace(forces=security_forces.rates(p))
    model.capital_gang_share = gang_share
    police = security_forces.Police(model, officers)
    police.step()
    return (officers - police.officers) / officers * 365, police.spent_usd * 365


@pytest.mark.parametrize("budget, rate, spent", [
    (100e6, 0.03 + 0.06, 100e6),  # the bill exactly paid: no hazard pay
    (50e6, 0.03 + 0.06 + 0.2 * 0.5, 50e6),  # half unpaid: desertion
    (150e6, 0.03 + 0.06 * (1 - 0.5 * 0.5), 150e6),  # half again as hazard pay
    (300e6, 0.03 + 0.06 * (1 - 0.5), 200e6),  # hazard pay stops at doubling; the rest unspent
])
def test_police_attrition_and_pay_follow_the_budget(budget, rate, spent):
    got_rate, got_spent = police_day(funding_police_haiti=budget)
    assert got_rate == pytest.approx(rate) and got_spent == pytest.approx(spent)


def test_donor_money_beyond_the_pay_bill_keeps_officers():
    base, _ = police_day(funding_police_haiti=100e6)
    helped, _ = police_day(funding_police_haiti=100e6, funding_police_donors=50e6)
    calm, _ = police_day(funding_police_haiti=100e6, funding_police_donors=50e6, gang_share=0.0)
    assert helped < base and calm == pytest.approx(0.03)  # it keeps those gang pressure drives out


@pytest.mark.parametrize("budget, on_duty", [
    (100e6, 1.0),  # the bill paid: all on duty
    (150e6, 1.0),  # hazard pay changes who leaves, not who turns out
    (60e6, 1.0 - 0.5 * 0.4),  # 40% unpaid: half of them off duty
    (0.0, 0.5),
])
def test_unpaid_officers_who_stay_are_partly_off_duty(budget, on_duty):
    p = params(police_intake_per_year=0.0, police_cost_usd_per_officer_year=10_000.0,
               funding_police_haiti=budget, funding_police_donors=0.0, police_unpaid_absence=0.5)
    model = mesa.Model(rng=1)
    model.rates = types.SimpleNamespace(forces=security_forces.rates(p))
    model.capital_gang_share = 0.5
    police = security_forces.Police(model, 10_000.0)
    assert police.on_duty == 10_000.0
    police.step()
    assert police.on_duty == pytest.approx(police.officers * on_duty)


def test_the_deployment_takes_the_officers_on_duty():
    # unpaid officers off duty change the fighting, and nothing else reads the absence
    from sim.model.world import HaitiModel
    runs = []
    for absence in (0.0, 0.9):
        m = HaitiModel(short_history(30, funding_police_haiti=0.0,
                                     police_unpaid_absence=absence), seed=2)
        m.run()
        runs.append(m)
    assert runs[0].police.officers == pytest.approx(runs[1].police.officers, rel=0.02)
    assert runs[1].police.on_duty == pytest.approx(0.1 * runs[1].police.officers)
    assert not np.array_equal(runs[0].recorder.values, runs[1].recorder.values)


# --------------------------------------------------------------------- 7.11 the mission
def mission_after(days, troops=0.0, cash=0.0, pipeline=0.0, start=dt.date(2026, 3, 1),
                  **overrides):
    """A mission alone, `days` days from `start`, with the money arriving the next day in full
    (no lag, no shortfall, no fixed costs) unless the overrides say otherwise."""
    p = params(**{"mission_disbursement_share": 1.0, "mission_disbursement_lag_months": 0.0,
                  "mission_fixed_cost_usd_per_year": 0.0, **overrides})
    model = mesa.Model(rng=1)
    model.p, model.rates = p, types.SimpleNamespace(mission=mission.rates(p))
    m = mission.Mission(model)
    m.troops, m.cash_usd, m.pipeline_usd = troops, cash, pipeline
    for day in range(days):
        model.today = start + dt.timedelta(days=day)
        m.step()
    return m, p


@pytest.mark.parametrize("target, ceiling, funding, goal, binding", [
    (1_000.0, 5_000.0, 1e9, 1_000.0, "target"),
    (5_000.0, 800.0, 1e9, 800.0, "ceiling"),
    (5_000.0, 5_000.0, 120e6, 500.0, "money"),  # $120 M a year at $240,000 a troop
])
def test_the_mission_deploys_towards_the_least_of_target_ceiling_and_what_money_sustains(
        target, ceiling, funding, goal, binding):
    kw = dict(mission_troops_target=target, mission_troop_ceiling=ceiling,
              funding_mission_others=funding, mission_runway_months=0.0,
              mission_cost_usd_per_troop_year=240_000.0)
    m, p = mission_after(10, cash=1e9, **kw)
    pace = p["mission_deploy_troops_per_month"] * 12 / 365
    assert m.troops == pytest.approx(min(goal, 10 * pace), rel=1e-6)
    assert mission.CONSTRAINTS[m.constraint] == ("pace" if 10 * pace < goal else binding)
    m, _ = mission_after(2_000, **kw)
    assert m.troops == pytest.approx(goal, rel=0.02)
    assert mission.CONSTRAINTS[m.constraint] == binding


def test_the_money_sustains_the_disbursed_income_less_fixed_costs_and_the_runway():
    kw = dict(mission_troops_target=50_000.0, mission_troop_ceiling=50_000.0,
              funding_mission_others=500e6, mission_disbursement_share=0.8,
              mission_fixed_cost_usd_per_year=40e6, mission_runway_months=3.0,
              mission_cost_usd_per_troop_year=200_000.0)
    m, p = mission_after(0, troops=1_000.0, cash=100e6, **kw)
    running = 40e6 + 1_000 * 200_000
    assert m.sustainable_troops() == pytest.approx(
        (500e6 * 0.8 - 40e6 + 100e6 - 0.25 * running) / 200_000)
    # in the long run the force is what the disbursed income, less fixed costs, pays
    m, _ = mission_after(3_000, **kw)
    assert m.troops == pytest.approx((500e6 * 0.8 - 40e6) / 200_000, rel=0.03)


def test_disbursed_money_arrives_through_a_first_order_pipeline():
    lag_days = 3 * 365 / 12
    m, p = mission_after(60, funding_mission_others=365e6, mission_disbursement_share=0.5,
                         mission_disbursement_lag_months=3.0, mission_troops_target=0.0)
    inflow = 0.5 * 1e6  # a day, disbursed
    # after t days the pipeline holds inflow * L * (1 - (1 - 1/L)^t); the rest has arrived
    assert m.pipeline_usd == pytest.approx(inflow * lag_days * (1 - (1 - 1 / lag_days) ** 60))
    assert m.cash_usd == pytest.approx(60 * inflow - m.pipeline_usd)


def test_on_1_january_only_the_carry_over_is_kept():
    kw = dict(mission_troops_target=1_000.0, mission_troop_ceiling=1_000.0,
              funding_mission_others=0.0, mission_carryover_months=6.0,
              mission_cost_usd_per_troop_year=365_000.0, mission_runway_months=0.0)
    m, _ = mission_after(1, troops=1_000.0, cash=1e9, start=dt.date(2026, 12, 31), **kw)
    assert m.cash_usd == pytest.approx(1e9 - 1e6)  # a day's pay: $1,000 a troop
    m, _ = mission_after(2, troops=1_000.0, cash=1e9, start=dt.date(2026, 12, 31), **kw)
    # six months of the running cost ($365 M a year), less the day's pay
    assert m.cash_usd == pytest.approx(0.5 * 365e6 - m.spent_usd)


def test_the_mission_withdraws_at_the_base_pace_when_the_goal_falls():
    m, p = mission_after(1, troops=1_000.0, cash=1e9, mission_troops_target=0.0,
                         mission_mandate=2.0)
    assert m.troops == pytest.approx(1_000 - p["mission_deploy_troops_per_month"] * 12 / 365)


def test_the_mission_keeps_only_the_troops_the_day_s_money_pays_for():
    # $1 M in hand plus $0.1 M arriving today at $365,000 a troop-year ($1,000 a day):
    # 1,100 troops paid today, whatever the pace of withdrawal
    m, p = mission_after(1, troops=3_000.0, cash=1e6, pipeline=0.1e6,
                         mission_troops_target=3_000.0, mission_troop_ceiling=5_000.0,
                         funding_mission_others=36.5e6,
                         mission_cost_usd_per_troop_year=365_000.0, mission_runway_months=0.0)
    assert m.troops == pytest.approx(1_100)
    assert m.spent_usd == pytest.approx(1.1e6) and m.cash_usd == 0.0
    assert mission.CONSTRAINTS[m.constraint] == "money"
    m, _ = mission_after(1, troops=1_000.0, cash=0.0, mission_troops_target=1_000.0)
    assert m.troops == 0.0 and m.cash_usd == 0.0  # no money at all: nobody stays unpaid


def test_freed_inmates_join_the_metros_groups_unarmed_and_only_once():
    from sim.model.world import HaitiModel
    m = HaitiModel(short_history(10), seed=2)
    g, share = m.gang_state, m.p["freed_inmates_joining_share"]
    in_metro = m.geo.is_metro[g.home]
    assert 0 < share < 1 and in_metro.any() and not in_metro.all()
    members, firearms, cash = g.members.copy(), g.firearms.copy(), g.cash_usd.copy()
    m.p["inmates_freed"] = 4_000.0
    m.take_in_freed()
    joined = g.members - members
    assert joined.sum() == pytest.approx(4_000 * share)
    assert np.all(joined[~in_metro] == 0) and np.all(joined[in_metro] >= 0)
    # in proportion to the members of each group based in the metro, with no guns
    np.testing.assert_allclose(joined[in_metro],
                               4_000 * share * members[in_metro] / members[in_metro].sum())
    assert np.array_equal(g.firearms, firearms) and np.array_equal(g.cash_usd, cash)
    after = g.members.copy()
    m.take_in_freed()  # another parameter changes: nobody is freed twice
    m.p["inmates_freed"] = 1_000.0  # lowered: nobody is recaptured
    m.take_in_freed()
    assert np.array_equal(g.members, after)
    m.p["inmates_freed"] = 5_000.0  # the count rises again: only the newly freed
    m.take_in_freed()
    assert (g.members - after).sum() == pytest.approx(1_000 * share)


def test_a_scenario_that_starts_with_freed_inmates_frees_them_on_the_first_day():
    from sim.model.world import HaitiModel
    a = HaitiModel(short_history(10), seed=2)
    b = HaitiModel(short_history(10, inmates_freed=2_000.0), seed=2)
    gained = b.gang_state.members.sum() - a.gang_state.members.sum()
    assert gained == pytest.approx(2_000 * b.p["freed_inmates_joining_share"])


def test_an_event_on_the_road_share_reweighs_what_holding_a_rural_road_takes():
    from sim.model.scenario import Event
    from sim.model.world import HaitiModel
    day = short_history(4).start + dt.timedelta(days=1)
    sc = short_history(4, events=(Event(day, "gang_road_hold_share", "set", 1.0),))
    m = HaitiModel(sc, seed=2)
    road = m.world.road_cells[~m.geo.is_metro[m.world.road_cells]]
    before = m.world.hold_weight[road].copy()
    m.run()
    assert np.allclose(m.world.hold_weight[road], before / sc.parameters["gang_road_hold_share"])


def test_the_records_prison_breaks_reinforce_the_gangs_on_their_day():
    from sim.model import scenario
    from sim.model.world import HaitiModel
    h = scenario.load(ROOT / "scenarios" / "history.yaml")
    (freed,) = [e for e in h.events if e.name == "inmates_freed"]
    assert freed.date == dt.date(2024, 3, 2) and freed.value == 4_733
    day = h.start + dt.timedelta(days=2)
    with_break = dataclasses.replace(h, end=day + dt.timedelta(days=1),
                                     events=(dataclasses.replace(freed, date=day),))
    without = dataclasses.replace(with_break, events=())
    a, b = HaitiModel(with_break, seed=2), HaitiModel(without, seed=2)
    for _ in range(2):
        a.step()
        b.step()
    assert np.array_equal(a.gang_state.members, b.gang_state.members)  # before the day
    a.step()
    b.step()
    gained = a.gang_state.members.sum() - b.gang_state.members.sum()
    joiners = 4_733 * a.p["freed_inmates_joining_share"]
    assert gained == pytest.approx(joiners, rel=0.1)  # the day's economy may change a few


# --------------------------------------------------------------------- compiled = Python
def test_compiled_kernels_give_the_same_30_days_as_the_python_source(tmp_path):
    script = """
import dataclasses, datetime as dt, sys
import numpy as np
from sim.model import scenario
from sim.model.world import HaitiModel
h = scenario.load(sys.argv[1])
end = h.start + dt.timedelta(days=29)
sc = dataclasses.replace(h, end=end, events=tuple(e for e in h.events if e.date <= end))
with np.errstate(over="ignore"):  # uint64 hashing wraps on purpose
    np.save(sys.argv[2], HaitiModel(sc, seed=3).run().values)
"""
    out = {}
    for mode in ("0", "1"):
        env = dict(os.environ, NUMBA_DISABLE_JIT=mode,
                   PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        path = tmp_path / f"jit_disabled_{mode}.npy"
        subprocess.run([sys.executable, "-c", script, str(ROOT / "scenarios" / "history.yaml"),
                        str(path)], check=True, env=env, cwd=ROOT)
        out[mode] = np.load(path)
    assert out["0"].shape[0] == 30
    np.testing.assert_allclose(out["1"], out["0"], rtol=1e-12, atol=1e-12)


def test_the_world_rates_follow_the_parameters():
    p = params(arms_interdiction=0.5, mission_mandate=2.0)
    r = all_rates(p)
    assert r.gangs.firearms_supplied == pytest.approx(p["arms_trafficked_per_year"] / 365 * 0.5)
    assert r.combat.mission_tempo == p["mandate_tempo_peacekeeping"]
    assert r.mission.cost_usd_per_troop_year == pytest.approx(
        p["mission_cost_usd_per_troop_year"] * p["pko_cost_factor"])
    assert all(isinstance(v, float) for rec in r for v in rec)  # one compiled signature


def test_history_days_record_every_outcome_and_recording_changes_no_state():
    from sim.model.outcomes import FLOWS, STOCKS
    from sim.model.world import HaitiModel
    sc = short_history(10)
    a, b = HaitiModel(sc, seed=2), HaitiModel(sc, seed=2)
    a.recorder.values[:] = np.nan
    b._record = lambda *args: None  # an observer that records nothing
    a.run()
    b.run()
    assert not np.isnan(a.recorder.values).any(), "an outcome was not written"
    assert set(STOCKS + FLOWS) <= set(a.recorder.names)
    assert np.array_equal(a.cells.owner, b.cells.owner)
    assert a.police.officers == b.police.officers


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
