"""Where the state's forces stand, and the engagements that move control of cells.

Functional form. An engagement pits an attacking force A against a defending force D (personnel
times firepower). The attacker wins with probability

    P = 1 / (1 + (defender_advantage * D / A) ** combat_steepness),

i.e. a logistic function of the log force ratio, log(A/D), centred where A = advantage * D. It is
chosen over Lanchester's equations because engagements here are raids and clearances that end in
withdrawal, not fights to annihilation; the logistic in the log ratio is the form of the
'3:1 rule' literature (Mearsheimer 1989) and of contest success functions (Tullock; Hirshleifer
1989), and it is bounded and monotone: more force never lowers one's chance.

Ground changes hands only across the frontier: the directed edges of the cell graph between cells
of different owners. Each rule below is one compiled pass over those edges or over the day's
engagements (see `sim.model.jit`); the Python functions gather the day's scalars and name the
results.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model import jit, mission, security_forces
from sim.model.jit import kernel, poisson, uniform

STATE = -1  # owner value of cells not held by a gang (the state's, or nobody's)
KEY_SITE_KINDS = ("airport", "seaport", "downtown")
# Regions of the map for the state's forces (`model.region`): the Port-au-Prince metro, the rest of
# Artibonite, and the rest of the country.
METRO, ARTIBONITE, REST = 0, 1, 2


@kernel
def taken_from_state(eng, k: int) -> bool:
    """Whether engagement `k` of the day's `Engagements` is a gang taking a cell from the state:
    the event that drives people out (7.12) and raises the brigades' alarm (7.8)."""
    return eng.captured[k] and eng.attacker[k] != STATE and eng.defender[k] == STATE


@kernel
def win_probability(attack: float, defence: float, advantage: float, steepness: float) -> float:
    """P(attacker wins), logistic in the log force ratio (see module docstring)."""
    ratio = advantage * defence / max(attack, 1e-9)
    return 1.0 / (1.0 + ratio ** steepness)


def border_counts(geo, owner: np.ndarray) -> np.ndarray:
    """Per cell, how many of its neighbours another owner holds: nonzero on the frontier."""
    differs = owner[geo.edge_src] != owner[geo.edge_dst]
    return np.bincount(geo.edge_src, differs, minlength=geo.n_cells).astype(np.int32)


@kernel
def set_owner(cells, world, cell, new):
    """Give `cell` to `new`, keeping `cells.border` right: every change of owner goes through
    here, so the daily passes visit only frontier cells instead of all 18,818 edges."""
    owner, border, edge_ptr, edge_dst = cells.owner, cells.border, world.edge_ptr, world.edge_dst
    old = owner[cell]
    if old == new:
        return
    for e in range(edge_ptr[cell], edge_ptr[cell + 1]):
        neighbour = owner[edge_dst[e]]
        if neighbour == old:
            border[cell] += 1
            border[edge_dst[e]] += 1
        elif neighbour == new:
            border[cell] -= 1
            border[edge_dst[e]] -= 1
    owner[cell] = new


class Rates(NamedTuple):
    """Deployment, engagement, casualty, violence and consolidation numbers per day, built from
    the parameters by `rates` (once, and again whenever a parameter changes)."""

    # deployment (7.4)
    police_operational_share: float
    police_share_capital: float
    police_offensive_share: float
    police_firepower: float
    army_firepower: float
    army_operations_share: float
    mission_capital_share: float
    mission_firepower: float
    mission_field_share: float  # of the troops, not in support, rotation or base security
    mission_tempo: float  # the mandate's multiplier of the operations mission troops launch
    reaction_share: float
    operations_per_personnel: float
    # engagements (7.5)
    gang_concentration: float
    unarmed_member_power: float
    ally_support_share: float
    attacks_per_member: float
    community_defence_per_resident: float
    defender_advantage: float
    combat_steepness: float
    value_floor_residents: float
    # casualties (7.7)
    loss_rate_loser: float
    ammo_usd_per_fighter: float
    loss_rate_winner: float
    state_casualty_ratio: float
    civilians_killed_per_engagement: float
    # one-sided violence (7.8)
    killings_per_member: float
    # self-defence brigades (7.8)
    lynchings_per_frontier_resident: float
    lynched_gang_share: float
    lynching_alarm_boost: float
    lynching_alarm_decay: float  # the alarm's factor per day
    self_defence_active: float  # 1 while the movement exists (`self_defence_movement`), else 0
    # drone strikes (7.8)
    drone_operations_per_day: float
    drone_gang_killed_per_operation: float
    drone_bystanders_killed_per_operation: float
    # consolidation (7.9)
    release_per_day: float
    hold_personnel_per_resident: float
    reversion_per_day: float
    claim_lapse_days: float


def self_defence_active(p: dict[str, float]) -> float:
    """1 while the self-defence movement exists (`self_defence_movement`), else 0: what both
    its lynchings and its deterrence of kidnappers (`gangs.rates`) are gated by."""
    return float(p["self_defence_movement"] > 0)


def rates(p: dict[str, float]) -> Rates:
    """Yearly or per-1,000 parameters as the daily numbers the kernels use (7.4-7.9 in the ODD)."""
    return Rates(
        police_operational_share=p["police_operational_share"],
        police_share_capital=p["police_share_capital"],
        police_offensive_share=p["police_offensive_share"],
        police_firepower=security_forces.firepower(p, "police"),
        army_firepower=security_forces.firepower(p, "army"),
        army_operations_share=p["army_operations_share"],
        mission_capital_share=p["mission_capital_share"],
        mission_firepower=p["mission_firepower"],
        mission_field_share=1.0 - p["mission_support_share"],
        mission_tempo=mission.tempo(p),
        reaction_share=p["state_reaction_share"],
        operations_per_personnel=p["state_operation_rate"] / 1000,
        gang_concentration=p["gang_concentration"],
        unarmed_member_power=p["gang_unarmed_member_power"],
        ally_support_share=p["ally_support_share"],
        attacks_per_member=p["gang_attack_rate"] / 1000,
        community_defence_per_resident=p["community_defence_per_1000_residents"] / 1000,
        defender_advantage=p["defender_advantage"],
        combat_steepness=p["combat_steepness"],
        value_floor_residents=p["target_value_floor_residents"],
        loss_rate_loser=p["loss_rate_loser"],
        ammo_usd_per_fighter=p["gang_ammo_usd_per_fighter_engagement"],
        loss_rate_winner=p["loss_rate_winner"],
        state_casualty_ratio=p["state_casualty_ratio"],
        civilians_killed_per_engagement=p["civilians_killed_per_engagement"],
        killings_per_member=p["gang_killings_per_member_per_year"] / 365,
        lynchings_per_frontier_resident=(
            p["self_defence_killings_per_1000_frontier_residents_per_year"] / 1000 / 365
            * self_defence_active(p)),
        lynched_gang_share=p["lynched_gang_member_share"],
        lynching_alarm_boost=p["self_defence_alarm_boost"],
        lynching_alarm_decay=float(np.exp(-1.0 / p["self_defence_alarm_days"])),
        self_defence_active=self_defence_active(p),
        drone_operations_per_day=p["drone_operations_per_month"] * 12 / 365,
        drone_gang_killed_per_operation=(p["drone_killed_per_operation"]
                                         * p["drone_gang_member_share"]),
        drone_bystanders_killed_per_operation=(p["drone_killed_per_operation"]
                                               * (1 - p["drone_gang_member_share"])),
        release_per_day=p["overstretch_release_per_day"],
        hold_personnel_per_resident=p["hold_personnel_per_1000_residents"] / 1000,
        reversion_per_day=p["reversion_per_day"],
        claim_lapse_days=p["claim_lapse_days"],
    )


class Deployment(NamedTuple):
    """The state's forces on the map today.

    garrison: personnel holding each cell; garrison_power: the same times firepower;
    own_garrison: the Haitian state's part of `garrison` (police and army), the part that makes a
    claim lapse. reserve_power/reserve_personnel: per region, the most of the mobile force (police
    units, the soldiers with them and the mission's troops not holding ground) that one engagement
    can draw on, whether it reinforces a defence or mounts an operation; mobile_personnel: the whole
    mobile force of the region, which the day's engagements use up (`engage`). operations: per
    region, expected state offensive operations today. shares: (police, army, mission) shares of
    state personnel per region, to book state casualties to the right force.
    """

    garrison: np.ndarray
    garrison_power: np.ndarray
    own_garrison: np.ndarray
    reserve_power: np.ndarray
    reserve_personnel: np.ndarray
    mobile_personnel: np.ndarray
    operations: np.ndarray
    shares: np.ndarray


@kernel
def deploy(cells, world, rates, police_on_duty, army_soldiers, mission_troops):
    """Place police, army and mission troops for today; returns the `Deployment`.

    Police not in offensive units garrison state-held cells in proportion to their residents
    (the metro gets `police_share_capital`, other regions the rest by population); the army
    guards the airport, port and downtown with all but `army_operations_share` of its soldiers,
    who join the metro's police units in operations (so a larger army is felt beyond its posts);
    the mission operates in the metro and (its remaining share) in Artibonite. Of the mission's
    troops, `mission_support_share` are in logistics, rotation and base security; the rest first
    hold contested ground, then form the mobile reserve. Holding comes first (clear, hold,
    build): in each region the field troops make up the shortfall of the police garrison against
    `hold_personnel_per_1000_residents` in every cell a gang still claims (`cells.claimant`),
    all of it if they can, otherwise the same share of it in every such cell. Force is finite:
    ground held is force not attacking. Offensive operations come from police units, the
    soldiers with them and the mobile troops, the mission's scaled by its mandate's tempo.
    """
    owner, residents, region = cells.owner, cells.residents, world.region
    region_population = world.region_population
    police_operational = police_on_duty * rates.police_operational_share
    police_share_capital = rates.police_share_capital
    n, n_regions = len(owner), len(region_population)
    outside = region_population.sum() - region_population[METRO]
    police = np.empty(n_regions)
    for r in range(n_regions):
        police[r] = police_operational * (police_share_capital if r == METRO else (
            1 - police_share_capital) * region_population[r] / outside)
    offensive = police * rates.police_offensive_share
    troops, army = np.zeros(n_regions), np.zeros(n_regions)
    troops[METRO] = mission_troops * rates.mission_capital_share
    troops[ARTIBONITE] = mission_troops * (1 - rates.mission_capital_share)
    army[METRO] = army_soldiers
    army_units = np.zeros(n_regions)  # soldiers in the police's operations
    army_units[METRO] = army_soldiers * rates.army_operations_share
    guard = army_soldiers - army_units[METRO]

    # Garrisons: police by residents of the state-held cells of each region, soldiers spread
    # evenly over the key sites the state still holds.
    region_people = np.zeros(n_regions)
    for c in range(n):
        if owner[c] == STATE:
            region_people[region[c]] += residents[c]
    per_resident = np.zeros(n_regions)
    for r in range(n_regions):
        if region_people[r] > 0:
            per_resident[r] = (police[r] - offensive[r]) / region_people[r]
    garrison, garrison_power = np.zeros(n), np.zeros(n)
    for c in range(n):
        if owner[c] == STATE:
            garrison[c] = residents[c] * per_resident[region[c]]
            garrison_power[c] = garrison[c] * rates.police_firepower
    held = 0
    for c in world.key_sites:
        held += owner[c] == STATE
    for c in world.key_sites:
        if owner[c] == STATE:
            garrison[c] += guard / held
            garrison_power[c] += guard / held * rates.army_firepower
    own_garrison = garrison.copy()

    # The mission's field troops hold contested ground first; the rest are mobile.
    field = troops * rates.mission_field_share
    shortfall = np.zeros(n)
    region_shortfall = np.zeros(n_regions)
    for c in range(n):
        if owner[c] == STATE and cells.claimant[c] >= 0:
            shortfall[c] = max(rates.hold_personnel_per_resident * residents[c] - garrison[c],
                               0.0)
            region_shortfall[region[c]] += shortfall[c]
    holding = np.minimum(field, region_shortfall)
    filled = np.zeros(n_regions)
    for r in range(n_regions):
        if region_shortfall[r] > 0:
            filled[r] = holding[r] / region_shortfall[r]
    for c in range(n):
        if shortfall[c] > 0:
            hold = shortfall[c] * filled[region[c]]
            garrison[c] += hold
            garrison_power[c] += hold * rates.mission_firepower
    mobile = field - holding

    reserve = offensive + army_units + mobile
    reserve_power = (offensive * rates.police_firepower + army_units * rates.army_firepower
                     + mobile * rates.mission_firepower)
    operations = rates.operations_per_personnel * (offensive + army_units
                                                   + mobile * rates.mission_tempo)
    shares = np.zeros((n_regions, 3))
    for r in range(n_regions):
        total = police[r] + army[r] + troops[r]
        if total > 0:
            shares[r, 0], shares[r, 1], shares[r, 2] = (police[r] / total, army[r] / total,
                                                        troops[r] / total)
    return Deployment(garrison, garrison_power, own_garrison, reserve_power * rates.reaction_share,
                      reserve * rates.reaction_share, reserve, operations, shares)


class Engagements(NamedTuple):
    """Today's engagements: target cells, who attacked, who won, and the forces engaged."""

    cells: np.ndarray
    attacker: np.ndarray  # gang index, or STATE for a state operation
    defender: np.ndarray  # gang index, or STATE
    attacker_won: np.ndarray
    attack_personnel: np.ndarray
    defence_personnel: np.ndarray
    captured: np.ndarray  # set by `resolve`: won and kept (not a raid)


@kernel
def _choose(target, source, group, score, expected, key):
    """Indices of the chosen candidates: each group makes `expected[group]` choices a day on
    average, spread over its candidates in proportion to `score`; one engagement per target cell
    (among candidates choosing the same cell, a random one: the lowest of uniform priorities).
    Candidates come grouped by source cell, and each source cell draws from its own generator
    under `key`."""
    totals = np.zeros(len(expected))
    for i in range(len(target)):
        totals[group[i]] += score[i]
    rng = np.empty(4, np.uint64)
    # one entry per target cell chosen, in the order first chosen: the candidate with the lowest
    # priority so far (a day has a few dozen engagements, so a scan beats a table of all cells)
    chosen = np.empty(len(target), np.int64)
    priorities = np.empty(len(target))
    k = 0
    for i in range(len(target)):
        if i == 0 or source[i] != source[i - 1]:
            jit.reseed(rng, key, source[i])
        g = group[i]
        if uniform(rng) < min(1.0, expected[g] * score[i] / max(totals[g], 1e-12)):
            priority = uniform(rng)
            j = 0
            while j < k and target[chosen[j]] != target[i]:
                j += 1
            if j == k:
                chosen[k], priorities[k] = i, priority
                k += 1
            elif priority < priorities[j]:
                chosen[j], priorities[j] = i, priority
    return chosen[:k]


@kernel
def engage(cells, gangs, dep, world, rates, seed, day):
    """Gang attacks on neighbouring cells and state operations against gang-held cells; returns
    today's `Engagements`.

    A gang attacks from a cell it holds into a neighbour held by neither it nor an ally; the state
    operates from a cell it holds into a gang-held neighbour, in the target's region. Each group
    (each region, for the state) makes its expected number of attacks a day, spread over its
    candidate targets in proportion to their value over their defence; one engagement per target.
    A group fights with `gang_concentration` of its members; a member without a firearm counts
    for `gang_unarmed_member_power`. An attacker is reinforced by a share of its allies' fighters
    (coordinated offensives). The state's mobile force is finite: the day's engagements use it up
    (defences of state-held cells first, then operations), each taking at most
    `state_reaction_share` of it; operations beyond what is left are not launched. The draws for
    the edges leaving a cell come from that cell's own
    generator of the day, and each fight's from its target's (`jit.ATTACK_CHOICE`,
    `OPERATION_CHOICE`, `FIGHT`).
    """
    owner, border, residents, region = cells.owner, cells.border, cells.residents, world.region
    edge_ptr, edge_dst, cell_value = world.edge_ptr, world.edge_dst, world.cell_value
    alliance, members, firearms = gangs.coalition, gangs.members, gangs.firearms
    garrison, garrison_power = dep.garrison, dep.garrison_power
    reserve_power, reserve_personnel = dep.reserve_power, dep.reserve_personnel
    ally_support, community_per_resident = (rates.ally_support_share,
                                            rates.community_defence_per_resident)
    advantage, steepness = rates.defender_advantage, rates.combat_steepness
    value_floor, unarmed_power = rates.value_floor_residents, rates.unarmed_member_power
    n_gangs, n_alliances = len(members), alliance.max() + 1
    gang_personnel = members * rates.gang_concentration
    gang_power = np.empty(n_gangs)
    coalition_power, coalition_personnel = np.zeros(n_alliances), np.zeros(n_alliances)
    for g in range(n_gangs):
        armed = min(1.0, firearms[g] / max(members[g], 1e-9))
        gang_power[g] = gang_personnel[g] * (armed + unarmed_power * (1.0 - armed))
        coalition_power[alliance[g]] += gang_power[g]
        coalition_personnel[alliance[g]] += gang_personnel[g]
    attack_power = np.empty(n_gangs)
    attack_personnel = np.empty(n_gangs)
    for g in range(n_gangs):
        attack_power[g] = gang_power[g] + ally_support * (coalition_power[alliance[g]]
                                                          - gang_power[g])
        attack_personnel[g] = gang_personnel[g] + ally_support * (
            coalition_personnel[alliance[g]] - gang_personnel[g])
    gang_expected = rates.attacks_per_member * members * gangs.posture

    n_cells = len(owner)
    frontier = border.sum()
    g_target = np.empty(frontier, np.int64)
    g_source = np.empty(frontier, np.int64)
    g_attacker = np.empty(frontier, np.int64)
    g_defender = np.empty(frontier, np.int64)
    g_defence = np.empty(frontier)
    g_score = np.empty(frontier)
    s_target = np.empty(frontier, np.int64)
    s_source = np.empty(frontier, np.int64)
    s_region = np.empty(frontier, np.int64)
    s_score = np.empty(frontier)
    ng = ns = 0
    for src in range(n_cells):
        if border[src] == 0:
            continue
        a = owner[src]
        for e in range(edge_ptr[src], edge_ptr[src + 1]):
            c = edge_dst[e]
            d = owner[c]
            if a == d or (a != STATE and d != STATE and alliance[a] == alliance[d]):
                continue  # not a frontier, or between allies
            value = cell_value[c] * (residents[c] + value_floor)
            if a == STATE:
                s_target[ns], s_source[ns], s_region[ns] = c, src, region[c]
                s_score[ns] = value / (1.0 + gang_power[d])
                ns += 1
            else:
                if d == STATE:
                    defence = (garrison_power[c] + reserve_power[region[c]]
                               + community_per_resident * residents[c])
                else:
                    defence = gang_power[d]
                g_target[ng], g_source[ng], g_attacker[ng], g_defender[ng] = c, src, a, d
                g_defence[ng] = defence
                g_score[ng] = value / (1.0 + defence)
                ng += 1
    gp = _choose(g_target[:ng], g_source[:ng], g_attacker[:ng], g_score[:ng], gang_expected,
                 jit.day_key(seed, jit.ATTACK_CHOICE, day))
    sp = _choose(s_target[:ns], s_source[:ns], s_region[:ns], s_score[:ns], dep.operations,
                 jit.day_key(seed, jit.OPERATION_CHOICE, day))
    rng, fight = np.empty(4, np.uint64), jit.day_key(seed, jit.FIGHT, day)
    n = len(gp) + len(sp)
    target_cells = np.empty(n, np.int64)
    attacker = np.empty(n, np.int64)
    defender = np.empty(n, np.int64)
    won = np.empty(n, np.bool_)
    attack_pers, defence_pers = np.empty(n), np.empty(n)
    # The mobile force is finite: each engagement it joins (defences first, then operations)
    # takes at most one engagement's share of it from what the day's earlier ones left.
    left = dep.mobile_personnel.copy()
    for k in range(len(gp)):
        i = gp[k]
        c, a, d = g_target[i], g_attacker[i], g_defender[i]
        target_cells[k], attacker[k], defender[k] = c, a, d
        jit.reseed(rng, fight, c)
        defence, defence_pers[k] = g_defence[i], gang_personnel[d] if d != STATE else 0.0
        if d == STATE:
            r = region[c]
            commit = min(reserve_personnel[r], left[r])
            left[r] -= commit
            power = reserve_power[r] * commit / reserve_personnel[r] if commit > 0 else 0.0
            local = community_per_resident * residents[c]
            defence = garrison_power[c] + power + local
            defence_pers[k] = garrison[c] + commit + local
        won[k] = uniform(rng) < win_probability(attack_power[a], defence, advantage, steepness)
        attack_pers[k] = attack_personnel[a]
    m = len(gp)
    for k in range(len(sp)):
        i = sp[k]
        c, r = s_target[i], s_region[i]
        commit = min(reserve_personnel[r], left[r])
        if commit <= 0:
            continue  # the region's mobile force is used up for today
        left[r] -= commit
        d = owner[c]
        target_cells[m], attacker[m], defender[m] = c, STATE, d
        jit.reseed(rng, fight, n_cells + c)
        won[m] = uniform(rng) < win_probability(reserve_power[r] * commit / reserve_personnel[r],
                                                 gang_power[d], advantage, steepness)
        attack_pers[m] = commit
        defence_pers[m] = gang_personnel[d]
        m += 1
    target_cells, attacker, defender = target_cells[:m], attacker[:m], defender[:m]
    won, attack_pers, defence_pers = won[:m], attack_pers[:m], defence_pers[:m]
    return Engagements(target_cells, attacker, defender, won, attack_pers, defence_pers,
                       np.zeros(m, np.bool_))


@kernel
def resolve(eng, cells, gangs, dep, world, rates, seed, day):
    """Apply outcomes: control changes, combatant and civilian deaths.

    Returns today's deaths: gang members, state personnel by force (police, army, mission),
    civilians, and the people killed in the state's operations (gang members and civilians killed
    in fights with the state on one side: BINUH's "law enforcement operations", whose deaths it
    counts apart from the gangs'; the state's own dead it books to the gangs); fills
    `eng.captured`. Each gang in a fight pays
    `gang_ammo_usd_per_fighter_engagement` for each of its fighters. A gang the state clears out
    of a cell keeps a claim on it (`cells.claimant`, see `consolidate`). A gang whose coalition is
    at its holding capacity raids: it can win the fight, with the deaths and flight that brings,
    but it does not take the cell. The dead's guns are lost to their group (picked up by the
    winner, seized by the police). State
    deaths are booked to police, army and mission by their shares of the state's personnel in the
    region (`dep.shares`). Each engagement's deaths are drawn from its target's generator of the
    day (`jit.LOSSES`).
    """
    members, firearms, overstretch = gangs.members, gangs.firearms, gangs.overstretch
    residents, region = cells.residents, world.region
    loss_winner, loss_loser = rates.loss_rate_winner, rates.loss_rate_loser
    state_ratio = rates.state_casualty_ratio
    n_regions = len(world.region_population)
    dead = np.zeros(len(members))
    state_dead = np.zeros(n_regions)
    civilians = in_state_operations = 0.0
    rng, key, n_cells = np.empty(4, np.uint64), jit.day_key(seed, jit.LOSSES, day), len(cells.owner)
    for k in range(len(eng.cells)):
        a, d, c, won = eng.attacker[k], eng.defender[k], eng.cells[k], eng.attacker_won[k]
        jit.reseed(rng, key, c if a != STATE else n_cells + c)
        if won:
            eng.captured[k] = a == STATE or overstretch[a] < 1
            if eng.captured[k]:
                # the gang cleared out keeps a claim on the cell (`consolidate`)
                cells.claimant[c] = d if a == STATE else -1
                cells.held_days[c] = 0
                set_owner(cells, world, c, a)
        a_rate = (loss_winner if won else loss_loser) * (state_ratio if a == STATE else 1.0)
        d_rate = (loss_loser if won else loss_winner) * (state_ratio if d == STATE else 1.0)
        for side, fighters in ((a, eng.attack_personnel[k]), (d, eng.defence_personnel[k])):
            if side != STATE:  # gangs pay for the ammunition they fire
                gangs.cash_usd[side] = max(gangs.cash_usd[side]
                                           - fighters * rates.ammo_usd_per_fighter, 0.0)
        a_dead = poisson(rng, eng.attack_personnel[k] * a_rate)
        d_dead = poisson(rng, eng.defence_personnel[k] * d_rate)
        if a == STATE:
            state_dead[region[c]] += a_dead
        else:
            dead[a] += a_dead
        if d == STATE:
            state_dead[region[c]] += d_dead
        else:
            dead[d] += d_dead
        killed = min(float(poisson(rng, rates.civilians_killed_per_engagement
                                       * np.sqrt(residents[c] / 10000))), residents[c])
        residents[c] -= killed
        civilians += killed
        if a == STATE:
            in_state_operations += d_dead + killed
        elif d == STATE:
            in_state_operations += a_dead + killed
    for g in range(len(members)):
        if dead[g] > 0:
            armed = min(1.0, firearms[g] / max(members[g], 1e-9))
            firearms[g] = max(firearms[g] - dead[g] * armed, 0.0)
            members[g] = max(members[g] - dead[g], 0.0)
    by_force = np.zeros(3)
    for r in range(n_regions):
        for f in range(3):
            by_force[f] += state_dead[r] * dep.shares[r, f]
    return dead.sum(), by_force, civilians, in_state_operations


@kernel
def gang_violence(cells, gangs, rates, seed, day) -> float:
    """Civilians killed by gangs outside engagements (massacres, executions); returns the count.

    Each group kills at `gang_killings_per_member_per_year` per member, among the residents of the
    cells it holds in proportion to their number. A group's killings of the day are Poisson with
    its rate, spread over its cells in proportion to their residents by successive binomials (a
    multinomial): the same as one Poisson per cell with the cell's share of the rate, for one draw
    per group instead of one per cell. A group's draws come from its own generator of the day
    (`jit.GANG_KILLINGS`).
    """
    owner, residents, members = cells.owner, cells.residents, gangs.members
    cells.killed_by_gangs[:] = 0.0
    people = np.zeros(len(members))
    for c in range(len(owner)):
        if owner[c] >= 0:
            people[owner[c]] += residents[c]
    left = np.zeros(len(members), np.int64)
    rngs, key = np.empty((len(members), 4), np.uint64), jit.day_key(seed, jit.GANG_KILLINGS, day)
    for g in range(len(members)):
        if people[g] > 0:
            jit.reseed(rngs[g], key, g)
            left[g] = poisson(rngs[g], rates.killings_per_member * members[g])
    total = 0.0
    for c in range(len(owner)):
        g = owner[c]
        if g < 0 or left[g] == 0 or residents[c] <= 0:
            continue
        # of the people in the group's cells not yet visited (all of them, when rounding leaves 0)
        share = residents[c] / people[g] if people[g] > 0 else 1.0
        people[g] -= residents[c]
        k = left[g]
        if share < 1 - 1e-12:
            k = 0
            for _ in range(left[g]):
                k += uniform(rngs[g]) < share
        left[g] -= k
        killed = min(float(k), residents[c])
        residents[c] -= killed
        cells.killed_by_gangs[c] = killed
        total += killed
    return total


@kernel
def _pick(rng, weight, total):
    """A cell drawn with chance weight[c] / total (`total` = the sum of `weight`), or -1 when
    rounding runs past the last cell of positive weight (the caller skips that draw)."""
    u, c = uniform(rng) * total, 0
    while c < len(weight) - 1 and (weight[c] == 0 or u >= weight[c]):
        u -= weight[c]
        c += 1
    return c if weight[c] > 0 else -1


@kernel
def self_defence(cells, gangs, world, rates, seed, day, eng):
    """Killings by self-defence brigades (Bwa Kale: lynchings); returns (gang members killed,
    civilians killed).

    Brigades form where people live free next to gang-held ground: the residents of state-held
    cells with a gang-held neighbour (the frontier). They kill at
    `self_defence_killings_per_1000_frontier_residents_per_year` per 1,000 of them, and more
    where gangs have just advanced: a cell's rate is multiplied by 1 + `self_defence_alarm_boost`
    x its alarm, which is 1 on the day a gang takes a neighbouring cell from the state (in `eng`,
    today's `Engagements`) and fades with a time constant of `self_defence_alarm_days` (Bwa Kale
    began in Canape-Vert the night after gangs tried to take new neighbourhoods, 24 Apr 2023,
    and its first wave waned within months). The day's count is one Poisson draw, and each
    killing falls in a frontier cell chosen in proportion to its residents times that factor.
    A victim is a member of a group holding a neighbour of that cell with chance
    `lynched_gang_member_share` (a suspected gang member caught on the state's side), else a
    resident accused of a common crime. None while `self_defence_movement` is 0, and the alarm
    stands at 1 everywhere until an event starts the movement: brigades that form at once across
    the capital (Bwa Kale spread from Canape-Vert within days) start on alert and wane from there.
    A run that starts with the movement already active starts with no alarm: only the gangs'
    captures raise it. The alarm also deters kidnapping (`gangs.economy`). A lynched member's gun
    stays with the group. The draws come from one generator of the day (`jit.LYNCHINGS`).
    """
    owner, border, residents, members = cells.owner, cells.border, cells.residents, gangs.members
    edge_ptr, edge_dst, alarm = world.edge_ptr, world.edge_dst, cells.alarm
    if rates.self_defence_active == 0:
        alarm[:] = 1.0  # no brigades yet: the day they form, they form along the whole frontier
        return 0.0, 0.0
    alarm *= rates.lynching_alarm_decay
    for k in range(len(eng.cells)):
        if taken_from_state(eng, k):
            c = eng.cells[k]
            for e in range(edge_ptr[c], edge_ptr[c + 1]):
                alarm[edge_dst[e]] = 1.0
    n = len(owner)
    frontier = np.zeros(n)
    total = 0.0
    for c in range(n):
        if owner[c] == STATE and border[c] > 0:  # a neighbour held by a gang
            frontier[c] = residents[c] * (1.0 + rates.lynching_alarm_boost * alarm[c])
            total += frontier[c]
    if total <= 0:
        return 0.0, 0.0
    rng = np.empty(4, np.uint64)
    jit.reseed(rng, jit.day_key(seed, jit.LYNCHINGS, day), 0)
    gang_dead = civilians = 0.0
    for _ in range(poisson(rng, rates.lynchings_per_frontier_resident * total)):
        c = _pick(rng, frontier, total)
        if c < 0:
            continue
        if uniform(rng) < rates.lynched_gang_share:
            for e in range(edge_ptr[c], edge_ptr[c + 1]):
                g = owner[edge_dst[e]]
                if g >= 0 and members[g] >= 1:
                    members[g] -= 1
                    gang_dead += 1
                    break
        elif residents[c] >= 1:
            residents[c] -= 1
            civilians += 1
    return gang_dead, civilians


@kernel
def drone_strikes(cells, gangs, world, rates, seed, day):
    """Drone operations by the state's task force on gang-held ground in the capital; returns
    (gang members killed, bystanders killed).

    The task force (the Prime Minister's, with Vectus Global's contractors, from March 2025)
    strikes with explosive-armed quadcopters: it takes no ground and meets no defence, so an
    operation is not an engagement. The day's operations are one Poisson draw at
    `drone_operations_per_month`; each falls on a gang-held cell of the metro chosen in
    proportion to its residents (groups base among the people of the dense neighbourhoods they
    hold). It kills HRW's mean of `drone_killed_per_operation` people: Poisson(its
    `drone_gang_member_share`) members of the group holding the cell (at most all of them) and
    Poisson(the rest) of its residents. A killed member's gun stays with the group: nobody is
    there to pick it up. The draws come from one generator of the day (`jit.DRONES`).
    """
    if rates.drone_operations_per_day <= 0:
        return 0.0, 0.0
    owner, residents, members = cells.owner, cells.residents, gangs.members
    weight = np.where((owner >= 0) & world.is_metro, residents, 0.0)  # gang-held metro cells
    total = weight.sum()
    if total <= 0:
        return 0.0, 0.0
    rng = np.empty(4, np.uint64)
    jit.reseed(rng, jit.day_key(seed, jit.DRONES, day), 0)
    gang_dead = civilians = 0.0
    for _ in range(poisson(rng, rates.drone_operations_per_day)):
        c = _pick(rng, weight, total)
        if c < 0:
            continue
        k = min(float(poisson(rng, rates.drone_gang_killed_per_operation)), members[owner[c]])
        members[owner[c]] -= k
        gang_dead += k
        k = min(float(poisson(rng, rates.drone_bystanders_killed_per_operation)), residents[c])
        residents[c] -= k
        civilians += k
    return gang_dead, civilians


@kernel
def consolidate(cells, gangs, dep, world, rates, seed, day) -> None:
    """Ground changes hands without a fight: unheld cleared cells revert, overstretched gangs leave.

    Contested ground stays contested. A cell the state took from a gang (cleared in a fight, or
    given up by an overstretched gang) is claimed by that gang (`cells.claimant`) until the
    Haitian state's own garrison there has met `hold_personnel_per_1000_residents` for
    `claim_lapse_days` days in a row: a foreign force holding it suppresses the claim but cannot
    end it. While the claim stands, the cell falls back with a daily chance of
    `reversion_per_day` times the shortfall of its whole garrison (police, army and the mission's
    holding troops) below that need, with no time limit: to a gang next to it (the first that
    does) or, if none is, to the claimant's remnants, as long as the claimant has members left
    (re-infiltration). A coalition controlling more than its members can hold (overstretch, as
    assessed this morning by the economy step) pulls back over days: its groups give up frontier
    cells, but never a stronghold, and keep a claim on them. Each cell's chances are drawn from
    its own generator of the day (`jit.REVERSION`, `RELEASE`).
    """
    owner, border, edge_ptr, edge_dst = cells.owner, cells.border, world.edge_ptr, world.edge_dst
    claimant, held_days, members = cells.claimant, cells.held_days, gangs.members
    overstretch = gangs.overstretch
    n = len(owner)
    changed, new_owner = np.empty(n, np.int64), np.empty(n, np.int64)
    # Reversion, decided on this morning's map.
    rng, key = np.empty(4, np.uint64), jit.day_key(seed, jit.REVERSION, day)
    k = 0
    for c in range(n):
        g = claimant[c]
        if owner[c] != STATE or g < 0:
            continue
        need = rates.hold_personnel_per_resident * cells.residents[c]
        if dep.own_garrison[c] >= need:
            held_days[c] += 1
            if held_days[c] >= rates.claim_lapse_days:
                claimant[c] = -1  # consolidated: the state holds it on its own
            continue
        held_days[c] = 0
        chance = rates.reversion_per_day * min(max(1.0 - dep.garrison[c] / max(need, 1e-9), 0.0),
                                               1.0)
        if chance <= 0:
            continue
        jit.reseed(rng, key, c)
        taker = -1
        if border[c] > 0:
            for e in range(edge_ptr[c], edge_ptr[c + 1]):
                a = owner[edge_dst[e]]
                if a >= 0 and uniform(rng) < chance:
                    taker = a
                    break
        elif members[g] >= 1 and uniform(rng) < chance:
            taker = g
        if taker >= 0:
            changed[k], new_owner[k] = c, taker
            k += 1
    for i in range(k):
        claimant[changed[i]] = -1
        set_owner(cells, world, changed[i], new_owner[i])
    # Overstretch: each frontier edge of a group whose coalition holds too much may lead it to let
    # that cell go (never its stronghold), the more likely the more it holds over its capacity.
    release = np.empty(len(overstretch))
    for g in range(len(overstretch)):
        release[g] = rates.release_per_day * max(1.0 - 1.0 / max(overstretch[g], 1.0), 0.0)
    if release.max() <= 0:
        return
    key = jit.day_key(seed, jit.RELEASE, day)
    k = 0
    for c in range(n):
        a = owner[c]
        if a < 0 or border[c] == 0 or release[a] <= 0 or gangs.home[a] == c:
            continue
        jit.reseed(rng, key, c)
        for e in range(edge_ptr[c], edge_ptr[c + 1]):
            if owner[edge_dst[e]] != a and uniform(rng) < release[a]:
                changed[k] = c
                k += 1
                break
    for i in range(k):
        claimant[changed[i]] = owner[changed[i]]
        held_days[changed[i]] = 0
        set_owner(cells, world, changed[i], STATE)
