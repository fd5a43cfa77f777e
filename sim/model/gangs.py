"""Armed groups: who they are, where they start, and how they earn, arm, recruit and decide.

Each armed group is a Mesa agent (`Gang`) whose numbers live in the arrays of `GangState`, indexed
by the agent's `index`: the daily economy of two hundred groups is then a handful of vectorised
operations, while the decision that is really a group's own (how hard to push this week) stays in
the agent. Territory is not stored here: it is `owner` in the model's cell state.

Named groups come from observed/gangs.csv with approximate base coordinates; their sizes are
assumptions (only G9's ">1,000 members" is reported, UN PoE S/2023/674) documented in docs/odd.md.
"""

from __future__ import annotations

import csv
import heapq
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, NamedTuple

import mesa
import numpy as np

from sim.model import combat, jit
from sim.model.jit import kernel, poisson

if TYPE_CHECKING:
    from sim.model.geography import Geography

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

# Where generic groups are based (assumption: c.2020 half the gangs were in Port-au-Prince, SNDDR,
# and most of the rest around it; BINUH counts >=20 armed groups in Lower Artibonite in 2023, i.e.
# ~15% of 137), and which coalition metro groups join (by 2022 the capital's gangs were aligned
# with G9 or G-Pep, GI-TOC).
GENERIC_REGION_WEIGHTS = {"metro": 0.75, "Artibonite": 0.15, "Centre": 0.03, "Ouest": 0.07}
GENERIC_METRO_G9_SHARE = 0.5  # every metro group joins G9 or, at 1 minus this, G-Pep


def _state_held_places() -> np.ndarray:
    """(lon, lat) of the capital's neighbourhoods the state held in early 2023, one row each.

    From observed/state_held_2023.csv, which quotes a source for each (Pétion-Ville, Canapé-Vert,
    Turgeau, Solino, the airport); their coordinates are estimates of the neighbourhood's centre.
    """
    with resources.files("sim.data").joinpath("observed/state_held_2023.csv").open(
            encoding="utf-8") as fh:
        return np.array([(float(r["lon"]), float(r["lat"])) for r in csv.DictReader(fh)])


STATE_HELD_PLACES = _state_held_places()


def state_held(geo: Geography, radius_km: float) -> np.ndarray:
    """Metro cells within `radius_km` of a neighbourhood the state held in early 2023 and nearer
    to it than to any named group's base: no group starts there, and the initial territory
    leaves them to the state. A named group's neighbourhood stays its own where the two meet
    (G9's base in lower Delmas is 1.8 km from Solino).

    Computed once per model build (`HaitiModel`), which passes it to `create` and
    `initial_territory`."""
    named = np.min([geo.distance_km(g.lon, g.lat) for g in NAMED_GANGS], axis=0)
    mask = np.zeros(geo.n_cells, dtype=bool)
    for lon, lat in STATE_HELD_PLACES:
        d = geo.distance_km(lon, lat)
        mask |= (d <= radius_km) & (d < named)
    return mask & geo.is_metro


class GangState(NamedTuple):
    """The numbers of every armed group, as arrays indexed by `Gang.index`.

    A record the compiled kernels take whole: the arrays are changed in place, never replaced.
    """

    members: np.ndarray
    firearms: np.ndarray
    cash_usd: np.ndarray
    alliance: np.ndarray  # coalition id the group was created with
    coalition: np.ndarray  # coalition id in force (`set_coalitions`): Viv Ansanm merges some
    home: np.ndarray  # stronghold cell: never given up without a fight
    posture: np.ndarray  # this week's offensive tempo (`plan`)
    # Per group, the control load its coalition holds over what the coalition's members can hold
    # (assessed each morning by `economy`).
    overstretch: np.ndarray


def set_coalitions(state: GangState, viv_ansanm: bool) -> None:
    """The coalitions in force: Viv Ansanm merges G9, G-Pep and its affiliates into one."""
    state.coalition[:] = np.where(state.alliance <= VA_AFFILIATE, G9, state.alliance) if (
        viv_ansanm) else state.alliance


class Rates(NamedTuple):
    """The gang economy's and posture's numbers per day, built from the parameters by `rates`
    (once, and again whenever a parameter changes), so the daily kernels do no arithmetic on
    parameters."""

    residents_per_member: float
    kidnappings_per_member: float
    kidnap_deterrence: float  # by brigades on full alert; 0 while there are none
    kidnap_frontier_reference: float  # frontier residents per member at which the rate holds
    kidnap_frontier_elasticity: float
    kidnap_presence_reference: float  # state personnel per resident at which the rate holds
    kidnap_presence_elasticity: float
    extortion_usd_per_resident: float
    checkpoint_usd_per_road_cell: float
    cargo_usd: float
    ransom_usd: float
    upkeep_usd_per_member: float
    cash_reserve_days: float  # of upkeep kept in hand; beyond it income is spent outside the fight
    firearm_loss_share: float
    firearms_supplied: float  # trafficked firearms reaching the market, after interdiction
    firearm_price_usd: float
    recruits_per_resident: float
    recruitment_displacement_boost: float
    remnant_share: float  # what a group draws from ground it claims, relative to holding it
    attrition_share: float
    unpaid_desertion_share: float
    arms_budget_share: float
    recruit_cash_days: float
    min_armed_share: float
    # weekly posture (`plan`)
    upkeep_usd_per_member_year: float
    full_posture_pay_months: float
    max_posture: float
    expand_margin: float
    raid_posture: float


def rates(p: dict[str, float]) -> Rates:
    """Yearly parameters as daily rates, and the products the kernels use (7.1-7.3 in the ODD)."""
    return Rates(
        residents_per_member=p["gang_residents_per_member"],
        kidnappings_per_member=p["kidnappings_per_member_per_year"] / 365,
        kidnap_deterrence=p["self_defence_kidnap_deterrence"] * combat.self_defence_active(p),
        kidnap_frontier_reference=p["kidnap_frontier_residents_per_member"],
        kidnap_frontier_elasticity=p["kidnap_frontier_elasticity"],
        kidnap_presence_reference=p["kidnap_presence_reference_per_1000"] / 1000,
        kidnap_presence_elasticity=p["kidnap_presence_elasticity"],
        extortion_usd_per_resident=p["extortion_usd_per_resident_per_year"] / 365,
        checkpoint_usd_per_road_cell=p["checkpoint_usd_per_day"],
        cargo_usd=p["cargo_extortion_usd_per_year"] / 365,
        ransom_usd=p["ransom_usd_per_kidnapping"],
        upkeep_usd_per_member=p["gang_upkeep_usd_per_member_per_year"] / 365,
        cash_reserve_days=p["gang_cash_reserve_months"] * 365 / 12,
        firearm_loss_share=p["firearm_loss_per_year"] / 365,
        firearms_supplied=p["arms_trafficked_per_year"] / 365 * (1 - p["arms_interdiction"]),
        firearm_price_usd=p["firearm_price_usd"],
        recruits_per_resident=p["gang_recruits_per_1000_residents_per_year"] / 1000 / 365,
        recruitment_displacement_boost=p["recruitment_displacement_boost"],
        remnant_share=p["gang_remnant_share"],
        attrition_share=p["gang_attrition_per_year"] / 365,
        unpaid_desertion_share=p["gang_unpaid_desertion_per_day"],
        arms_budget_share=p["gang_arms_budget_share"],
        recruit_cash_days=p["gang_recruit_cash_days"],
        min_armed_share=p["gang_min_armed_share"],
        upkeep_usd_per_member_year=p["gang_upkeep_usd_per_member_per_year"],
        full_posture_pay_months=p["gang_full_posture_pay_months"],
        max_posture=p["gang_max_posture"],
        expand_margin=p["gang_expand_margin"],
        raid_posture=p["gang_raid_posture"],
    )


class Gang(mesa.Agent):
    """One armed group: who it is and where its stronghold is.

    Its numbers are a view on `model.gang_state` at `index`, and its weekly decision (`plan`) is
    the same rule for every group, taken for all of them at once: as a Python method per agent it
    cost more than the rest of a simulated day.
    """

    def __init__(self, model: mesa.Model, index: int, name: str, home_cell: int):
        super().__init__(model)
        self.index = index
        self.name = name
        self.home_cell = home_cell


@kernel
def plan(state, rates) -> None:
    """Each group decides this week's posture: push when armed, paid and able to hold more ground.

    Posture scales the group's attack rate. It is the armed share, times a pay factor that
    reaches full strength with `gang_full_posture_pay_months` of upkeep in hand (half strength
    with none: gangs that cannot pay fighters attack less), up to `gang_max_posture`, times the
    room left under its coalition's holding capacity (full with `gang_expand_margin` of it spare,
    `gang_raid_posture` with none): a group does not push for ground it cannot keep, though it
    still raids.
    """
    raid = rates.raid_posture
    for g in range(len(state.members)):
        members = state.members[g]
        if members < 1:
            state.posture[g] = 0.0
            continue
        armed = min(1.0, state.firearms[g] / max(members, 1e-9))
        upkeep_month = members * rates.upkeep_usd_per_member_year / 12
        months = state.cash_usd[g] / upkeep_month if upkeep_month > 0 else 6.0
        expand = min(1.0, max(1 - state.overstretch[g], 0.0) / rates.expand_margin)
        state.posture[g] = min(rates.max_posture, armed * (
            0.5 + months / (2 * rates.full_posture_pay_months))) * (raid + (1 - raid) * expand)


def create(model, geo: Geography, p: dict[str, float], rng: np.random.Generator,
           kept: np.ndarray) -> GangState:
    """Create the armed groups at their bases with members, firearms and cash; return the state.

    `kept` is `state_held`'s mask: no generic group starts there."""
    n = int(p["gang_count"])
    total = p["gang_members_total"]
    named = np.array([g.members for g in NAMED_GANGS])
    named = named * min(1.0, p["named_gangs_max_share"] * total / named.sum())
    n_generic = n - len(NAMED_GANGS)
    generic_total = total - named.sum()

    named_homes = [geo.nearest_cell(g.lon, g.lat) for g in NAMED_GANGS]
    region_of_base, bases, alliance = _generic_bases(geo, n_generic, p, named_homes, kept, rng)
    sizes = rng.lognormal(0.0, p["generic_gang_size_spread"], n_generic)
    generic = generic_total * sizes / sizes.sum() if n_generic else np.zeros(0)

    members = np.concatenate([named, generic])
    alliance = np.concatenate([
        [g.alliance if g.alliance >= 0 else -1 for g in NAMED_GANGS], alliance]).astype(np.int32)
    independent = alliance < 0
    alliance[independent] = FIRST_INDEPENDENT + np.arange(independent.sum())
    homes = named_homes + list(bases)
    names = [g.name for g in NAMED_GANGS] + [f"{region} group {i + 1}"
                                             for i, region in enumerate(region_of_base)]
    for i, (name, home) in enumerate(zip(names, homes, strict=True)):
        Gang(model, i, name, int(home))
    firearms = members * p["gang_firearms_per_member"]
    cash = members * p["gang_upkeep_usd_per_member_per_year"] * (
        p["gang_initial_cash_months"] / 12)
    return GangState(members=members, firearms=firearms, cash_usd=cash, alliance=alliance,
                     coalition=alliance.copy(), home=np.array(homes, dtype=np.int32),
                     posture=np.ones_like(members), overstretch=np.zeros_like(members))


def _generic_bases(geo: Geography, n: int, p: dict[str, float], named_homes: list[int],
                   kept: np.ndarray, rng: np.random.Generator):
    """Each generic group's region, base cell and coalition.

    A metro group joins G9 or G-Pep (`GENERIC_METRO_G9_SHARE`) and settles among its
    coalition's named groups: a cell weighs its residents times exp(-d / `gang_base_spread_km`),
    d the distance to the nearest named group of that coalition, since the capital's smaller
    gangs are the bases of the coalitions' neighbourhoods (GI-TOC). No generic group starts in a
    neighbourhood the state held (`kept`, from `state_held`), on a named group's base or next to
    it (its own streets: a named group starts with room to grow). Outside the metro, groups
    settle along the national roads they tax (GI-TOC: checkpoints on RN1 and RN2 are a main
    income), so road cells weigh 1 + `gang_road_base_weight`. No two groups share a base while a
    free cell is left.
    """
    regions = list(GENERIC_REGION_WEIGHTS)
    weights = np.array(list(GENERIC_REGION_WEIGHTS.values()))
    picks = rng.choice(len(regions), size=n, p=weights / weights.sum())
    used = np.zeros(geo.n_cells, bool)
    for home in named_homes:
        used[home] = True
        used[geo.edge_dst[geo.edge_ptr[home]:geo.edge_ptr[home + 1]]] = True
    free = geo.is_metro & ~kept
    near = {}
    for a in (G9, GPEP):
        d = np.min([geo.distance_km(g.lon, g.lat) for g in NAMED_GANGS if g.alliance == a],
                   axis=0)
        near[a] = np.where(free, geo.population * np.exp(-d / p["gang_base_spread_km"]), 0.0)
    on_road = 1.0 + p["gang_road_base_weight"] * (geo.road_mask > 0)
    bases, labels, alliance = [], [], []
    for k in picks:
        region = regions[k]
        if region == "metro":
            a = G9 if rng.random() < GENERIC_METRO_G9_SHARE else GPEP
            weight = near[a]
        else:
            a = -1
            mask = (geo.department == geo.department_index(region)) & ~geo.is_metro
            weight = np.where(mask, geo.population * on_road, 0.0)
        w = np.where(used, 0.0, weight)
        if w.sum() <= 0:  # every populated cell already has a base: allow sharing
            w = weight
        cell = int(rng.choice(geo.n_cells, p=w / w.sum()))
        used[cell] = True
        bases.append(cell)
        labels.append(region)
        alliance.append(a)
    return labels, bases, alliance


def hold_weights(is_metro: np.ndarray, road_cells: np.ndarray,
                 p: dict[str, float]) -> np.ndarray:
    """What holding a resident of each cell takes, in metro residents.

    Outside the metro a resident weighs `gang_residents_per_member` over
    `gang_rural_residents_per_member`, since the same people are spread over more ground, and
    `gang_road_hold_share` of that on a national road's cells there, held by checkpoints on the
    road rather than street by street. It follows the parameters, so the model keeps it in
    `World.hold_weight` (`HaitiModel.derive`).
    """
    rural = p["gang_residents_per_member"] / p["gang_rural_residents_per_member"]
    on_road = np.zeros(len(is_metro), dtype=bool)
    on_road[road_cells] = True
    return np.where(is_metro, 1.0, np.where(on_road, rural * p["gang_road_hold_share"], rural))


def take_in_freed(state: GangState, is_metro: np.ndarray, joiners: float) -> None:
    """`joiners` inmates freed by gangs join the groups based in the metro, in proportion to
    their members.

    The prisons gangs stormed (the National Penitentiary and Croix-des-Bouquets, Mar 2024) are
    in the metro, and its groups stormed them. The joiners come without firearms and with no
    cash: a group must pay and arm them from its income, and the ones it cannot pay drift away
    (`economy`).
    """
    based = np.where(is_metro[state.home], state.members, 0.0)
    if joiners > 0 and based.sum() > 0:
        state.members[:] += joiners * based / based.sum()


def initial_territory(geo: Geography, gangs: list[Gang], members: np.ndarray,
                      p: dict[str, float], kept: np.ndarray) -> np.ndarray:
    """Grow each group's territory from its base until the capital is held at the observed share.

    A weighted Voronoi growth over the cell graph: a group's claims cost 1/sqrt(members) a step, so
    larger groups reach further; each holds its stronghold and then claims no cell that would take
    it past its capacity (members x residents per member); growth into the capital stops once
    `initial_capital_gang_share` of its cells are held. The neighbourhoods the state held in early
    2023 (`kept`, from `state_held`) stay the state's.
    """
    owner = np.full(geo.n_cells, -1, dtype=np.int32)
    capacity = p["gang_initial_fill"] * members * p["gang_residents_per_member"]
    load = geo.population * hold_weights(geo.is_metro, np.flatnonzero(geo.road_mask > 0), p)
    held = np.zeros(len(gangs))
    capital_target = int(round(p["initial_capital_gang_share"] * geo.is_capital.sum()))
    capital_held = 0
    ptr = np.searchsorted(geo.edge_src, np.arange(geo.n_cells + 1))
    heap = [(0.0, g.home_cell, g.index) for g in gangs if members[g.index] > 0]
    heapq.heapify(heap)
    while heap:
        cost, cell, g = heapq.heappop(heap)
        if owner[cell] >= 0 or kept[cell] or (held[g] > 0 and held[g] + load[cell] > capacity[g]):
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


@kernel
def economy(gangs, cells, world, rates, seed, day, garrison) -> float:
    """One day of income, upkeep, arms purchases, recruitment and attrition; returns kidnappings.

    Income comes from what a group controls (residents, road cells, the cargo corridor) and from
    kidnapping; upkeep is paid per member; groups that run out of cash lose members; a group keeps
    at most `gang_cash_reserve_months` of upkeep in hand, and spends the rest outside the fight
    (so income beyond its needs buys nothing, and a cut in income bites within months); firearms are
    bought from the day's trafficked supply after interdiction, shared in proportion to what each
    group wants and can pay for; recruitment is faster where people are displaced and stops when a
    group cannot pay or arm its recruits (so interdiction slows growth). Ground a group lost to
    the state but still claims (`cells.claimant`) keeps `gang_remnant_share` of its worth to the
    group: its remnants there still extort and recruit among the residents and the displaced, so
    a group cleared out of its ground is weakened, not erased. Kidnappers leave their ground to
    take victims in the state-held neighbourhoods along its frontier, and allies let each
    other's kidnappers through: a coalition's pool is the residents of the state-held cells next
    to its ground, edge by edge (a cell it borders on several sides weighs as many times: more
    of its frontier runs there). A group's kidnappings are `kidnappings_per_member_per_year` per
    member times (its coalition's pool per member / `kidnap_frontier_residents_per_member`) to
    the power `kidnap_frontier_elasticity`: where flight has emptied the frontier, or the
    state's ground has shrunk, fewer people worth taking are within reach (at 0 only whether
    anyone is). A coalition with no state-held neighbour, or a group of under one member,
    kidnaps no one. Self-defence brigades on alert stop kidnappers: a group's kidnappings fall
    by `self_defence_kidnap_deterrence` times its vigilance, the alarm (`combat.self_defence`)
    of its coalition's pool, weighted as the pool is. CARDH recorded almost no kidnapping in the
    month after Bwa Kale began (24 Apr 2023). The state's presence deters them too: each pool cell's
    residents weigh (s_ref / s_c) ** `kidnap_presence_elasticity`, s_c being today's garrison
    (police, soldiers, troops holding ground) per resident of the cell, s_ref
    `kidnap_presence_reference_per_1000`, and s_c no lower than a tenth of s_ref (an empty post does
    not draw unbounded kidnappings), so a police surge or troops holding retaken ground make the
    frontier's people harder to take, as police numbers deter violent crime elsewhere. It also
    assesses this morning's overstretch: the load a coalition holds (residents times
    `World.hold_weight`) over what its members can hold. Allies share the burden of holding ground,
    so capacity is pooled within a coalition (an independent group is a coalition of one).

    `gangs` is a `GangState`, `cells` a `CellState`, `world` a `geography.World`, `rates` the
    `Rates` of this module, `garrison` today's `combat.Deployment.garrison`; kidnappings are
    drawn for each group from its own generator of the day (`jit.KIDNAPPINGS`).
    """
    members, firearms, cash, overstretch = (gangs.members, gangs.firearms, gangs.cash_usd,
                                            gangs.overstretch)
    coalition, owner, residents, displaced = (gangs.coalition, cells.owner, cells.residents,
                                              cells.displaced_from)
    road_cells, cargo_cells = world.road_cells, world.cargo_cells
    residents_per_member, upkeep = rates.residents_per_member, rates.upkeep_usd_per_member
    weight = world.hold_weight
    n, n_coalitions = len(members), coalition.max() + 1
    residents_held, displaced_held = np.zeros(n), np.zeros(n)
    load_held, allied_members = np.zeros(n_coalitions), np.zeros(n_coalitions)
    remnant, claimant = rates.remnant_share, cells.claimant
    for c in range(len(owner)):
        g = owner[c]
        if g < 0 and claimant[c] >= 0:
            residents_held[claimant[c]] += remnant * residents[c]
            displaced_held[claimant[c]] += remnant * displaced[c]
        if g >= 0:
            residents_held[g] += residents[c]
            displaced_held[g] += displaced[c]
            load_held[coalition[g]] += residents[c] * weight[c]
    for g in range(n):
        allied_members[coalition[g]] += members[g]
    capacity = allied_members * residents_per_member
    for g in range(n):
        a = coalition[g]
        if capacity[a] > 0:
            overstretch[g] = load_held[a] / capacity[a]
        else:
            overstretch[g] = np.inf if load_held[a] > 0 else 0.0
    roads_held, cargo_share = np.zeros(n), np.zeros(n)
    for c in road_cells:
        if owner[c] >= 0:
            roads_held[owner[c]] += 1
    for c in cargo_cells:
        if owner[c] >= 0:
            cargo_share[owner[c]] += 1 / len(cargo_cells)

    # each coalition's pool of victims along its frontier with the state (allies' kidnappers
    # cross each other's ground), its vigilance from yesterday's alarm, and the state's presence
    pool, alert, exposed = (np.zeros(n_coalitions), np.zeros(n_coalitions),
                            np.zeros(n_coalitions))
    s_ref, eta = rates.kidnap_presence_reference, rates.kidnap_presence_elasticity
    for c in range(len(owner)):
        if owner[c] < 0 and cells.border[c] > 0 and residents[c] > 0:
            deterred = 1.0
            if eta > 0:
                presence = max(garrison[c] / residents[c], 0.1 * s_ref)
                deterred = (s_ref / presence) ** eta
            for e in range(world.edge_ptr[c], world.edge_ptr[c + 1]):
                g = owner[world.edge_dst[e]]
                if g >= 0:
                    pool[coalition[g]] += residents[c]
                    alert[coalition[g]] += residents[c] * cells.alarm[c]
                    exposed[coalition[g]] += residents[c] * deterred
    kidnappings = 0.0
    want = np.zeros(n)
    rng, key = np.empty(4, np.uint64), jit.day_key(seed, jit.KIDNAPPINGS, day)
    for g in range(n):
        jit.reseed(rng, key, g)
        a = coalition[g]
        kidnapped = 0.0
        if members[g] >= 1 and pool[a] > 0:  # nobody within reach, or no group left
            reach = (pool[a] / (allied_members[a] * rates.kidnap_frontier_reference)
                     ) ** rates.kidnap_frontier_elasticity
            kidnapped = poisson(rng, members[g] * rates.kidnappings_per_member * reach
                                * (1.0 - rates.kidnap_deterrence * alert[a] / pool[a])
                                * exposed[a] / pool[a])
        kidnappings += kidnapped
        cash[g] += (residents_held[g] * rates.extortion_usd_per_resident
                    + roads_held[g] * rates.checkpoint_usd_per_road_cell
                    + cargo_share[g] * rates.cargo_usd + kidnapped * rates.ransom_usd
                    - members[g] * upkeep)
        if cash[g] < 0:  # unpaid members drift away until the group is solvent
            members[g] *= 1 - rates.unpaid_desertion_share
            cash[g] = 0.0
        # money beyond the reserve leaves the fight (protection, leaders, abroad)
        cash[g] = min(cash[g], rates.cash_reserve_days * upkeep * members[g])
        firearms[g] *= 1 - rates.firearm_loss_share
        want[g] = min(max(members[g] - firearms[g], 0.0),
                      rates.arms_budget_share * cash[g] / rates.firearm_price_usd)
    total_want = want.sum()
    bought_share = min(1.0, rates.firearms_supplied / total_want) if total_want > 0 else 1.0
    for g in range(n):
        bought = want[g] * bought_share
        firearms[g] += bought
        cash[g] -= bought * rates.firearm_price_usd
        # Recruits come from the people a group controls (not from its members: growth is bounded
        # by territory, not exponential), faster where many of them are displaced.
        people = residents_held[g] + displaced_held[g]
        displaced_share = displaced_held[g] / people if people > 0 else 0.0
        recruits = residents_held[g] * rates.recruits_per_resident * (
            1 + rates.recruitment_displacement_boost * displaced_share)
        # A recruit must be paid (`recruit_days` of upkeep in hand) and armed: a group grows
        # only while it can arm all but a few of its members.
        if cash[g] > rates.recruit_cash_days * upkeep * (members[g] + recruits):
            members[g] += min(recruits, max(firearms[g] / rates.min_armed_share - members[g], 0.0))
        members[g] *= 1 - rates.attrition_share
    return kidnappings
