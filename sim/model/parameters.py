"""Every model parameter, declared once: name, unit, range, default and where its default is from.

This table is the single source of truth. The scenario schema (validation of YAML files), the
command line (`haiti-sim params`, `--set NAME=VALUE`) and the app's sliders are all derived from it,
so a parameter added here appears everywhere and a range changed here is enforced everywhere.

A default either cites a source (the row of the observed data it was read from, in
sim/data/observed/) or begins with "assumption:" and says why that value was chosen; docs/odd.md
renders the same table (see `sim.model.parameters.markdown_table`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from types import MappingProxyType

from sim.model.calibrated import POSTERIOR

# Mandates of the international mission, in the order the `mission_mandate` parameter indexes them.
MANDATES = ("support", "suppression", "un_peacekeeping")

DONORS = ("us", "canada", "haiti", "un_assessed", "others")


# What a parameter is for, which decides when an override takes effect and who may vary it:
# a lever is a policy choice (in a policy scenario it takes effect at the branch date); an
# uncertainty is a behavioural quantity not known precisely (it shapes the whole run, history
# included, and samplers and calibration draw it from its plausible range); an initial value sets
# the starting state (read once, when the world is built); a constant is a known input or a
# reference value that only events change (the record's alliances) or nobody varies.
LEVER, UNCERTAINTY, INITIAL, CONSTANT = ROLES = ("lever", "uncertainty", "initial", "constant")
PRIORS = ("uniform", "log-uniform")


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    `low`..`high` is the validity range: what the model accepts at all. `plausible` is narrower:
    the range an uncertainty (or an uncertain starting value) is believed to lie in, with `why`
    giving the source or reasoning; samplers and calibration draw from it with `prior`. `choices`
    names the values of a categorical parameter (an index).
    """

    name: str
    default: float
    low: float
    high: float
    unit: str
    group: str
    doc: str
    source: str
    role: str = UNCERTAINTY
    integer: bool = False
    choices: tuple[str, ...] = ()
    plausible: tuple[float, float] | None = None
    why: str = ""
    prior: str = "uniform"
    featured: bool = False  # a lever the app shows open: the ones policies move most

    def __post_init__(self):
        if self.role not in ROLES or self.prior not in PRIORS:
            raise ValueError(f"{self.name}: role {self.role!r} or prior {self.prior!r} unknown")
        if self.featured and self.role != LEVER:
            raise ValueError(f"{self.name}: only a lever can be featured")
        if self.role == UNCERTAINTY and self.plausible is None:
            raise ValueError(f"{self.name}: an uncertainty needs a plausible range")
        if self.plausible is not None:
            lo, hi = self.plausible
            if not (self.low <= lo < hi <= self.high and lo <= self.default <= hi and self.why):
                raise ValueError(f"{self.name}: plausible range {self.plausible} must lie within "
                                 f"{self.low:g}..{self.high:g}, hold the default, and say why")
            if self.prior == "log-uniform" and lo <= 0:
                raise ValueError(f"{self.name}: a log-uniform prior needs a positive range")

    @property
    def lever(self) -> bool:
        return self.role == LEVER

    @property
    def initial(self) -> bool:
        """Read once, to build the starting state: cannot change during a run."""
        return self.role == INITIAL

    @property
    def uncertain(self) -> bool:
        """Has a plausible range to sample from: uncertainties and uncertain starting values."""
        return self.plausible is not None

    @property
    def is_assumption(self) -> bool:
        return self.source.startswith("assumption")

    @property
    def calibrated(self) -> bool:
        """The default is the posterior median of the shipped calibration."""
        return self.source.startswith("calibrated")


def _p(*args, **kwargs) -> Param:
    return Param(*args, **kwargs)


_DECLARED: tuple[Param, ...] = (
    # ---------------------------------------------------------------- gangs
    _p("gang_count", 150, 14, 400, "armed groups", "gangs",
       "Armed groups simulated: the named gangs of gangs.csv plus generic groups up to this count.",
       "AP Jan 2023 and UN PoE S/2023/674 count ~200, including groups too small to hold "
       "ground; 150 are simulated (assumption: the smallest ~50 are left out)",
       integer=True, role="initial"),
    _p("gang_members_total", 5500, 500, 30000, "armed members", "gangs",
       "Armed gang members nationwide at the start of the run.",
       "assumption: tuned within the reported range: ~3,000 armed men c.2020 (SNDDR), ~5,500 "
       "late 2024 (Sitadel, of low reliability)",
       role="initial", plausible=(3500, 9000),
       why="reports for 2020-2024 span ~3,000 (SNDDR) to ~5,500 (Sitadel); early 2023 lies "
           "between, with wide error"),
    _p("gang_firearms_per_member", 0.9, 0.1, 3.0, "firearms per member", "gangs",
       "Firearms held per gang member at the start.",
       "assumption: nearly every member armed; 270,000-500,000 illicit firearms in the country "
       "(UN HC Turk, HRC58) make arms, not guns-in-country, the bottleneck for gangs",
       role="initial", plausible=(0.6, 1),
       why="most members armed, some with machetes only; above 1 a group would hold spare guns"),
    _p("gang_residents_per_member", 500, 50, 5000, "residents per member", "gangs",
       "Residents one gang member can keep under control; beyond it a gang is overstretched.",
       "assumption: the ~2 M (UN, Jun 2023) and ~2.7 M (UNICEF to the UNSC, Apr 2024) people "
       "living under gang control nationwide (territorial_control.csv), of whom ~1.5-2 M in the "
       "metro (an assumed split), over the ~2,800-7,200 members based there (~80% of "
       "gang_members_total's range: the named groups and 3/4 of the generic ones); the same "
       "two figures are calibration targets, so the prior sets only the order",
       plausible=(250, 1200),
       why="1.5-2 M people over 2,800-7,200 metro members gives 210-710; widened to 1,200 for "
           "members who hold without fighting", prior="log-uniform"),
    _p("gang_rural_residents_per_member", 150, 10, 5000, "residents per member", "gangs",
       "Residents one member can keep under control outside the metro, where people are spread "
       "over more ground.",
       "assumption: BINUH counts >=20 armed groups controlling RN1 and the settlements along "
       "~80 km of Lower Artibonite (Nov 2023), a few hundred thousand people; ~1,000-1,500 "
       "members is assumed (BINUH gives no count); the road's own cells count less "
       "(gang_road_hold_share)",
       plausible=(75, 300),
       why="a few hundred thousand people along RN1 over ~1,000-1,500 members (assumed)",
       prior="log-uniform"),
    _p("gang_road_hold_share", 0.3, 0.01, 1, "share", "gangs",
       "Share of what holding a rural cell's residents takes that a national road's cell needs: "
       "a road is held by checkpoints on it, not household by household.",
       "assumption: BINUH (Nov 2023) finds at least 20 groups holding RN1 and the main "
       "settlements along ~80 km of Lower Artibonite; a checkpoint is a handful of armed men "
       "taxing all the traffic",
       plausible=(0.1, 1), why="from a road held by a tenth of the fighters its residents "
                               "would need to as many", prior="log-uniform"),
    _p("extortion_usd_per_resident_per_year", 25, 0, 200, "USD/resident/year", "gangs",
       "Extortion revenue per resident under a gang's control.",
       "derived: Viv Ansanm extortion $60-75 M/yr (Crisis Group Dec 2025) over ~2.5-3 M residents",
       plausible=(15, 35),
       why="$60-75 M/yr over 2.5-3 M residents gives 20-30; widened by a quarter"),
    _p("checkpoint_usd_per_day", 300, 0, 8000, "USD/day per road cell", "gangs",
       "Toll revenue per gang-held cell on a national road.",
       "assumption: a quarter of GI-TOC's 'up to $8,000 per day per checkpoint' (Feb 2024), since "
       "most checkpoints take less than the maximum",
       plausible=(100, 2000),
       why="up to $8,000 a day at the richest checkpoints (GI-TOC); most take far less",
       prior="log-uniform"),
    _p("cargo_extortion_usd_per_year", 60e6, 0, 200e6, "USD/year", "gangs",
       "Extortion of cargo at the sea port and on RN8 to Malpasse, shared by the gangs holding "
       "them.",
       "Finance Minister Metellus, May 2025: $60-100 M/yr cross-border cargo extortion (low end)",
       plausible=(3e+07, 1e+08),
       why="the Finance Minister's $60-100 M (2025), lower in 2023 before RN8 was fully taken"),
    _p("kidnappings_per_member_per_year", 0.4, 0, 5, "kidnappings/member/year", "gangs",
       "Kidnappings carried out per gang member.",
       "derived: 2,490 kidnapping victims in 2023 (S/2024/62) over ~6,000 members",
       plausible=(0.2, 0.7), why="2,490 victims in 2023 over the 3,500-9,000 plausible members"),
    _p("kidnap_frontier_elasticity", 0.5, 0, 1, "elasticity", "gangs",
       "How a group's kidnappings follow its coalition's pool of victims: the residents of the "
       "state-held cells along the coalition's frontier, per member, relative to "
       "`kidnap_frontier_residents_per_member` (0: only whether anyone is within reach matters; "
       "1: kidnappings in proportion to the pool).",
       "assumption: kidnappers take victims in the neighbourhoods bordering their ground (BINUH: "
       "'no social category was spared', Q4 2023); the pool leaves out road traffic, where BINUH "
       "places most victims of 2023-24 (Artibonite's public transport)",
       plausible=(0, 1), why="from kidnappers who reach victims anywhere to a fixed risk for "
                              "each resident within their reach"),
    _p("kidnap_frontier_residents_per_member", 555, 1, 10000, "residents/member", "gangs",
       "Frontier residents per member at which a group kidnaps at "
       "`kidnappings_per_member_per_year`.",
       "reference value: the model's own residents of state-held frontier cells per gang member "
       "at the start of the record (1 Jan 2023: mean 555 over 16 seeds at the medians of "
       "session 12's first refit, 466-622), so that near the start of the record the yearly rate "
       "keeps the meaning it was derived with (victims of 2023 over members)",
       role="constant"),
    _p("kidnap_presence_elasticity", 0.35, 0, 2, "elasticity", "gangs",
       "How kidnappings fall with the state's presence where the victims live: each pool cell's "
       "residents weigh (reference presence / the cell's garrison per resident) to this power "
       "(0: garrisons deter no one).",
       "Chalfin & McCrary (2018, REStat): elasticity of violent crime to police numbers -0.35 "
       "in US cities (murder -0.67); Evans & Owens (2007) -0.99 for violent crime; Draca, "
       "Machin & Witt (2011) -0.3",
       plausible=(0, 1),
       why="from police outgunned and deterring no one to Evans & Owens' -0.99 for violent "
           "crime in US cities; kidnapping is violent crime, but Haiti's police are outgunned"),
    _p("kidnap_presence_reference_per_1000", 0.78, 0.01, 100, "personnel/1,000 residents",
       "gangs",
       "Garrison per 1,000 residents of a frontier cell at which its residents count fully in "
       "the kidnappers' pool (below a tenth of it the weight stops rising).",
       "reference value: the model's own garrison per 1,000 residents of the state-held frontier "
       "cells at the start of the record (1 Jan 2023: geometric mean over the pool's residents, "
       "median 0.78 over 16 seeds at session 12's posterior medians, 0.65-0.86): the metro's "
       "frontier at ~2-3, the provinces' at ~0.2, so the pool's mean weight starts at 1.12 at "
       "an elasticity of 0.35 (2.0 at 1), which `kidnappings_per_member_per_year` absorbs in "
       "the calibration",
       role="constant"),
    _p("ransom_usd_per_kidnapping", 10000, 0, 100000, "USD", "gangs",
       "Average ransom collected per kidnapping.",
       "derived: ~$25 M/yr kidnapping revenue (GI-TOC Feb 2024) over ~2,500 victims a year",
       plausible=(5000, 20000),
       why="GI-TOC's ~$25 M a year over 1,500-2,500 victims, and ransoms reported from hundreds "
           "to $1 M", prior="log-uniform"),
    _p("gang_upkeep_usd_per_member_per_year", 3000, 0, 20000, "USD/member/year", "gangs",
       "What a gang pays per member (wages, food, ammunition).",
       "assumption: ~$250 a month, several times the minimum wage, which is what lets gangs "
       "recruit among the poor and displaced",
       plausible=(1500, 6000), why="half to twice the assumed $250 a month", prior="log-uniform"),
    _p("gang_recruits_per_1000_residents_per_year", 0.9, 0, 20, "recruits/1,000 residents/year",
       "gangs",
       "Recruits a gang takes in each year per 1,000 residents it controls, when it can pay and "
       "arm them.",
       "assumption: tuned; recruitment must make up for the ~2,000-3,000 members killed a year "
       "in 2023-24 (BINUH's counts) for the groups to grow as the record shows them growing; "
       "UNICEF reports child recruitment +70% Q2 2023 to Q2 2024",
       plausible=(0.3, 2),
       why="tuned value; a third to twice it spans shrinking groups to groups that double "
           "within three years",
       prior="log-uniform"),
    _p("gang_remnant_share", 0.25, 0, 1, "share", "gangs",
       "What a gang still draws (extortion, recruits) from ground the state cleared it from "
       "but it still claims, relative to holding that ground.",
       "assumption: members melt into the neighbourhood and keep networks of informants and "
       "extortion; the gangs MINUSTAH broke up in Cite Soleil in 2007 regrew there after its "
       "2017 exit",
       plausible=(0.05, 0.5), why="from a clean break to half the grip of open control",
       prior="log-uniform"),
    _p("recruitment_displacement_boost", 2.0, 0, 10, "multiplier per displaced share", "gangs",
       "How much faster gangs recruit where the population is displaced (x(1 + boost*share)).",
       "assumption: displaced youths without income are the main recruitment pool (UNICEF)",
       plausible=(0, 4), why="no effect to twice the assumed one"),
    _p("gang_attrition_per_year", 0.05, 0, 0.5, "share/year", "gangs",
       "Members leaving a gang each year other than by death (desertion, arrest).",
       "assumption: low; DDR and arrests were marginal in 2023-25",
       plausible=(0.02, 0.15), why="DDR and arrests were marginal in 2023-25; desertion unknown"),
    _p("gang_attack_rate", 1.8, 0, 20, "attacks/day per 1,000 members", "gangs",
       "Offensive tempo: attacks a gang launches per day per 1,000 members at full posture.",
       "assumption: tuned so control of the capital moves from 60% to ~80% during 2023 "
       "(UN via AP Jan 2023; UN PoE S/2023/674)",
       plausible=(0.9, 3.6), why="half to twice the tuned value", prior="log-uniform"),
    _p("gang_concentration", 0.17, 0.005, 0.5, "share of members", "gangs",
       "Share of a gang's members it can bring to one engagement, attacking or defending.",
       "assumption: tuned; gangs mass a few dozen to a few hundred fighters for an assault "
       "(OHCHR accounts of the 2024 Viv Ansanm offensive)",
       plausible=(0.08, 0.35),
       why="assaults of a few dozen to a few hundred fighters from groups of 100-1,000",
       prior="log-uniform"),
    _p("ally_support_share", 0.22, 0, 1, "share", "gangs",
       "Share of its allies' engaged fighters that join a group's attack.",
       "assumption: tuned; coalitions coordinate offensives (joint Viv Ansanm offensive from "
       "29 Feb 2024, GI-TOC; AP)",
       plausible=(0.1, 0.5),
       why="coalitions coordinate offensives but most allies defend their own ground"),
    _p("viv_ansanm_alliance", 0, 0, 1, "0 = rivals, 1 = allied", "gangs",
       "Whether the G9 and G-Pep coalitions are allied (Viv Ansanm) and stop fighting each other.",
       "Viv Ansanm announced 22 Sep 2023, joint offensive from 29 Feb 2024 (GI-TOC; AP)",
       integer=True, role="constant"),
    _p("inmates_freed", 0, 0, 50000, "inmates since the start", "gangs",
       "Inmates freed by gangs storming prisons, counted from the start of the run: an event "
       "that raises it frees the difference, and freed_inmates_joining_share of them join the "
       "metro's groups (a scenario's starting count frees them on the first day).",
       "4,733 on 2 Mar 2024: 3,700 of the National Penitentiary's 3,798 and 1,033 at "
       "Croix-des-Bouquets (Office of Citizen Protection; gang_economy_and_arms.csv)",
       integer=True, role="constant"),
    _p("freed_inmates_joining_share", 0.25, 0, 1, "share of the freed", "gangs",
       "Share of the inmates gangs free who join the metro's groups (unarmed, to be paid).",
       "assumption: the freed included gang leaders and members held for kidnapping and murder, "
       "most of the rest pre-trial detainees from the capital's poor neighbourhoods; no count of "
       "how many joined was found",
       plausible=(0.05, 0.5), why="from a few hardened members to half of the freed going back "
       "to the groups that freed them; police said some escapees of 2024 'opted to join the "
       "gangs' without a number, and few escapees are ever taken back (context, not a joining "
       "share: 36 of ~5,100 of 2010 by 30 Jan 2010, UN; 60 of 400 at Croix-des-Bouquets in "
       "2021, AFP)"),
    _p("gang_unarmed_member_power", 0.2, 0, 1, "relative to an armed member", "gangs",
       "Combat power of a member without a firearm.",
       "assumption: machetes, lookouts and messengers count for little in a firefight",
       plausible=(0.1, 0.4), why="a tenth to well under half an armed fighter"),
    _p("gang_max_posture", 1.5, 1, 5, "multiplier", "gangs",
       "Highest posture (multiple of the attack rate) of a well-armed group flush with cash.",
       "assumption: a group with guns and a year of pay in hand attacks half again as often",
       plausible=(1.2, 2.0), why="a fifth more to twice the usual tempo"),
    _p("gang_full_posture_pay_months", 6, 0.5, 24, "months of upkeep", "gangs",
       "Months of upkeep in hand at which a fully armed group attacks at its full rate "
       "(with none it attacks at half the rate).",
       "assumption: fighters expect pay; half a year of reserves makes a group confident",
       plausible=(3, 12), why="a season to a year of reserves"),
    _p("gang_expand_margin", 0.2, 0.01, 1, "share of holding capacity", "gangs",
       "Spare holding capacity at which a group pushes for new ground at full posture; below it "
       "it pushes less, down to raids when it has none.",
       "assumption: a group keeps a fifth of its strength in reserve before taking more ground",
       plausible=(0.1, 0.4), why="a tenth to two fifths of its capacity"),
    _p("gang_raid_posture", 0.25, 0, 1, "share of tempo", "gangs",
       "Share of its attack rate a group keeps when it has no room to hold more ground (raids).",
       "assumption: overstretched groups still raid for loot and kidnapping",
       plausible=(0.1, 0.5), why="a tenth to half the tempo"),
    _p("gang_min_armed_share", 0.8, 0.1, 1, "share of members", "gangs",
       "A group recruits only while it can arm this share of its members.",
       "assumption: recruits are given a gun; groups keep few unarmed members",
       plausible=(0.6, 0.95), why="most members armed, some lookouts unarmed"),
    _p("gang_unpaid_desertion_per_day", 0.01, 0, 0.2, "share/day", "gangs",
       "Share of members who leave each day a group cannot pay them.",
       "assumption: unpaid fighters drift away over weeks, not at once",
       plausible=(0.003, 0.03), why="a month to a year for an unpaid group to dissolve",
       prior="log-uniform"),
    _p("gang_arms_budget_share", 0.5, 0.05, 1, "share of cash", "gangs",
       "Most of its cash a group spends on firearms in a day, when it needs them.",
       "assumption: arms compete with pay, which comes first",
       plausible=(0.25, 0.75), why="a quarter to three quarters of cash in hand"),
    _p("gang_recruit_cash_days", 90, 0, 365, "days of upkeep", "gangs",
       "Days of upkeep for all members and recruits a group must hold before it recruits.",
       "assumption: a group recruits only with a season's pay in hand",
       plausible=(30, 180), why="one to six months of pay"),
    _p("gang_cash_reserve_months", 6, 0.5, 36, "months of upkeep", "gangs",
       "Cash a group keeps in hand, in months of its upkeep; income beyond it is spent outside "
       "the fight (protection and bribes, leaders' consumption, money sent abroad).",
       "assumption: Crisis Group puts Viv Ansanm's extortion at $60-75 M a year "
       "(gang_economy_and_arms.csv), not a hoard of hundreds of millions; leaders' property "
       "abroad and payments to patrons are reported by the UN Panel of Experts (S/2023/674)",
       plausible=(2, 12), why="from a season's to a year's pay in hand", prior="log-uniform"),
    _p("gang_ammo_usd_per_fighter_engagement", 20, 0, 1000, "USD/fighter/engagement", "gangs",
       "Ammunition a group spends for each of its fighters in an engagement.",
       "assumption: a few dozen rounds at $1-3 each on the Haitian black market (a 5.56 mm round "
       "sells for several times its US price; UNODC Mar 2023 reports guns at up to 20x)",
       plausible=(5, 80), why="from a magazine to several at black-market prices",
       prior="log-uniform"),
    _p("gang_initial_cash_months", 3, 0, 24, "months of upkeep", "gangs",
       "Cash each group holds at the start, in months of upkeep.",
       "assumption: a season's reserves", role="initial",
       plausible=(1, 6), why="one to six months of pay"),
    _p("gang_initial_fill", 1.0, 0.2, 2, "share of holding capacity", "gangs",
       "How much of its holding capacity each group holds when the run starts (before the "
       "capital's observed share stops growth there).",
       "assumption: gangs start at capacity and grow by recruiting and as people flee",
       role="initial", plausible=(0.7, 1.3), why="within a third of capacity"),
    _p("generic_gang_size_spread", 0.6, 0, 2, "lognormal sigma", "gangs",
       "Spread of the sizes of generic groups around their mean (a lognormal).",
       "CNDDR 2019: groups of 10-15 to 60-80 members; sigma 0.6 puts most within that spread",
       role="initial"),
    _p("named_gangs_max_share", 0.67, 0.1, 1, "share of members", "gangs",
       "Largest share of all members that the named groups of gangs.csv take, so that generic "
       "groups keep some members when the total is small.",
       "assumption: the named coalitions are most but not all of the armed members",
       role="initial"),
    _p("gang_base_spread_km", 3.0, 0.5, 20, "km", "gangs",
       "How far from its coalition's named groups a generic metro group may be based: a cell's "
       "weight as a base falls as exp(-distance / this).",
       "assumption: the capital's smaller gangs are the G9 and G-Pep coalitions' bases in the "
       "same neighbourhoods (GI-TOC, gangs.csv); the named groups' bases span ~20 km of the metro",
       role="initial", plausible=(1.5, 6),
       why="from a cluster a neighbourhood wide (~1.5 km) to nearly even over the metro (~6 km)",
       prior="log-uniform"),
    _p("initial_state_held_radius_km", 2.0, 0, 5, "km", "gangs",
       "Radius around each neighbourhood the state held in early 2023 (state_held_2023.csv: "
       "Pétion-Ville, Canapé-Vert, Turgeau, Solino, the airport) that starts in the state's hands.",
       "assumption: 2 km around the five places (short of any named group's base) covers 47 of "
       "the capital's 265 cells (18%), near the ~20% of its area the UN Panel of Experts "
       "(S/2023/674) and Prensa Latina (Apr 2024) say the gangs did not control",
       role="initial", plausible=(1, 2.5),
       why="1 km keeps only the places themselves (14 cells); 2.5 km covers 57 cells (22% of "
           "the capital)"),
    _p("gang_road_base_weight", 4.0, 0, 20, "extra weight", "gangs",
       "Outside the metro, how much more likely a national-road cell is as a group's base "
       "(weight 1 + this).",
       "assumption: groups settle along the roads they tax (GI-TOC: checkpoints on RN1 and RN2 "
       "are a main income)", role="initial"),
    # ------------------------------------------------------------ arms
    _p("arms_trafficked_per_year", 4000, 0, 50000, "firearms/year", "arms",
       "Firearms (and the ammunition that goes with them) trafficked towards Haiti's gangs each "
       "year before interdiction.",
       "assumption: UNODC (Oct 2023) documents four major routes mainly from Florida but no "
       "volume; chosen so that supply roughly meets gangs' demand (losses plus growth), which "
       "makes interdiction bite",
       plausible=(2000, 10000),
       why="no volume is documented (UNODC); from what gangs' losses and growth need to several "
           "times it", prior="log-uniform"),
    _p("firearm_loss_per_year", 0.17, 0, 1, "share of arsenal/year", "arms",
       "Share of a gang's firearms lost each year to seizures, breakage and spent ammunition.",
       "assumption: weapons seizures by the PNH and customs are reported every month (UNODC "
       "para-9 reports); a gun without ammunition is lost to a gang",
       plausible=(0.08, 0.3),
       why="seizures, breakage and ammunition shortage: unknown, a tenth to a third of the "
           "arsenal"),
    _p("arms_interdiction", 0.1, 0, 0.95, "share seized", "arms",
       "Share of trafficked firearms seized before they reach gangs.",
       "assumption: seizures reported in 2023-24 are a small fraction of the flow (UNODC)",
       role="lever", featured=True),
    _p("firearm_price_usd", 4000, 100, 20000, "USD", "arms",
       "Price a gang pays per firearm in Haiti.",
       "UNODC Mar 2023: a $400-500 US handgun sells for up to $10,000 in Haiti (mid-range)",
       plausible=(2000, 10000),
       why="UNODC: up to $10,000 for a $400-500 handgun; rifles cost more, pistols less",
       prior="log-uniform"),
    _p("arms_embargo_relaxed", 0, 0, 1, "0 = embargo, 1 = relaxed", "arms",
       "Whether the arms embargo is relaxed for the Haitian state (police and army firepower).",
       "Defense Minister Moise's request (seed article)", integer=True, role="lever"),
    _p("embargo_relaxation_firepower", 1.3, 1, 3, "multiplier", "arms",
       "Firepower multiplier for police and army when the embargo on the state is relaxed.",
       "assumption: better rifles and armoured vehicles; effect size unknown, hence a lever",
       plausible=(1, 1.6),
       why="no effect to the gain of rifles and armour over the PNH's current arms"),
    # ------------------------------------------------------------ police
    _p("police_officers", 14861, 1000, 60000, "officers", "police",
       "PNH headcount at the start of the run.",
       "BINUH, end 2022: 14,861 total (security_forces.csv)", role="initial"),
    _p("police_operational_share", 0.30, 0.05, 1, "share", "police",
       "Share of police available for public-security operations (the rest guard officials, "
       "administration, leave).",
       "UN Panel of Experts, late 2023: ~4,000 available for public security of 13,196",
       plausible=(0.25, 0.35),
       why="~4,000 of 13,196 available (UN PoE late 2023), with the count's imprecision"),
    _p("police_share_capital", 0.6, 0, 1, "share", "police",
       "Share of operational police deployed in the Port-au-Prince metro.",
       "assumption: the specialised units and most operations are in the capital",
       plausible=(0.45, 0.75),
       why="most units and operations are in the capital, which has a third of the population"),
    _p("police_intake_per_year", 750, 0, 10000, "graduates/year", "police",
       "New officers graduating from the police academy each year.",
       "34th class 739 (Jan 2025), 35th class 877 (Jan 2026) (security_forces.csv)",
       role="lever", featured=True),
    _p("police_attrition_per_year", 0.03, 0, 0.5, "share/year", "police",
       "Baseline attrition of police in calm times.",
       "SG report Aug 2023: ~400 a year left historically (~3% of 14,000)",
       plausible=(0.02, 0.04), why="~400 a year left historically of 13,000-15,000"),
    _p("police_stress_attrition_per_year", 0.12, 0, 0.5, "share/year at full gang control",
       "police",
       "Extra attrition (desertion, emigration) in proportion to gang control of the capital.",
       "derived: 1,663 left in 2023 (BINUH/SG Jan 2024), ~12%, when gangs held ~75%",
       plausible=(0.08, 0.16),
       why="1,663 left in 2023 (~12%), with the uncertainty of attributing it to gang control"),
    _p("police_pay_attrition_per_year", 0.2, 0, 1, "share/year at zero funding", "police",
       "Extra attrition in proportion to the shortfall of police funding against its cost.",
       "assumption: unpaid officers leave; strength of the effect unknown",
       plausible=(0.05, 0.5), why="unpaid officers leave, at an unknown rate"),
    _p("police_hazard_pay_max", 1.0, 0, 3, "share of basic pay", "police",
       "Most hazard pay that money beyond the police pay bill buys, as a share of basic pay.",
       "assumption: money beyond the pay bill goes to hazard pay up to doubling an officer's "
       "pay; beyond that, pay is no longer what makes officers leave", role="constant"),
    _p("police_pay_retention", 0.4, 0, 1, "share of stress attrition avoided", "police",
       "Share of the departures under gang pressure that the most hazard pay prevents.",
       "assumption: officers leave for danger and for pay (1,663 left in 2023 against ~400 a "
       "year before: security_forces.csv); military retention studies find retention rises "
       "with pay (Goldberg, CNA 2001 survey), but no estimate for the PNH was found",
       plausible=(0.1, 0.7), why="from a small effect to most of the pressure-driven departures"),
    _p("police_unpaid_absence", 0.5, 0, 1, "share of the unpaid", "police",
       "Share of the officers whose pay the police budget does not cover who do not report for "
       "duty (they keep their post but work elsewhere to live).",
       "assumption: an unpaid officer who has not yet left still has to feed a family; no "
       "measure for the PNH was found (its absenteeism in normal pay is in "
       "police_operational_share)",
       plausible=(0.2, 0.9), why="from most unpaid officers still reporting (the PNH's 30th and "
       "32nd classes, eight months unpaid, 'still at their posts': union, RHI News 3 Aug 2023) to "
       "most of them away; for context, unpaid forces elsewhere leave outright (Somalia: about "
       "half of 1,000 unpaid trained soldiers deserted: AP, Apr 2010), which is "
       "police_pay_attrition_per_year's departure, not this absence"),
    _p("police_cost_usd_per_officer_year", 9600, 1000, 100000, "USD/officer/year", "police",
       "What one officer costs a year (pay and benefits).",
       "derived: 18 bn HTG personnel budget (rectified 2024-25) / 14,253 officers at 131 HTG/USD",
       role="constant"),
    _p("police_firepower", 1.0, 0.1, 5, "relative to an armed gang member", "police",
       "Combat power of one police officer relative to one armed gang member.",
       "assumption: parity; the PNH is outgunned in rifles but better organised",
       plausible=(0.6, 1.5),
       why="outgunned in rifles, better organised: parity within a factor of about 1.5"),
    # ------------------------------------------------------------ army
    _p("army_soldiers", 865, 0, 20000, "soldiers", "army",
       "FAd'H headcount.", "Budget 2024-25: 865 (security_forces.csv)", role="initial"),
    _p("army_intake_per_year", 150, 0, 5000, "soldiers/year", "army",
       "Soldiers recruited and trained each year.",
       "assumption: a tenth of the 1,500 sought in the Aug 2024 drive reaching units a year",
       role="lever"),
    _p("army_attrition_per_year", 0.04, 0, 0.5, "share/year", "army",
       "Attrition of soldiers.", "assumption: close to police baseline",
       plausible=(0.02, 0.08), why="close to the police's calm-time to stressed rates"),
    _p("army_operations_share", 0.2, 0, 1, "share of soldiers", "army",
       "Share of soldiers who join the police's offensive operations in the metro; the rest guard "
       "the key sites.",
       "assumption: the FAd'H answer the police's calls (Gen. Lessage, Le Nouvelliste) and fight "
       "with it (Sen. Rubio, Apr 2024; large joint operations by late 2024, PM Conille), while "
       "about a thousand men hold its posts (Champ de Mars, Malpasse, Anacaona base)",
       plausible=(0.05, 0.4), why="from a platoon or two in support (the Defence Minister in "
       "2025: the army's part in joint operations is 'ponctuelle et insuffisante', Echo Haiti) "
       "to a good part of a small force whose posts are few; no count of soldiers in operations "
       "was found"),
    _p("army_firepower", 1.0, 0.1, 5, "relative to an armed gang member", "army",
       "Combat power of one soldier relative to one armed gang member.", "assumption: parity",
       plausible=(0.6, 1.5), why="as for the police"),
    # ------------------------------------------------------------ drones
    _p("drone_operations_per_month", 0, 0, 300, "operations/month", "drones",
       "Drone operations a month by the state's task force on gang-held ground in the capital.",
       "HRW, 10 Mar 2026: 141 operations from 1 Mar 2025 to 21 Jan 2026, ~10 a month to Oct 2025 "
       "and ~21 a month from Nov 2025 (history.yaml replays them)", role="lever"),
    _p("drone_killed_per_operation", 8.8, 0, 100, "killed/operation", "drones",
       "People killed by one drone operation, gang members and bystanders.",
       "derived: HRW, 10 Mar 2026: at least 1,243 killed in 141 operations", role="constant"),
    _p("drone_gang_member_share", 0.95, 0, 1, "share of the dead", "drones",
       "Share of the people a drone operation kills who are gang members.",
       "derived: HRW, 10 Mar 2026: at least 60 of the 1,243 dead (43 adults, 17 children) were "
       "not members of criminal groups, so at most 95% were",
       plausible=(0.6, 0.95),
       why="HRW names only the dead reported as not members; reports from neighbourhoods the "
           "groups hold may call residents members, down to about 60% members"),
    # ------------------------------------------------------------ mission
    _p("mission_troops_target", 0, 0, 100000, "troops", "mission",
       "Troops the contributing countries are ready to deploy now (the pledged schedule; events "
       "move it).", "mission_deployment.csv (the historical scenario replays it)",
       role="lever", featured=True),
    _p("mission_troop_ceiling", 2500, 0, 100000, "troops", "mission",
       "Authorised ceiling of the mission.",
       "MSS ~2,500 planned (Res 2699); GSF 5,550 (Res 2793, 30 Sep 2025)",
       role="lever", featured=True),
    _p("mission_deploy_troops_per_month", 250, 0, 20000, "troops/month", "mission",
       "How fast troops arrive once pledged and funded.",
       "mission_deployment.csv: contingents of 150-400 a month in 2024-25", role="lever"),
    _p("mission_cost_usd_per_troop_year", 240000, 10000, 500000, "USD/troop/year", "mission",
       "Cost of keeping one troop deployed for a year, equipment and logistics included.",
       "derived: ~$600 M/yr for up to 2,500 (Security Council Report, mid 2024); the lower UN "
       "estimate of $240 M/yr (EFE, Apr 2024) leaves out the equipment the US gave in kind, "
       "which is in the historical funding ($300 M, 2024)",
       plausible=(100000, 300000),
       why="the UN's $240 M a year for 2,500 without equipment to ~$600 M with it"),
    _p("mission_mandate", 0, 0, 2, "mandate", "mission",
       "Mandate: support of the police (MSS), offensive gang suppression (GSF) or a UN "
       "peacekeeping operation.", "Res 2699 (2023), Res 2793 (2025)", integer=True,
       choices=MANDATES, role="lever"),
    _p("mandate_tempo_support", 0.3, 0, 2, "multiplier", "mission",
       "Offensive tempo of the mission under a police-support mandate (the MSS).",
       "assumption: the MSS mostly escorted and guarded sites in 2024-25 (SRSG Salvador, "
       "Apr 2025)",
       plausible=(0.1, 0.5),
       why="the MSS mostly escorted and guarded; a tenth to half the tempo of an offensive "
           "mandate"),
    _p("mandate_tempo_suppression", 1.0, 0, 2, "multiplier", "mission",
       "Offensive tempo under an offensive gang-suppression mandate (the GSF).",
       "reference value: Res 2793 authorises offensive operations", role="constant"),
    _p("mandate_tempo_peacekeeping", 0.6, 0, 2, "multiplier", "mission",
       "Offensive tempo of a UN peacekeeping operation.",
       "assumption: MINUSTAH's 2005-07 operations in Cite Soleil were offensive but episodic",
       plausible=(0.3, 0.9), why="MINUSTAH's offensives were episodic"),
    _p("mission_firepower", 1.5, 0.1, 5, "relative to an armed gang member", "mission",
       "Combat power of one mission troop.",
       "assumption: trained formed units with armoured vehicles",
       plausible=(1, 3),
       why="formed units with armour: parity to three times an armed gang member",
       prior="log-uniform"),
    _p("mission_capital_share", 0.9, 0, 1, "share", "mission",
       "Share of mission troops operating in the capital; the rest go to Artibonite.",
       "assumption: the MSS operated almost only in Port-au-Prince in 2024-25",
       plausible=(0.8, 1), why="the MSS operated almost only in Port-au-Prince"),
    _p("pko_cost_factor", 0.25, 0.05, 2, "multiplier", "mission",
       "Cost per troop-year of a UN peacekeeping operation relative to the coalition mission.",
       "derived: MINUSTAH cost $490.6 M in 2006-07 for ~9,000 uniformed (~$55,000 each; UN GA "
       "Fifth Committee, UNSC Res 1908) against ~$240,000 for the MSS",
       plausible=(0.15, 0.4),
       why="MINUSTAH's ~$55,000 per head to a larger share of equipment costs"),
    _p("mission_runway_months", 3, 0, 24, "months", "mission",
       "Months of costs the mission must hold in hand to keep deploying; below it, troops leave.",
       "assumption: contributors withdraw when reimbursements stop (Kenya's complaints, 2025)",
       plausible=(1, 6), why="contributors complained within months of arrears (Kenya, 2025)"),
    _p("mission_disbursement_share", 0.77, 0.05, 1, "share", "mission",
       "Share of the money pledged to the mission that is ever disbursed.",
       "mission_funding.csv: the trust fund had received $85 M of $110.3 M pledged by end 2024 "
       "(Kenya govt spokesman Mwaura, KBC Feb 2025); the US disbursed $1.7 M of a $15 M pledge",
       plausible=(0.5, 0.95),
       why="from the US trust-fund pledge's near-total shortfall to in-kind support delivered "
           "in full; the trust fund's 77% between"),
    _p("mission_disbursement_lag_months", 3, 0, 24, "months", "mission",
       "Mean delay between a pledge and its money reaching the mission (first-order pipeline).",
       "assumption: the trust fund held $18 M in April 2024, months after the first pledges "
       "(mission_funding.csv), and US funds were held in Congress until June 2024",
       plausible=(1, 9), why="from a month (in-kind deliveries) to most of a year (holds)"),
    _p("mission_fixed_cost_usd_per_year", 50e6, 0, 2e9, "USD/year", "mission",
       "Costs of the mission that do not scale with troops: headquarters, bases, air assets.",
       "assumption: about a tenth of the ~$600 M a year estimated for 2,500 (Security Council "
       "Report 2024); MINUSTAH's budget ran $386-491 M a year for ~9,000-13,000 uniformed",
       plausible=(20e6, 150e6), why="a twentieth to a quarter of the mission's 2024 estimate",
       prior="log-uniform"),
    _p("mission_carryover_months", 12, 0, 24, "months", "mission",
       "Months of running costs the mission may carry into a new budget year; the rest lapses.",
       "assumption: budgets are annual; a trust fund carries its balance, but much support is "
       "in kind (vehicles, drones: the US delivered >$300 M of equipment, mission_funding.csv) "
       "and lapses if unused: up to a year of running costs carries over",
       plausible=(3, 24), why="from a season's float to two years' reserve (a trust fund "
           "carries its balance; the 2024 US support paid for 2025)"),
    _p("mission_support_share", 0.3, 0, 0.9, "share", "mission",
       "Share of the mission's troops in logistics, rotation and base security, never in the "
       "field.",
       "assumption: a third of a deployed force in support and rotation is usual for formed "
       "units far from home (medical, engineering, aviation, base guards)",
       plausible=(0.15, 0.5), why="from a lean expeditionary force to a UN-style support "
           "share"),
    _p("pko_deploy_factor", 0.5, 0.05, 1, "multiplier", "mission",
       "Force generation pace of a UN peacekeeping operation relative to a coalition.",
       "assumption: UN force generation takes months longer (MINUSTAH 2004 precedent)",
       plausible=(0.3, 0.8), why="UN force generation takes months longer than a coalition's"),
    # ------------------------------------------------------------ funding (USD per year by donor)
    *(
        _p(f"funding_mission_{donor}", 0, 0, 60e9, "USD/year", "funding",
           f"Funding of the mission from {label}.",
           "mission_funding.csv (the historical scenario replays it)", role="lever", featured=True)
        for donor, label in (
            ("us", "the United States"), ("canada", "Canada"), ("haiti", "the Haitian state"),
            ("un_assessed", "UN assessed contributions (peacekeeping only)"),
            ("others", "other donors and the UN trust fund"),
        )
    ),
    _p("funding_police_haiti", 137e6, 0, 2e9, "USD/year", "funding",
       "Haitian state budget for police personnel.",
       "Budget rectificatif 2024-25: 18 bn HTG personnel at 131 HTG/USD",
       role="lever", featured=True),
    _p("funding_police_donors", 0, 0, 2e9, "USD/year", "funding",
       "Donor support to police pay (basket funds, bilateral).",
       "assumption: none recorded in the observed files", role="lever", featured=True),
    # ------------------------------------------------------------ combat
    _p("combat_steepness", 2.0, 0.5, 6, "exponent", "combat",
       "k in P(attacker wins) = 1 / (1 + (defender_advantage * D / A)^k).",
       "assumption: k=2 makes a 3:1 local superiority win ~80% of the time",
       plausible=(1, 3), why="from a loose to a sharp '3:1 rule'"),
    _p("defender_advantage", 1.5, 1, 5, "multiplier", "combat",
       "Advantage of the defender (cover, knowledge of the ground).",
       "Mearsheimer (1989) '3:1 rule': an attacker needs ~3:1 to win reliably",
       plausible=(1.2, 3),
       why="Mearsheimer's 3:1 for a reliable win is a ratio of 1.5-3 at even odds"),
    _p("community_defence_per_1000_residents", 0.5, 0, 10, "fighters/1,000 residents", "combat",
       "Self-defence brigades resisting gang incursion where the state is absent.",
       "assumption: brigades and 'bwa kale' killed 141 in Q1 2024 (BINUH): real but weak",
       plausible=(0.1, 2), why="self-defence brigades: real but weak (BINUH)", prior="log-uniform"),
    _p("state_reaction_share", 0.05, 0, 1, "share", "combat",
       "Share of a region's state forces that can reinforce any one engagement.",
       "assumption: a few armoured teams per region",
       plausible=(0.02, 0.15), why="a few armoured teams per region", prior="log-uniform"),
    _p("state_operation_rate", 0.7, 0, 20, "operations/day per 1,000 personnel", "combat",
       "Offensive operations launched per day per 1,000 personnel of the offensive reserve.",
       "assumption: tuned with gang_attack_rate on the 2023-24 record",
       plausible=(0.35, 1.4), why="half to twice the tuned value", prior="log-uniform"),
    _p("police_offensive_share", 0.15, 0, 1, "share", "combat",
       "Share of operational police in offensive units (SWAT, UDMO, BOID).",
       "assumption: the specialised units number a few hundred of ~4,000 available officers",
       plausible=(0.08, 0.25),
       why="specialised units of a few hundred to a thousand of ~4,000 available"),
    _p("loss_rate_loser", 0.03, 0, 1, "share of engaged", "combat",
       "Share of the losing side's engaged fighters killed.",
       "assumption: tuned to 2023-24 deaths (violence_annual.csv)",
       plausible=(0.015, 0.06), why="half to twice the tuned value", prior="log-uniform"),
    _p("loss_rate_winner", 0.01, 0, 1, "share of engaged", "combat",
       "Share of the winning side's engaged fighters killed.",
       "assumption: a third of the loser's rate; tuned with it to 2023-24 deaths",
       plausible=(0.005, 0.02), why="half to twice the tuned value", prior="log-uniform"),
    _p("state_casualty_ratio", 0.05, 0, 1, "ratio", "combat",
       "State forces' loss rates relative to gangs' in the same engagement (armour, training).",
       "derived: 48 police killed in 2023 (BINUH/SG Jan 2024) against >460 gang members killed in "
       "Q2 2023 alone (BINUH)",
       plausible=(0.02, 0.1),
       why="48 police killed in 2023 against 460+ gang members in one quarter",
       prior="log-uniform"),
    _p("civilians_killed_per_engagement", 0.5, 0, 50,
       "killed per engagement per (residents / 10,000)^0.5", "combat",
       "Civilians killed in an engagement, growing with the square root of the density.",
       "assumption: tuned to 4,789 killed in 2023 and 5,601 in 2024 (S/2024/62; OHCHR)",
       plausible=(0.2, 1), why="half to twice the tuned value", prior="log-uniform"),
    _p("gang_killings_per_member_per_year", 0.28, 0, 10, "killed/member/year", "combat",
       "Civilians killed by gangs outside engagements (massacres, executions) per member.",
       "assumption: tuned to the 2023-24 totals; 83% of 2023 killings were by gangs (BINUH)",
       plausible=(0.14, 0.56), why="half to twice the tuned value", prior="log-uniform"),
    _p("self_defence_killings_per_1000_frontier_residents_per_year", 0.5, 0, 10,
       "killed/1,000 frontier residents/year", "combat",
       "Killings by self-defence brigades (Bwa Kale: lynchings) per 1,000 residents of state-held "
       "cells next to gang-held ground.",
       "assumption: BINUH counts ~680 a year in 2024 (141 in Q1, at least 122 in Q3, 268 lynched "
       "in Q4) among the ~1.3 M residents of the model's frontier in 2024",
       plausible=(0.2, 1.5), why="the 2024 quarters span half to one and a half times the mean",
       prior="log-uniform"),
    _p("self_defence_alarm_boost", 3.0, 0, 20, "multiplier", "combat",
       "How much more brigades lynch next to ground gangs have just taken: a frontier cell's "
       "rate is x(1 + boost x its alarm), the alarm 1 on the day a neighbour falls.",
       "assumption: Bwa Kale began the night after gangs tried to take new neighbourhoods "
       "(Canape-Vert, 24 Apr 2023) and killed at least 238 by 30 Jun (BINUH Q2 2023), about "
       "three times 2024's pace of ~170 a quarter",
       plausible=(0, 8), why="from no effect of the gangs' advances to a first wave several "
       "times the 2024 pace"),
    _p("self_defence_alarm_days", 60, 1, 720, "days", "combat",
       "Time constant over which a frontier cell's alarm fades after gangs take a neighbour.",
       "assumption: Bwa Kale's first wave waned within months (238 by 30 Jun 2023, about 110 "
       "more from July to mid-August: OHCHR's 350 by 15 Aug)",
       plausible=(20, 120), why="three weeks to four months", prior="log-uniform"),
    _p("self_defence_kidnap_deterrence", 0.7, 0, 1, "share", "combat",
       "How much self-defence brigades on full alert cut the kidnappings of the groups whose "
       "frontier they guard (scaled by the alarm of the state-held cells along it).",
       "assumption: CARDH (26 May 2023, Reuters) recorded almost no kidnappings from 24 Apr to "
       "24 May 2023, Bwa Kale's first month, and BINUH's quarter fell from 395 to 298 before "
       "rebounding to 585 as the movement waned",
       plausible=(0, 1), why="from brigades that only lynch to brigades that stop every "
                              "kidnapping while on alert"),
    _p("self_defence_movement", 1, 0, 1, "0 = none, 1 = active", "combat",
       "Whether the self-defence movement (Bwa Kale) exists: it lynches on the frontier and "
       "deters kidnapping; when an event starts it, its brigades start on alert.",
       "OHCHR: the movement began with lynchings in Canape-Vert on 24 Apr 2023 (history.yaml "
       "starts it then)", integer=True, role="constant"),
    _p("lynched_gang_member_share", 0.89, 0, 1, "share", "combat",
       "Share of the people lynched by self-defence brigades who are (alleged) gang members.",
       "OHCHR, 18 Aug 2023: of more than 350 people lynched from 24 Apr to 15 Aug 2023, 310 "
       "were alleged gang members", role="constant"),
    _p("injured_per_killed", 0.39, 0, 5, "injured per killed", "combat",
       "Injured people per person killed.", "OHCHR 2024: 2,212 injured / 5,601 killed",
       role="constant"),
    _p("hold_personnel_per_1000_residents", 5, 0.5, 40, "personnel/1,000 residents", "combat",
       "State personnel needed per 1,000 residents to hold cleared ground.",
       "force_ratio_benchmarks.csv: 2.2 (UN norm, peaceful) to >=20 (RAND stabilisation)",
       plausible=(2.2, 20),
       why="force_ratio_benchmarks.csv: the UN's 2.2 to RAND's 20",
       prior="log-uniform"),
    _p("overstretch_release_per_day", 0.03, 0, 1, "probability/day", "combat",
       "Daily chance an overstretched gang gives up a border cell (scaled by its overstretch).",
       "assumption: a few weeks for an overstretched coalition to pull back; tuned to 2023-24",
       plausible=(0.01, 0.1),
       why="days to months for an overstretched coalition to pull back",
       prior="log-uniform"),
    _p("reversion_per_day", 0.02, 0, 1, "probability/day", "combat",
       "Daily chance that cleared but unheld ground falls back to gangs (at zero holding force).",
       "assumption: gangs return within weeks of police withdrawing (Martissant, 2021-24)",
       plausible=(0.005, 0.06),
       why="gangs return within weeks to months of police withdrawing",
       prior="log-uniform"),
    _p("claim_lapse_days", 365, 7, 10000, "days", "combat",
       "Days the Haitian state's own garrison must hold a cleared cell at full strength before "
       "the gang cleared from it loses its claim (and can no longer retake it unopposed).",
       "assumption: a year of continuous police presence; MINUSTAH's 2007 gains, held by the "
       "mission rather than the police, were lost within a few years of its 2017 exit",
       plausible=(90, 1095), why="from a season to three years of continuous presence",
       prior="log-uniform"),
    _p("target_value_floor_residents", 500, 0, 10000, "residents", "combat",
       "Residents added to every cell's value for attackers, so empty ground on the way counts.",
       "assumption: a few hundred people's worth, a tenth of a populated cell",
       plausible=(100, 2000), why="from little to half a populated cell", prior="log-uniform"),
    _p("target_road_value", 2.0, 0, 20, "extra multiple", "combat",
       "Extra value of a national-road cell for attackers (checkpoint revenue, cutting the "
       "capital off): value x (1 + this).",
       "assumption: GI-TOC reports roads as gangs' main prize outside the capital",
       plausible=(0.5, 4), why="half again to five times a cell's value"),
    _p("target_site_value", 5.0, 0, 50, "extra multiple", "combat",
       "Extra value of a key site (airport, sea port, downtown) for attackers.",
       "assumption: the 2024 offensives targeted the airport, port and palace (OHCHR)",
       plausible=(2, 10), why="a few to ten times a road cell's value"),
    # ------------------------------------------------------------ population
    _p("flee_share_per_engagement", 0.001, 0, 1, "share of residents", "population",
       "Share of a cell's residents who flee after an engagement in it.",
       "assumption: tuned to IOM DTM displacement 2023-24",
       plausible=(0.0003, 0.003),
       why="a third to three times the tuned value",
       prior="log-uniform"),
    _p("flee_neighbour_share", 0.5, 0, 1, "share of flee_share_per_engagement", "population",
       "Share of an engagement's flight rate that also drives residents out of each "
       "neighbouring cell.",
       "assumption: fighting in a street empties the streets around it, less so",
       plausible=(0.2, 1.0), why="a fifth to the same rate as the cell itself"),
    _p("flee_share_on_capture", 0.05, 0, 1, "share of residents", "population",
       "Share of a cell's residents who flee when a gang takes it.",
       "assumption: tuned to IOM DTM displacement 2023-24; IOM reports most IDPs fled gang "
       "attacks on their neighbourhood",
       plausible=(0.02, 0.12),
       why="IOM: most IDPs fled attacks on their neighbourhood; share per capture unknown"),
    _p("flee_per_civilian_killed", 60, 0, 500, "people per civilian killed", "population",
       "People who flee a cell for each civilian gangs kill there outside engagements "
       "(massacres, executions).",
       "IOM: 6,270 fled Pont-Sonde after Gran Grif killed >=70 (UN) to 115 (Saint-Marc's mayor) "
       "on 3 Oct 2024 (Lettera43, 7 Oct 2024; territorial_control.csv): 55-90 per death",
       plausible=(20, 150), why="the Pont-Sonde ratio, 55-90, widened for smaller killings",
       prior="log-uniform"),
    _p("flee_rate_gang_control_per_year", 0.03, 0, 2, "share/year", "population",
       "Residents leaving gang-held cells each year outside fighting.",
       "assumption: extortion, rape and recruitment of children push families out over time "
       "(OHCHR); tuned to IOM DTM 2023-24",
       plausible=(0.01, 0.08),
       why="a third to about three times the tuned value",
       prior="log-uniform"),
    _p("flee_to_provinces_share", 0.6, 0, 1, "share", "population",
       "Share of people fleeing the capital who go to the provinces.",
       "calibrated: the record gives the stock's share (IOM DTM R7-R8 2024: 68% and ~75% of "
       "IDPs in the provinces), which exceeds each flight's split as people hosted in the metro "
       "flee again",
       plausible=(0.4, 0.75), why="at 0.4 most first flights stay in the metro's sites and "
       "host families (IOM 2023: about half of the capital's IDPs in sites); at 0.75 as many "
       "go to the provinces as the stock's latest share"),
    _p("return_after_days_secure", 120, 7, 1000, "days", "population",
       "Days of security in a cell before its displaced start to return.",
       "assumption: IOM recorded few returns where security did not last several months",
       plausible=(60, 240), why="two to eight months of security"),
    _p("return_rate_per_year", 1.0, 0, 12, "share/year", "population",
       "Rate at which displaced people return to a secure home cell.",
       "assumption: most return within about a year once home is secure, as after the 2010 "
       "earthquake camps closed",
       plausible=(0.5, 2), why="most return within six months to two years", prior="log-uniform"),
    _p("initial_displaced", 155000, 0, 3e6, "people", "population",
       "Displaced people at the start of the run.", "UN Deputy SG, Dec 2022: 155,000",
       role="initial"),
    _p("initial_capital_gang_share", 0.6, 0, 1, "share of capital area", "gangs",
       "Share of the capital under gang control at the start of the run.",
       "UN estimate, AP 21 Jan 2023: 60%", role="initial"),
)



def _calibrated(p: Param) -> Param:
    """`p` with the shipped calibration's posterior median as its default and its interval in
    its source (`sim.model.calibrated`, written by scripts/ship_calibration.py); the declared
    value and its reasoning stay in the source, as what the prior was built around."""
    if p.name not in POSTERIOR:
        return p
    median, q05, q95, width = POSTERIOR[p.name]
    narrowed = (f"{width:.0%} of the prior's width" if width < NOT_NARROWED
                else "not narrowed by the record: the posterior is about the prior")
    return dataclasses.replace(p, default=float(round(median)) if p.integer else median, source=(
        f"calibrated: ABC-SMC against the 2023-2024 record, posterior median; 90% interval "
        f"{q05:.3g} to {q95:.3g} ({narrowed}). Declared before calibration: {p.default:g}, "
        f"{p.source}"))


NOT_NARROWED = 0.8  # a posterior interval this share of the prior's or more says little
_DECLARED = tuple(_calibrated(p) for p in _DECLARED)
PARAMS: MappingProxyType[str, Param] = MappingProxyType({p.name: p for p in _DECLARED})
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(p.group for p in _DECLARED))


def defaults() -> dict[str, float]:
    """The default value of every parameter, as a float like every value `check_value` passes:
    one type per parameter keeps the model's compiled kernels to one version each."""
    return {name: float(p.default) for name, p in PARAMS.items()}


def check_value(name: str, value: object) -> float:
    """Return `value` as a number if it is allowed for parameter `name`, else raise ValueError.

    The message says what is allowed, so callers can put it in front of users unchanged. The
    range is checked before any conversion, so `.inf`, NaN and a 400-digit number are refused
    with the range instead of overflowing.
    """
    p = PARAMS[name]
    allowed = (" or ".join(f"{i} ({c})" for i, c in enumerate(p.choices)) if p.choices
               else f"{p.low:g} to {p.high:g} {p.unit}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number ({p.unit}), got {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}: allowed {allowed}")
    if p.integer and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"must be a whole number ({p.unit}), got {value!r}")
    if not p.low <= value <= p.high:
        raise ValueError(f"{shown(value)} is out of range: allowed {allowed}")
    return float(value)


def shown(value: object, limit: int = 80) -> str:
    """A bad value as a message shows it: repr'd (which escapes control characters), cut to
    `limit` characters; a huge integer by its size (Python refuses to print over 4300 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"a number of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def markdown_table() -> str:
    """The parameter table of the model documentation, generated so it cannot drift."""
    rows = ["| name | role | default | valid range | plausible range (prior): why | unit | "
            "source or assumption |", "|---|---|---|---|---|---|---|"]
    for p in _DECLARED:
        plausible = ""
        if p.plausible:
            prior = "log-uniform" if p.prior == "log-uniform" else "uniform"
            plausible = f"{p.plausible[0]:g} to {p.plausible[1]:g} ({prior}): {p.why}"
        rows.append(f"| `{p.name}` | {p.role} | {p.default:g} | {p.low:g} to {p.high:g} | "
                    f"{plausible} | {p.unit} | {p.source} |")
    return "\n".join(rows)
