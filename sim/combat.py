"""Where the state's forces stand, and the engagements that move control of cells.

Functional form. An engagement pits an attacking force A against a defending force D (personnel
times firepower). The attacker wins with probability

    P = 1 / (1 + (defender_advantage * D / A) ** combat_steepness),

i.e. a logistic function of the log force ratio, log(A/D), centred where A = advantage * D. It is
chosen over Lanchester's equations because engagements here are raids and clearances that end in
withdrawal, not fights to annihilation; the logistic in the log ratio is the form of the
'3:1 rule' literature (Mearsheimer 1989) and of contest success functions (Tullock; Hirshleifer
1989), and it is bounded and monotone: more force never lowers one's chance.

Every engagement here is vectorised over the frontier edges of the cell graph: one array operation
per rule, not one Python call per engagement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATE = -1  # owner value of cells not held by a gang (the state's, or nobody's)
KEY_SITE_KINDS = ("airport", "seaport", "downtown")
RECENTLY_CLEARED_DAYS = 180


def win_probability(attack: np.ndarray, defence: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """P(attacker wins), logistic in the log force ratio (see module docstring)."""
    ratio = p["defender_advantage"] * defence / np.maximum(attack, 1e-9)
    return 1.0 / (1.0 + ratio ** p["combat_steepness"])


@dataclass
class Deployment:
    """The state's forces on the map today.

    garrison: personnel holding each cell; garrison_power: the same times firepower.
    reserve_power/reserve_personnel: per region, the mobile force (police units and mission) that
    one engagement can draw on, whether it reinforces a defence or mounts an operation.
    operations: per region, expected state offensive operations today. shares: (police, army,
    mission) shares of state personnel per region, to book state casualties to the right force.
    """

    garrison: np.ndarray
    garrison_power: np.ndarray
    reserve_power: np.ndarray
    reserve_personnel: np.ndarray
    operations: np.ndarray
    shares: np.ndarray


def deploy(model) -> Deployment:
    """Place police, army and mission troops for today.

    Police not in offensive units garrison state-held cells in proportion to their residents (the
    metro gets `police_share_capital`, other regions the rest by population); the army guards
    the airport, port and downtown (its role in 2023-25); the mission operates in the metro and
    (its remaining share) in Artibonite. Offensive operations come from police units and the
    mission, the mission's scaled by its mandate's tempo.
    """
    p, cells = model.p, model.cells
    police, army, mission = model.police, model.army, model.mission
    n_regions = len(model.region_population)
    state_held = cells.owner == STATE

    police_ops = police.operational
    police_region = police_ops * model.police_region_share()
    police_offensive = police_region * p["police_offensive_share"]
    police_garrison = police_region - police_offensive

    people = np.where(state_held, cells.residents, 0.0)
    region_people = np.bincount(model.region, people, minlength=n_regions)
    per_resident = np.divide(police_garrison, region_people, out=np.zeros(n_regions),
                             where=region_people > 0)
    garrison = people * per_resident[model.region]
    garrison_power = garrison * police.firepower()

    sites = model.key_sites[state_held[model.key_sites]]
    if len(sites):
        guard = army.soldiers / len(sites)
        garrison[sites] += guard
        garrison_power[sites] += guard * army.firepower()

    troops = np.zeros(n_regions)
    troops[model.metro_region] = mission.troops * p["mission_capital_share"]
    troops[model.artibonite_region] = mission.troops * (1 - p["mission_capital_share"])
    army_region = np.zeros(n_regions)
    army_region[model.metro_region] = army.soldiers

    concentration = p["state_reaction_share"]
    reserve = police_offensive + troops
    reserve_power = police_offensive * police.firepower() + troops * p["mission_firepower"]
    operations = p["state_operation_rate"] / 1000 * (
        police_offensive + troops * mission.tempo())
    total = police_region + troops + army_region
    shares = np.stack([police_region, army_region, troops], axis=1)
    shares = np.divide(shares, total[:, None], out=np.zeros_like(shares), where=total[:, None] > 0)
    return Deployment(garrison, garrison_power, reserve_power * concentration,
                      reserve * concentration, operations, shares)


@dataclass
class Engagements:
    """Today's engagements: target cells, who attacked, who won, and the forces engaged."""

    cells: np.ndarray
    attacker: np.ndarray  # gang index, or STATE for a state operation
    defender: np.ndarray  # gang index, or STATE
    attacker_won: np.ndarray
    attack_personnel: np.ndarray
    defence_personnel: np.ndarray
    captured: np.ndarray | None = None  # set by `resolve`: won and kept (not a raid)


def _pick(candidates: np.ndarray, group: np.ndarray, score: np.ndarray, expected: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    """Choose among candidate edges: each group makes `expected[group]` choices a day on average,
    spread over its candidates in proportion to `score`; one engagement per target cell."""
    totals = np.bincount(group, score, minlength=len(expected))
    prob = np.minimum(1.0, expected[group] * score / np.maximum(totals[group], 1e-12))
    chosen = np.flatnonzero(rng.random(len(candidates)) < prob)
    if len(chosen) > 1:
        chosen = rng.permutation(chosen)
        _, first = np.unique(candidates[chosen], return_index=True)
        chosen = chosen[first]
    return chosen


class Frontier:
    """Directed edges between cells of different owners: the only places where ground changes.

    Recomputing it from all ~19,000 edges would cost more than the rest of a day's combat, while
    only a handful of cells change hands a day; so every change of owner goes through `set_owner`,
    which refreshes just the edges touching the changed cells.
    """

    def __init__(self, geo, owner: np.ndarray):
        self.geo = geo
        self.owner = owner
        self.differs = owner[geo.edge_src] != owner[geo.edge_dst]
        self._edges: tuple[np.ndarray, np.ndarray] | None = None

    def set_owner(self, cells: np.ndarray, owners) -> None:
        if not len(cells):
            return
        geo = self.geo
        self.owner[cells] = owners
        touched = geo.edges_of(np.unique(cells))
        touched = np.concatenate([touched, geo.edge_reverse[touched]])
        owner = self.owner
        self.differs[touched] = owner[geo.edge_src[touched]] != owner[geo.edge_dst[touched]]
        self._edges = None

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        if self._edges is None:
            e = np.flatnonzero(self.differs)
            self._edges = (self.geo.edge_src[e], self.geo.edge_dst[e])
        return self._edges


def engage(model, dep: Deployment, rng: np.random.Generator) -> Engagements:
    """Gang attacks on neighbouring cells and state operations against gang-held cells."""
    p, cells, gs = model.p, model.cells, model.gang_state
    owner = cells.owner
    src, dst = model.frontier.edges()
    o_src, o_dst = owner[src], owner[dst]
    alliance = gs.effective_alliance(bool(p["viv_ansanm_alliance"]))
    gang_power = gs.members * p["gang_concentration"] * gs.power_per_member()
    gang_personnel = gs.members * p["gang_concentration"]
    # An attacker is reinforced by a share of its allies' fighters (coordinated offensives).
    allies_power = np.bincount(alliance, gang_power)[alliance] - gang_power
    allies_personnel = np.bincount(alliance, gang_personnel)[alliance] - gang_personnel
    attack_power = gang_power + p["ally_support_share"] * allies_power
    attack_personnel = gang_personnel + p["ally_support_share"] * allies_personnel

    # Gang attacks: from a held cell into a neighbour not held by the group or an ally.
    hostile = o_src >= 0
    rivals = hostile & (o_dst >= 0)
    hostile[rivals] = alliance[o_src[rivals]] != alliance[o_dst[rivals]]
    e = np.flatnonzero(hostile)
    target, attacker, defender = dst[e], o_src[e], o_dst[e]
    is_state = defender == STATE
    safe_def = np.where(is_state, 0, defender)
    community = p["community_defence_per_1000_residents"] * cells.residents[target] / 1000
    region = model.region[target]
    defence_power = np.where(
        is_state, dep.garrison_power[target] + dep.reserve_power[region] + community,
        gang_power[safe_def])
    value = model.cell_value[target] * (cells.residents[target] + model.value_floor)
    expected = p["gang_attack_rate"] / 1000 * gs.members * gs.posture
    pick = _pick(target, attacker, value / (1.0 + defence_power), expected, rng)
    g_cells, g_att, g_def = target[pick], attacker[pick], defender[pick]
    g_won = rng.random(len(pick)) < win_probability(attack_power[g_att], defence_power[pick], p)
    g_att_pers = attack_personnel[g_att]
    g_def_pers = np.where(
        is_state[pick],
        dep.garrison[g_cells] + dep.reserve_personnel[region[pick]] + community[pick],
        gang_personnel[safe_def[pick]])

    # State operations: from a state cell into a gang-held neighbour, in the target's region.
    e = np.flatnonzero((o_src == STATE) & (o_dst >= 0))
    target, defender = dst[e], o_dst[e]
    region = model.region[target]
    value = model.cell_value[target] * (cells.residents[target] + model.value_floor)
    pick = _pick(target, region, value / (1.0 + gang_power[defender]), dep.operations, rng)
    s_cells, s_def, s_region = target[pick], defender[pick], region[pick]
    s_won = rng.random(len(pick)) < win_probability(dep.reserve_power[s_region],
                                                    gang_power[s_def], p)

    return Engagements(
        cells=np.concatenate([g_cells, s_cells]),
        attacker=np.concatenate([g_att, np.full(len(s_cells), STATE)]),
        defender=np.concatenate([g_def, s_def]),
        attacker_won=np.concatenate([g_won, s_won]),
        attack_personnel=np.concatenate([g_att_pers, dep.reserve_personnel[s_region]]),
        defence_personnel=np.concatenate([g_def_pers, gang_personnel[s_def]]),
    )


def resolve(model, eng: Engagements, rng: np.random.Generator) -> dict[str, float]:
    """Apply outcomes: control changes, combatant and civilian deaths. Returns today's deaths.

    A gang whose coalition is at its holding capacity raids: it can win the fight, with the deaths
    and flight that brings, but it does not take the cell.
    """
    p, cells, gs = model.p, model.cells, model.gang_state
    won = eng.attacker_won
    # A gang whose coalition cannot hold more raids: it wins the fight but does not stay.
    gang_attack = eng.attacker >= 0
    raid = np.zeros_like(won)
    raid[gang_attack] = gs.overstretch[eng.attacker[gang_attack]] >= 1
    eng.captured = won & ~raid
    model.frontier.set_owner(eng.cells[eng.captured], eng.attacker[eng.captured])
    cleared = won & (eng.attacker == STATE)
    cells.cleared_age[eng.cells[cleared]] = 0

    lose, win = p["loss_rate_loser"], p["loss_rate_winner"]
    att_rate = np.where(won, win, lose) * np.where(eng.attacker == STATE,
                                                   p["state_casualty_ratio"], 1.0)
    def_rate = np.where(won, lose, win) * np.where(eng.defender == STATE,
                                                   p["state_casualty_ratio"], 1.0)
    att_dead = rng.poisson(eng.attack_personnel * att_rate)
    def_dead = rng.poisson(eng.defence_personnel * def_rate)
    gang_dead = (np.bincount(eng.attacker[eng.attacker >= 0], att_dead[eng.attacker >= 0],
                             minlength=len(gs.members))
                 + np.bincount(eng.defender[eng.defender >= 0], def_dead[eng.defender >= 0],
                               minlength=len(gs.members)))
    # The dead's guns are lost to the group (picked up by the winner, seized by the police).
    armed = np.minimum(1.0, gs.firearms / np.maximum(gs.members, 1e-9))
    gs.firearms = np.maximum(gs.firearms - gang_dead * armed, 0.0)
    gs.members = np.maximum(gs.members - gang_dead, 0.0)

    state_dead_cells = np.where(eng.attacker == STATE, att_dead, 0) + np.where(
        eng.defender == STATE, def_dead, 0)
    by_region = np.bincount(model.region[eng.cells], state_dead_cells,
                            minlength=len(model.region_population))
    by_force = by_region[:, None] * model.deployment.shares
    police_dead, army_dead, troops_dead = by_force.sum(axis=0)
    model.police.killed += police_dead
    model.army.killed += army_dead
    model.mission.killed += troops_dead

    density = cells.residents[eng.cells] / 10000
    civilians = rng.poisson(p["civilians_killed_per_engagement"] * np.sqrt(density))
    civilians = np.minimum(civilians, cells.residents[eng.cells])
    np.subtract.at(cells.residents, eng.cells, civilians)
    return {"killed_gang": float(gang_dead.sum()), "killed_police": float(police_dead),
            "killed_army": float(army_dead), "killed_troops": float(troops_dead),
            "killed_civilians": float(civilians.sum())}


def gang_violence(model, rng: np.random.Generator) -> float:
    """Civilians killed by gangs outside engagements (massacres, executions); returns the count.

    Each group kills at `gang_killings_per_member_per_year` per member, among the residents of the
    cells it holds in proportion to their number.
    """
    cells, gs = model.cells, model.gang_state
    held = np.flatnonzero(cells.owner >= 0)
    if not len(held):
        return 0.0
    gang = cells.owner[held]
    people = cells.residents[held]
    per_gang = np.bincount(gang, people, minlength=len(gs.members))
    rate = model.p["gang_killings_per_member_per_year"] / 365 * gs.members
    expected = rate[gang] * people / np.maximum(per_gang[gang], 1e-9)
    killed = np.minimum(rng.poisson(expected), people)
    cells.residents[held] -= killed
    return float(killed.sum())


def consolidate(model, dep: Deployment, rng: np.random.Generator) -> None:
    """Ground changes hands without a fight: unheld cleared cells revert, overstretched gangs leave.

    Holding cleared ground takes `hold_personnel_per_1000_residents`: a recently cleared cell next
    to a gang whose garrison is below it falls back with a daily chance that grows with the
    shortfall. A gang controlling more residents than its members can hold gives up border cells,
    but never its stronghold.
    """
    p, cells, gs = model.p, model.cells, model.gang_state
    owner = cells.owner
    src, dst = model.frontier.edges()
    e = np.flatnonzero((owner[src] >= 0) & (owner[dst] == STATE)
                       & (cells.cleared_age[dst] < RECENTLY_CLEARED_DAYS))
    if len(e):
        target = dst[e]
        need = p["hold_personnel_per_1000_residents"] * cells.residents[target] / 1000
        shortfall = np.clip(1 - dep.garrison[target] / np.maximum(need, 1e-9), 0, 1)
        revert = rng.random(len(e)) < p["reversion_per_day"] * shortfall
        e, target = e[revert], target[revert]
        _, first = np.unique(target, return_index=True)
        model.frontier.set_owner(target[first], owner[src[e[first]]])

    # Overstretch as assessed this morning by the economy step: a coalition pulls back over days.
    over = np.maximum(gs.overstretch, 1)
    release = p["overstretch_release_per_day"] * np.clip(1 - 1 / over, 0, 1)
    src, dst = model.frontier.edges()
    e = np.flatnonzero(owner[src] >= 0)
    if len(e):
        cell = src[e]
        let_go = rng.random(len(e)) < release[owner[cell]]
        cell = np.unique(cell[let_go])
        model.frontier.set_owner(cell[gs.home[owner[cell]] != cell], STATE)
