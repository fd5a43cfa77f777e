"""Armed groups: who they are, where they start, and how they earn, arm, recruit and decide.

Each armed group is a Mesa agent (`Gang`) whose numbers live in the arrays of `GangState`, indexed
by the agent's `index`: the daily economy of two hundred groups is then a handful of vectorised
operations, while the decision that is really a group's own (how hard to push this week) stays in
the agent. Territory is not stored here: it is `owner` in the model's cell state.

Named groups come from observed/gangs.csv with approximate base coordinates; their sizes are
assumptions (only G9's ">1,000 members" is reported, UN PoE S/2023/674) documented in docs/odd.md.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from sim.geography import Geography

# Alliance ids. G9 and G-Pep fought each other until they joined as Viv Ansanm (22 Sep 2023);
# groups "linked to Viv Ansanm" join it then too. Every independent group gets an id of its own.
G9, GPEP, VA_AFFILIATE, FIRST_INDEPENDENT = 0, 1, 2, 3


@dataclass(frozen=True)
class NamedGang:
    name: str
    alliance: int  # an id above, or -1 for an independent group
    lon: float
    lat: float
    members: float  # assumption, relative sizes (see module docstring)


NAMED_GANGS = (
    NamedGang("G9 an Fanmi e Alye", G9, -72.335, 18.553, 1000),
    NamedGang("Wharf Jeremie", G9, -72.353, 18.566, 100),
    NamedGang("Chen Mechan", G9, -72.270, 18.590, 100),
    NamedGang("G-Pep", GPEP, -72.330, 18.585, 300),
    NamedGang("5 Segond", GPEP, -72.350, 18.538, 400),
    NamedGang("Grand Ravine", GPEP, -72.365, 18.530, 250),
    NamedGang("400 Mawozo", GPEP, -72.200, 18.580, 350),
    NamedGang("Kraze Barye", GPEP, -72.260, 18.575, 150),
    NamedGang("Canaan gang", GPEP, -72.290, 18.640, 150),
    NamedGang("Ti Bwa", -1, -72.380, 18.527, 100),
    NamedGang("Bout Ba gang", -1, -72.440, 18.525, 80),
    NamedGang("Gran Grif", VA_AFFILIATE, -72.520, 19.180, 250),
    NamedGang("Kokorat San Ras", -1, -72.650, 19.600, 100),
)
# Named groups take at most this share of all members, so a small `gang_members_total` still leaves
# generic groups some members.
NAMED_MAX_SHARE = 0.67

# Where generic groups are based (assumption: c.2020 half the gangs were in Port-au-Prince, SNDDR,
# and most of the rest around it; BINUH counts >=20 armed groups in Lower Artibonite in 2023, i.e.
# ~15% of 137), and which coalition metro groups join (by 2022 the capital's gangs were aligned
# with G9 or G-Pep, GI-TOC).
GENERIC_REGION_WEIGHTS = {"metro": 0.75, "Artibonite": 0.15, "Centre": 0.03, "Ouest": 0.07}
GENERIC_METRO_ALLIANCE_SHARES = {G9: 0.5, GPEP: 0.5}
ROAD_BASE_WEIGHT = 4.0  # assumption: a road cell is five times as likely a base as another

UNARMED_MEMBER_POWER = 0.2  # a member without a firearm counts for a fifth (machetes, lookouts)
MAX_POSTURE = 1.5
MIN_ARMED_SHARE = 0.8  # a group recruits only while it can arm this share of its members
RAID_POSTURE = 0.25  # share of its tempo a group keeps when it has no room to hold more (raids)


class GangState:
    """The numbers of every armed group, as arrays indexed by `Gang.index`."""

    def __init__(self, members: np.ndarray, firearms: np.ndarray, cash_usd: np.ndarray,
                 alliance: np.ndarray, home: np.ndarray):
        self.members = members
        self.home = home  # stronghold cell: never given up without a fight
        self.firearms = firearms
        self.cash_usd = cash_usd
        self.alliance = alliance
        self.posture = np.ones_like(members)
        self.overstretch = np.zeros_like(members)  # of each group's coalition, set by `economy`

    def effective_alliance(self, viv_ansanm: bool) -> np.ndarray:
        """Alliance ids in force: Viv Ansanm merges G9, G-Pep and its affiliates into one."""
        if not viv_ansanm:
            return self.alliance
        return np.where(self.alliance <= VA_AFFILIATE, G9, self.alliance)

    def coalition_overstretch(self, owner: np.ndarray, load: np.ndarray,
                              p: dict[str, float]) -> np.ndarray:
        """Per group: the control load its coalition holds over what the coalition can hold.

        Allies share the burden of holding ground, so capacity is pooled within a coalition (an
        independent group is a coalition of one).
        """
        alliance = self.effective_alliance(bool(p["viv_ansanm_alliance"]))
        held = owner >= 0
        load_held = np.bincount(alliance[owner[held]], load[held], minlength=alliance.max() + 1)
        capacity = (np.bincount(alliance, self.members, minlength=alliance.max() + 1)
                    * p["gang_residents_per_member"])
        ratio = np.divide(load_held, capacity, out=np.zeros_like(load_held), where=capacity > 0)
        ratio[(capacity <= 0) & (load_held > 0)] = np.inf
        return ratio[alliance]

    def power_per_member(self) -> np.ndarray:
        armed = np.minimum(1.0, self.firearms / np.maximum(self.members, 1e-9))
        return armed + UNARMED_MEMBER_POWER * (1.0 - armed)


class Gang(mesa.Agent):
    """One armed group. Its state is a view on `model.gang_state` at `index`."""

    def __init__(self, model: mesa.Model, index: int, name: str, home_cell: int):
        super().__init__(model)
        self.index = index
        self.name = name
        self.home_cell = home_cell

    def plan(self) -> None:
        """Decide this week's posture: push when armed, paid and able to hold more ground.

        Posture scales the group's attack rate. It is the armed share, times a pay factor that
        reaches full strength with six months of upkeep in hand (gangs that cannot pay fighters do
        not attack), times the room left under its coalition's holding capacity (full with a fifth
        of it spare): a group does not push for ground it cannot keep, though it still raids.
        """
        s, p = self.model.gang_state, self.model.p
        i = self.index
        members = s.members[i]
        if members < 1:
            s.posture[i] = 0.0
            return
        armed = min(1.0, s.firearms[i] / members)
        upkeep_month = members * p["gang_upkeep_usd_per_member_per_year"] / 12
        months = s.cash_usd[i] / upkeep_month if upkeep_month > 0 else 6.0
        room = 1 - s.overstretch[i]
        expand = min(1.0, max(room, 0.0) / 0.2)
        s.posture[i] = min(MAX_POSTURE, armed * (0.5 + months / 12)) * (
            RAID_POSTURE + (1 - RAID_POSTURE) * expand)


def create(model, geo: Geography, p: dict[str, float], rng: np.random.Generator) -> GangState:
    """Create the armed groups at their bases with members, firearms and cash; return the state."""
    n = int(p["gang_count"])
    total = p["gang_members_total"]
    named = np.array([g.members for g in NAMED_GANGS])
    named = named * min(1.0, NAMED_MAX_SHARE * total / named.sum())
    n_generic = n - len(NAMED_GANGS)
    generic_total = total - named.sum()

    region_of_base, bases, alliance = _generic_bases(geo, n_generic, rng)
    # Generic sizes vary (10-15 to 60-80 members, CNDDR 2019): a lognormal around the mean.
    sizes = rng.lognormal(0.0, 0.6, n_generic)
    generic = generic_total * sizes / sizes.sum() if n_generic else np.zeros(0)

    members = np.concatenate([named, generic])
    alliance = np.concatenate([
        [g.alliance if g.alliance >= 0 else -1 for g in NAMED_GANGS], alliance]).astype(np.int32)
    independent = alliance < 0
    alliance[independent] = FIRST_INDEPENDENT + np.arange(independent.sum())
    homes = [geo.nearest_cell(g.lon, g.lat, among=None) for g in NAMED_GANGS] + list(bases)
    names = [g.name for g in NAMED_GANGS] + [f"{region} group {i + 1}"
                                             for i, region in enumerate(region_of_base)]
    for i, (name, home) in enumerate(zip(names, homes, strict=True)):
        Gang(model, i, name, int(home))
    firearms = members * p["gang_firearms_per_member"]
    cash = members * p["gang_upkeep_usd_per_member_per_year"] / 4  # three months in hand
    return GangState(members, firearms, cash, alliance, np.array(homes, dtype=np.int32))


def _generic_bases(geo: Geography, n: int, rng: np.random.Generator):
    regions = list(GENERIC_REGION_WEIGHTS)
    weights = np.array(list(GENERIC_REGION_WEIGHTS.values()))
    picks = rng.choice(len(regions), size=n, p=weights / weights.sum())
    bases, labels, alliance = [], [], []
    used = np.zeros(geo.n_cells, bool)
    for k in picks:
        region = regions[k]
        if region == "metro":
            mask = geo.is_metro
        else:
            mask = (geo.department == geo.department_index(region)) & ~geo.is_metro
        # Outside the metro, groups settle along the national roads they tax (GI-TOC: checkpoints
        # on RN1 and RN2 are a main income), so road cells weigh more.
        weight = geo.population * (1.0 if region == "metro" else 1.0 + ROAD_BASE_WEIGHT * (
            geo.road_mask > 0))
        w = np.where(mask & ~used, weight, 0.0)
        if w.sum() <= 0:  # every populated cell already has a base: allow sharing
            w = np.where(mask, weight, 0.0)
        cell = int(rng.choice(geo.n_cells, p=w / w.sum()))
        used[cell] = True
        bases.append(cell)
        labels.append(region)
        if region == "metro":
            r = rng.random()
            g9, gpep = GENERIC_METRO_ALLIANCE_SHARES[G9], GENERIC_METRO_ALLIANCE_SHARES[GPEP]
            alliance.append(G9 if r < g9 else GPEP if r < g9 + gpep else -1)
        else:
            alliance.append(-1)
    return labels, bases, alliance


# Gangs start at this share of their holding capacity: they grow by recruiting and as people flee.
INITIAL_FILL = 1.0


def control_load(residents: np.ndarray, is_metro: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """What holding each cell takes, in metro-resident equivalents: rural residents weigh more,
    since the same people are spread over more ground."""
    rural = p["gang_residents_per_member"] / p["gang_rural_residents_per_member"]
    return residents * np.where(is_metro, 1.0, rural)


def initial_territory(geo: Geography, gangs: list[Gang], members: np.ndarray,
                      p: dict[str, float]) -> np.ndarray:
    """Grow each group's territory from its base until the capital is held at the observed share.

    A weighted Voronoi growth over the cell graph: a group's claims cost 1/sqrt(members) a step, so
    larger groups reach further; each holds its stronghold and then claims no cell that would take
    it past its capacity (members x residents per member); growth into the capital stops once
    `initial_capital_gang_share` of its cells are held.
    """
    owner = np.full(geo.n_cells, -1, dtype=np.int32)
    capacity = INITIAL_FILL * members * p["gang_residents_per_member"]
    load = control_load(geo.population, geo.is_metro, p)
    held = np.zeros(len(gangs))
    capital_target = int(round(p["initial_capital_gang_share"] * geo.is_capital.sum()))
    capital_held = 0
    ptr = np.searchsorted(geo.edge_src, np.arange(geo.n_cells + 1))
    heap = [(0.0, g.home_cell, g.index) for g in gangs if members[g.index] > 0]
    heapq.heapify(heap)
    while heap:
        cost, cell, g = heapq.heappop(heap)
        if owner[cell] >= 0 or (held[g] > 0 and held[g] + load[cell] > capacity[g]):
            continue
        if geo.is_capital[cell]:
            if capital_held >= capital_target:
                continue
            capital_held += 1
        owner[cell] = g
        held[g] += load[cell]
        step = 1.0 / np.sqrt(members[g])
        for nb in geo.edge_dst[ptr[cell]:ptr[cell + 1]]:
            if owner[nb] < 0:
                heapq.heappush(heap, (cost + step, int(nb), g))
    return owner


def economy(state: GangState, owner: np.ndarray, residents: np.ndarray, load: np.ndarray,
            displaced: np.ndarray, road_cells: np.ndarray, cargo_cells: np.ndarray,
            p: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """One day of income, upkeep, arms purchases, recruitment and attrition; returns kidnappings.

    Vectorised over all groups. Income comes from what a group controls (residents, road cells,
    the cargo corridor) and from kidnapping; upkeep is paid per member; groups that run out of cash
    lose members; firearms are bought from the day's trafficked supply after interdiction, shared in
    proportion to what each group wants and can pay for; recruitment is faster where people are
    displaced and stops when a group cannot pay or arm its recruits (so interdiction slows growth).
    """
    n = len(state.members)
    held = owner >= 0
    gang_of = owner[held]
    residents_held = np.bincount(gang_of, residents[held], minlength=n)
    state.overstretch = state.coalition_overstretch(owner, load, p)
    displaced_held = np.bincount(gang_of, displaced[held], minlength=n)
    roads_held = np.bincount(owner[road_cells][owner[road_cells] >= 0], minlength=n)
    cargo_owner = owner[cargo_cells]
    cargo_share = np.bincount(cargo_owner[cargo_owner >= 0], minlength=n) / len(cargo_cells)

    kidnappings = rng.poisson(state.members * p["kidnappings_per_member_per_year"] / 365)
    income = (residents_held * p["extortion_usd_per_resident_per_year"] / 365
              + roads_held * p["checkpoint_usd_per_day"]
              + cargo_share * p["cargo_extortion_usd_per_year"] / 365
              + kidnappings * p["ransom_usd_per_kidnapping"])
    upkeep_day = p["gang_upkeep_usd_per_member_per_year"] / 365
    state.cash_usd += income - state.members * upkeep_day

    # Unpaid members drift away: a group in debt sheds 1% of its members a day until solvent.
    broke = state.cash_usd < 0
    state.members[broke] *= 0.99
    state.cash_usd[broke] = 0.0

    state.firearms *= 1 - p["firearm_loss_per_year"] / 365
    supply = p["arms_trafficked_per_year"] / 365 * (1 - p["arms_interdiction"])
    price = p["firearm_price_usd"]
    want = np.minimum(np.maximum(state.members - state.firearms, 0), 0.5 * state.cash_usd / price)
    total_want = want.sum()
    bought = want * min(1.0, supply / total_want) if total_want > 0 else want
    state.firearms += bought
    state.cash_usd -= bought * price

    people = residents_held + displaced_held
    displaced_share = np.divide(displaced_held, people, out=np.zeros(n), where=people > 0)
    # Recruits come from the people a group controls (not from its members: growth is bounded by
    # territory, not exponential), faster where many of them are displaced.
    recruits = (residents_held / 1000 * p["gang_recruits_per_1000_residents_per_year"] / 365
                * (1 + p["recruitment_displacement_boost"] * displaced_share))
    affordable = state.cash_usd > 90 * upkeep_day * (state.members + recruits)
    # A recruit needs a gun: a group grows only while it can arm all but a few of its members.
    armable = np.maximum(state.firearms / MIN_ARMED_SHARE - state.members, 0.0)
    state.members += np.where(affordable, np.minimum(recruits, armable), 0.0)
    state.members *= 1 - p["gang_attrition_per_year"] / 365
    return kidnappings
