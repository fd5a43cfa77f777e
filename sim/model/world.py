"""The Haiti model: the world, the agents and the daily schedule.

One step is one day. The schedule of a day, in order:

1. scenario events due today change parameters (Mesa scheduled events, before the step);
2. forces: police and army intake and attrition, the mission deploys or withdraws and spends;
3. deployment of the state's forces on the map;
4. gang economy: income, upkeep, firearms, recruitment (vectorised over groups), kidnappings
   deterred by the day's garrisons; once a week each group decides its posture (`gangs.plan`);
   then engagements (gang attacks, state operations) and their outcomes; one-sided violence
   (gangs' massacres, self-defence brigades' lynchings);
5. consolidation: unheld cleared ground reverts, overstretched gangs let go;
6. people flee engagements and gang rule, or return to cells secure long enough;
7. outcomes are recorded.

Randomness: the setup draws from a numpy `Generator`; every daily draw comes from a generator
keyed by (seed, kind of draw, day, group or cell) (`sim.model.jit`), so a change in one process,
on one day or in one place does not reshuffle the draws of the others; this is what keeps paired
comparisons of scenarios tight (common random numbers).
The model does no I/O and knows nothing of files or user interfaces.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import NamedTuple

import mesa
import numpy as np

from sim.model import combat, gangs, geography, jit, mission, population, security_forces
from sim.model.gangs import Gang
from sim.model.mission import Mission
from sim.model.outcomes import FLOWS, STOCKS, Recorder
from sim.model.population import CellState
from sim.model.scenario import Event, Scenario, apply_event
from sim.model.security_forces import Army, Police


class Rates(NamedTuple):
    """Every process's numbers per day under the parameters in force (`HaitiModel.derive`)."""

    gangs: gangs.Rates
    combat: combat.Rates
    population: population.Rates
    forces: security_forces.Rates
    mission: mission.Rates


def rates(p: dict[str, float]) -> Rates:
    """The per-day rates of every process, from parameter values."""
    p = {name: float(value) for name, value in p.items()}  # one type per field: one compilation
    return Rates(gangs=gangs.rates(p), combat=combat.rates(p), population=population.rates(p),
                 forces=security_forces.rates(p), mission=mission.rates(p))


class ParameterChange:
    """A scheduled event callback (Mesa keeps only a weak reference; the model holds these)."""

    def __init__(self, model: HaitiModel, event: Event):
        self.model, self.event = model, event

    def __call__(self) -> None:
        self.model.p[self.event.name] = apply_event(self.model.p, self.event)
        self.model.derive()
        self.model.take_in_freed()


class HaitiModel(mesa.Model):
    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.seed if seed is None else seed
        super().__init__(rng=seed)
        self.config = scenario
        self.seed_value = seed
        self.p = dict(scenario.parameters)
        self.geo = geo = geography.load()
        setup, daily = np.random.SeedSequence(seed).spawn(2)
        setup_rng = np.random.default_rng(setup)
        self.seed_key = jit.seed_key(daily)  # every daily draw is keyed by it (`sim.model.jit`)

        artibonite = geo.department == geo.department_index("Artibonite")
        region = np.where(geo.is_metro, combat.METRO, np.where(
            artibonite, combat.ARTIBONITE, combat.REST)).astype(np.int32)
        self.world = geography.World(
            edge_ptr=geo.edge_ptr, edge_dst=geo.edge_dst, is_metro=geo.is_metro, region=region,
            region_population=np.bincount(region, geo.population),
            key_sites=np.unique(np.concatenate([geo.cells_of_kind(k)
                                                for k in combat.KEY_SITE_KINDS])),
            road_cells=np.flatnonzero(geo.road_mask > 0),
            cargo_cells=np.unique(np.concatenate([geo.cells_of_kind("seaport"),
                                                  geo.roads["RN8"]])),
            cell_value=np.ones(geo.n_cells), hold_weight=np.ones(geo.n_cells))

        kept = gangs.state_held(geo, self.p["initial_state_held_radius_km"])
        self.gang_state = gangs.create(self, geo, self.p, setup_rng, kept)
        self.gangs = self.agents_by_type[Gang]
        owner = gangs.initial_territory(geo, sorted(self.gangs, key=lambda g: g.index),
                                        self.gang_state.members, self.p, kept)
        n = geo.n_cells
        self.cells = CellState(owner=owner, border=combat.border_counts(geo, owner),
                               residents=geo.population.copy(),
                               displaced_from=np.zeros(n), hosted=np.zeros(n),
                               days_secure=np.zeros(n, np.int32),
                               claimant=np.full(n, -1, np.int32),
                               killed_by_gangs=np.zeros(n),
                               held_days=np.zeros(n, np.int64), alarm=np.zeros(n))
        population.place_initial_displaced(self.cells, geo, self.p["initial_displaced"],
                                           self.p["flee_to_provinces_share"])
        self.initial_population = float(geo.population.sum())
        self.civilians_killed = 0.0

        self.police = Police(self, self.p["police_officers"])
        self.army = Army(self, self.p["army_soldiers"])
        self.mission = Mission(self)
        self.capital_cells = np.flatnonzero(geo.is_capital)
        self.capital_gang_share = capital_gang_share(self.cells.owner, self.capital_cells)
        self.derive()
        self.inmates_taken_in = 0.0  # of `inmates_freed`, those whose joiners have joined
        self.take_in_freed()

        self._scheduled = []
        self._schedule(scenario.events)
        self.recorder = Recorder(scenario.days, geo.department_name)
        self._recorder_layout()

    def _recorder_layout(self) -> None:
        """Which columns of the recorder's row each outcome goes to, looked up by name once, and
        the road cells behind the per-road outcomes."""
        geo, index = self.geo, self.recorder.index
        self._outcome_columns = {name: index[name] for name in STOCKS + FLOWS}
        roads = list(geo.roads.values())
        lengths = np.array([len(r) for r in roads], dtype=float)
        self._layout = _Layout(
            department=geo.department, capital_cells=self.capital_cells, is_metro=geo.is_metro,
            road_cells=np.concatenate(roads),
            road_id=np.repeat(np.arange(len(roads)), lengths.astype(int)), road_lengths=lengths,
            department_columns=np.array([index[f"gang_population_share.{d}"]
                                         for d in geo.department_name]),
            road_cut_columns=np.array([index[f"road_cut.{r}"] for r in geo.roads]),
            road_share_columns=np.array([index[f"road_gang_share.{r}"] for r in geo.roads]),
            troops_limit_columns=np.array([index[f"troops_limited_by.{c}"]
                                           for c in mission.CONSTRAINTS]))

    def _schedule(self, events) -> None:
        for event in events:
            change = ParameterChange(self, event)
            day = (event.date - self.config.start).days
            # at day + 0.5: before that day's step, which Mesa runs at time day + 1
            self._scheduled.append((change, self.schedule_event(change, at=day + 0.5)))

    def fork(self, scenario: Scenario) -> HaitiModel:
        """A copy of this model that continues from today under `scenario`.

        Policy scenarios that branch from the same history share it: simulate the history once,
        then fork one model per policy at the branch date. The fork is exact: it continues with the
        same random streams as a run of `scenario` from the start would (tests check it).
        """
        today = self.config.start + dt.timedelta(days=self.steps)
        past = [e for e in self.config.events if e.date < today]
        if (scenario.start != self.config.start or scenario.parameters != self.config.parameters
                or [e for e in scenario.events if e.date < today] != past):
            raise ValueError(f"'{scenario.name}' does not share this run's history before {today}")
        clone = copy.deepcopy(self)
        for change, event in clone._scheduled:
            if change.event.date >= today:
                event.cancel()
        clone._scheduled = [(c, e) for c, e in clone._scheduled if c.event.date < today]
        clone.config = scenario
        clone._schedule([e for e in scenario.events if e.date >= today])
        old = clone.recorder
        clone.recorder = Recorder(scenario.days, self.geo.department_name)
        clone.recorder.values[:self.steps] = old.values[:self.steps]
        return clone

    def derive(self) -> None:
        """What follows from the parameters and the map, rebuilt when a parameter changes.

        The per-day rates of every process (`rates`); the coalitions in force; the cell value
        seen by attackers: residents plus a floor (empty land on the way still counts), with
        multipliers for national roads (checkpoint revenue, cutting the capital off) and key
        sites; what holding each cell takes (`gangs.hold_weights`).
        """
        p, geo = self.p, self.geo
        self.rates = rates(p)
        gangs.set_coalitions(self.gang_state, bool(p["viv_ansanm_alliance"]))
        cell_value = 1.0 + p["target_road_value"] * (geo.road_mask > 0)
        cell_value[self.world.key_sites] += p["target_site_value"]
        self.world = self.world._replace(
            cell_value=cell_value,
            hold_weight=gangs.hold_weights(geo.is_metro, self.world.road_cells, p))

    def take_in_freed(self) -> None:
        """Inmates freed since the last call join the metro's groups (`gangs.take_in_freed`).

        `inmates_freed` counts from the start of the run, so a scenario that starts with a
        count frees them on the first day; replaying an event on a branch frees no one twice,
        and lowering the count recaptures no one. Not part of `derive`: it changes the state,
        once, where `derive` rebuilds what follows from the parameters.
        """
        freed = self.p["inmates_freed"] - self.inmates_taken_in
        if freed > 0:
            gangs.take_in_freed(self.gang_state, self.geo.is_metro,
                                self.p["freed_inmates_joining_share"] * freed)
            self.inmates_taken_in = self.p["inmates_freed"]

    # ------------------------------------------------------------------ helpers
    @property
    def day(self) -> int:
        """Index of the day being simulated (0 on the start date)."""
        return self.steps - 1

    @property
    def today(self) -> dt.date:
        """The date being simulated."""
        return self.config.start + dt.timedelta(days=self.day)

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        self.police.step()
        self.army.step()
        self.mission.step()
        (kidnappings, killed_gang, killed_state, killed_civilians, in_operations, lynched,
         struck, engagements, displaced_again) = _day(
            self.cells, self.gang_state, self.world, self.rates, self.seed_key,
            self.police.on_duty, self.army.soldiers, self.mission.troops, self.day)
        police_dead, army_dead, troops_dead = killed_state
        self.police.killed += police_dead
        self.army.killed += army_dead
        self.mission.killed += troops_dead
        self.civilians_killed += killed_civilians
        # read by the police tomorrow: part of the day's state, not of its observation
        self.capital_gang_share = capital_gang_share(self.cells.owner, self.capital_cells)
        self._record({"killed_gang": killed_gang, "killed_police": police_dead,
                      "killed_army": army_dead, "killed_troops": troops_dead,
                      "killed_civilians": killed_civilians}, in_operations, lynched,
                     struck, kidnappings, engagements, displaced_again)

    def _record(self, deaths: dict[str, float], in_operations: float, lynched: float,
                struck: float, kidnappings: float, engagements: int,
                displaced_again: float) -> None:
        """Write the day's outcomes into the recorder, by name. Reads the state, changes none."""
        row, columns = self.recorder.values[self.day], self._outcome_columns
        s = _map_summaries(self.cells, self.gang_state, self._layout, row)
        killed = sum(deaths.values())
        outcomes = {
            "capital_gang_share_area": self.capital_gang_share,
            "capital_gang_share_population": s.capital_population_share,
            "gang_controlled_population": s.held,
            "gang_controlled_share_national": s.held / s.residents,
            "displaced": s.displaced,
            "displaced_in_provinces_share": s.hosted_in_provinces,
            "troops": self.mission.troops,
            "police_officers": self.police.officers,
            "army_soldiers": self.army.soldiers,
            "gang_members": s.gang_members,
            "gang_firearms": s.gang_firearms,
            "mission_cash_usd": self.mission.cash_usd,
            "roads_cut": s.roads_cut,
            "killed": killed,
            **deaths,
            "killed_in_state_operations": in_operations,
            "killed_by_self_defence": lynched,
            "killed_in_drone_operations": struck,
            "injured": killed * self.p["injured_per_killed"],
            "kidnappings": kidnappings,
            "spent_mission_usd": self.mission.spent_usd,
            "spent_police_usd": self.police.spent_usd,
            "engagements": engagements,
            "displaced_again": displaced_again,
        }
        for name, value in outcomes.items():
            row[columns[name]] = value
        limits = self._layout.troops_limit_columns
        row[limits] = 0.0
        row[limits[self.mission.constraint]] = 1.0

    def run(self, until: dt.date | None = None, progress=None) -> Recorder:
        """Run up to (not including) `until`, or to the scenario's end.

        `progress(days_done)` is called every 30 simulated days if given.
        """
        last = self.config.days if until is None else (until - self.config.start).days
        while self.steps < last:
            self.step()
            if progress is not None and self.steps % 30 == 0:
                progress(self.steps)
        return self.recorder

    def people_total(self) -> float:
        """Residents + displaced + civilians killed: equals the initial population (tested)."""
        c = self.cells
        return float(c.residents.sum() + c.displaced_from.sum() + self.civilians_killed)


@jit.kernel
def _day(cells, gang_state, world, rates, seed, police_on_duty, army_soldiers,
         mission_troops, day):
    """Steps 2 to 8 of the day (the ODD's section 3), in order, in one compiled call: deployment,
    the gang economy and weekly posture, engagements and their outcomes, one-sided violence,
    consolidation, and flight and return. Returns kidnappings, gang members killed, state personnel
    killed by force (police, army, mission), civilians killed, those of the gang members and
    civilians killed in the state's operations (drone strikes included), those killed by
    self-defence brigades and those killed in drone operations (both in the gang members' and the
    civilians' counts too), the number of engagements and the number of displaced people who fled
    again.

    One call instead of one per process: handing the records to compiled code costs microseconds
    per call, which added up to a third of a run."""
    dep = combat.deploy(cells, world, rates.combat, police_on_duty, army_soldiers,
                        mission_troops)
    kidnappings = gangs.economy(gang_state, cells, world, rates.gangs, seed, day, dep.garrison)
    if day % 7 == 0:
        gangs.plan(gang_state, rates.gangs)
    eng = combat.engage(cells, gang_state, dep, world, rates.combat, seed, day)
    killed_gang, killed_state, killed_civilians, in_operations = combat.resolve(
        eng, cells, gang_state, dep, world, rates.combat, seed, day)
    killed_civilians += combat.gang_violence(cells, gang_state, rates.combat, seed, day)
    lynched_gang, lynched_civilians = combat.self_defence(cells, gang_state, world, rates.combat,
                                                          seed, day, eng)
    killed_gang += lynched_gang
    killed_civilians += lynched_civilians
    drone_gang, drone_civilians = combat.drone_strikes(cells, gang_state, world, rates.combat,
                                                       seed, day)
    killed_gang += drone_gang
    killed_civilians += drone_civilians
    in_operations += drone_gang + drone_civilians
    combat.consolidate(cells, gang_state, dep, world, rates.combat, seed, day)
    displaced_again = population.step(cells, world, rates.population, eng)
    return (kidnappings, killed_gang, killed_state, killed_civilians, in_operations,
            lynched_gang + lynched_civilians, drone_gang + drone_civilians, len(eng.cells),
            displaced_again)


class _Layout(NamedTuple):
    """What `_map_summaries` reads of the map, and the recorder's columns it writes."""

    department: np.ndarray
    capital_cells: np.ndarray
    is_metro: np.ndarray
    road_cells: np.ndarray  # the cells of every road, road after road
    road_id: np.ndarray  # the road of each entry of `road_cells`
    road_lengths: np.ndarray  # cells per road
    department_columns: np.ndarray  # of gang_population_share.<department>, by department
    road_cut_columns: np.ndarray  # of road_cut.<road>, by road
    road_share_columns: np.ndarray  # of road_gang_share.<road>, by road
    troops_limit_columns: np.ndarray  # of troops_limited_by.<constraint>, by constraint


class _Summaries(NamedTuple):
    capital_population_share: float
    held: float  # residents of gang-held cells
    residents: float
    displaced: float
    hosted_in_provinces: float  # share of the displaced living outside the metro
    roads_cut: int
    gang_members: float
    gang_firearms: float


@jit.kernel
def capital_gang_share(owner, capital_cells) -> float:
    """Share of the capital's cells that a gang holds."""
    held = 0
    for c in capital_cells:
        held += owner[c] >= 0
    return held / len(capital_cells)


@jit.kernel
def _map_summaries(cells, gang_state, layout, row):
    """The day's map in numbers: writes each department's gang share of residents and each
    road's cut and gang share into `row` (at `layout`'s columns); returns the rest
    (`_Summaries`)."""
    owner, residents = cells.owner, cells.residents
    held = displaced = residents_total = hosted = hosted_provinces = 0.0
    department, n_departments = layout.department, len(layout.department_columns)
    dept_held, dept_residents = np.zeros(n_departments), np.zeros(n_departments)
    for c in range(len(owner)):
        d = department[c]
        dept_residents[d] += residents[c]
        residents_total += residents[c]
        displaced += cells.displaced_from[c]
        hosted += cells.hosted[c]
        if not layout.is_metro[c]:
            hosted_provinces += cells.hosted[c]
        if owner[c] >= 0:
            dept_held[d] += residents[c]
            held += residents[c]
    for d in range(n_departments):
        row[layout.department_columns[d]] = dept_held[d] / max(dept_residents[d], 1e-9)
    capital_held = capital_residents = 0.0
    for c in layout.capital_cells:
        capital_residents += residents[c]
        if owner[c] >= 0:
            capital_held += residents[c]
    road_held = np.zeros(len(layout.road_lengths))
    for i in range(len(layout.road_cells)):
        road_held[layout.road_id[i]] += owner[layout.road_cells[i]] >= 0
    roads_cut = 0
    for r in range(len(road_held)):
        row[layout.road_cut_columns[r]] = road_held[r] > 0
        row[layout.road_share_columns[r]] = road_held[r] / layout.road_lengths[r]
        roads_cut += road_held[r] > 0
    return _Summaries(capital_held / max(capital_residents, 1.0), held, residents_total,
                      displaced, hosted_provinces / hosted if hosted > 0 else 0.0, roads_cut,
                      gang_state.members.sum(), gang_state.firearms.sum())
