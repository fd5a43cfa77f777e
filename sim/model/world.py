"""The Haiti model: the world, the agents and the daily schedule.

One step is one day. The schedule of a day, in order:

1. scenario events due today change parameters (Mesa scheduled events, before the step);
2. forces: police and army intake and attrition, the mission deploys or withdraws and spends;
3. gang economy: income, upkeep, firearms, recruitment (vectorised over groups); once a week each
   group decides its posture (`gangs.plan`);
4. deployment of the state's forces on the map, then engagements (gang attacks, state operations)
   and their outcomes; one-sided gang violence;
5. consolidation: unheld cleared ground reverts, overstretched gangs let go;
6. people flee engagements and gang rule, or return to cells secure long enough;
7. outcomes are recorded.

Randomness comes from independent streams spawned from the seed, one per process: a numpy
`Generator` for the setup, and a compiled stream (`sim.model.jit`) for each of economy, combat,
violence and consolidation. A change in one process does not reshuffle the draws of the others;
this is what keeps paired comparisons of scenarios tight (common random numbers).
The model does no I/O and knows nothing of files or user interfaces.
"""

from __future__ import annotations

import copy
import datetime as dt

import mesa
import numpy as np

from sim.model import combat, gangs, geography, jit, population
from sim.model.gangs import Gang
from sim.model.mission import Mission
from sim.model.outcomes import FLOWS, STOCKS, Recorder
from sim.model.population import CellState
from sim.model.scenario import Event, Scenario, apply_event
from sim.model.security_forces import Army, Police

STREAMS = ("economy", "combat", "violence", "consolidation")


class ParameterChange:
    """A scheduled event callback (Mesa keeps only a weak reference; the model holds these)."""

    def __init__(self, model: HaitiModel, event: Event):
        self.model, self.event = model, event

    def __call__(self) -> None:
        self.model.p[self.event.name] = apply_event(self.model.p, self.event)
        self.model.derive()


class HaitiModel(mesa.Model):
    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.seed if seed is None else seed
        super().__init__(rng=seed)
        self.config = scenario
        self.seed_value = seed
        self.p = dict(scenario.parameters)
        self.geo = geo = geography.load()
        seeds = np.random.SeedSequence(seed).spawn(len(STREAMS) + 1)
        setup_rng = np.random.default_rng(seeds[0])
        self.streams = {name: jit.stream(s) for name, s in zip(STREAMS, seeds[1:], strict=True)}

        artibonite = geo.department == geo.department_index("Artibonite")
        self.region = np.where(geo.is_metro, combat.METRO, np.where(
            artibonite, combat.ARTIBONITE, combat.REST)).astype(np.int32)
        self.region_population = np.bincount(self.region, geo.population)
        self.key_sites = np.unique(np.concatenate([geo.cells_of_kind(k)
                                                   for k in combat.KEY_SITE_KINDS]))
        self.road_cells = np.flatnonzero(geo.road_mask > 0)
        self.cargo_cells = np.unique(np.concatenate([geo.cells_of_kind("seaport"),
                                                     geo.roads["RN8"]]))
        self.derive()

        self.gang_state = gangs.create(self, geo, self.p, setup_rng)
        self.gangs = self.agents_by_type[Gang]
        owner = gangs.initial_territory(geo, sorted(self.gangs, key=lambda g: g.index),
                                        self.gang_state.members, self.p)
        n = geo.n_cells
        self.cells = CellState(owner=owner, border=combat.border_counts(geo, owner),
                               residents=geo.population.copy(),
                               displaced_from=np.zeros(n), hosted=np.zeros(n),
                               days_secure=np.zeros(n, np.int32),
                               cleared_age=np.full(n, 10**6, np.int64))
        population.place_initial_displaced(self.cells, geo, self.p["initial_displaced"],
                                           self.p["flee_to_provinces_share"])
        self.initial_population = float(geo.population.sum())
        self.civilians_killed = 0.0

        self.police = Police(self, self.p["police_officers"])
        self.army = Army(self, self.p["army_soldiers"])
        self.mission = Mission(self)
        self.capital_gang_share = float(np.mean(self.cells.owner[geo.is_capital] >= 0))
        self.deployment: combat.Deployment | None = None

        self._scheduled = []
        self._schedule(scenario.events)
        self.recorder = Recorder(scenario.days, geo.department_name)
        self._recorder_layout()

    def _recorder_layout(self) -> None:
        """Where each outcome goes in the recorder's row: looked up once, written every day."""
        geo, index = self.geo, self.recorder.index
        self._row_index = [index[name] for name in STOCKS + FLOWS]
        self._dept_index = np.array([index[f"gang_population_share.{d}"]
                                     for d in geo.department_name])
        self._road_cut_index = np.array([index[f"road_cut.{r}"] for r in geo.roads])
        self._road_share_index = np.array([index[f"road_gang_share.{r}"] for r in geo.roads])
        roads = list(geo.roads.values())
        self._road_cells = np.concatenate(roads)
        self._road_lengths = np.array([len(r) for r in roads], dtype=float)
        self._road_id = np.repeat(np.arange(len(roads)), self._road_lengths.astype(int))
        self._capital_cells = np.flatnonzero(geo.is_capital)

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
        if scenario.start != self.config.start or [
                e for e in scenario.events if e.date < today] != past:
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

        The cell value seen by attackers: residents plus a floor (empty land on the way still
        counts), with multipliers for national roads (checkpoint revenue, cutting the capital
        off) and key sites.
        """
        p, geo = self.p, self.geo
        self.cell_value = 1.0 + p["target_road_value"] * (geo.road_mask > 0)
        self.cell_value[self.key_sites] += p["target_site_value"]
        self.value_floor = p["target_value_floor_residents"]

    # ------------------------------------------------------------------ helpers
    @property
    def day(self) -> int:
        """Index of the day being simulated (0 on the start date)."""
        return self.steps - 1

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        p, cells, s = self.p, self.cells, self.streams
        self.police.step()
        self.army.step()
        self.mission.step()

        kidnappings = gangs.economy(self.gang_state, cells.owner, cells.residents,
                                    self.geo.is_metro, cells.displaced_from, self.road_cells,
                                    self.cargo_cells, p, s["economy"])
        if self.day % 7 == 0:
            gangs.plan(self.gang_state, p)

        self.deployment = dep = combat.deploy(self)
        eng = combat.engage(self, dep, s["combat"])
        deaths = combat.resolve(self, eng, s["combat"])
        deaths["killed_civilians"] += combat.gang_violence(self, s["violence"])
        combat.consolidate(self, dep, s["consolidation"])
        captured = eng.cells[eng.captured & (eng.attacker != combat.STATE)
                             & (eng.defender == combat.STATE)]
        population.step(cells, self.geo, eng.cells, captured, p)

        self.civilians_killed += deaths["killed_civilians"]
        self._record(deaths, kidnappings, len(eng.cells))

    def _record(self, deaths: dict[str, float], kidnappings: float, engagements: int) -> None:
        cells, gs = self.cells, self.gang_state
        row = self.recorder.values[self.day]
        self.capital_gang_share, capital_population, held, residents, displaced, roads_cut = (
            _map_summaries(cells.owner, cells.residents, cells.displaced_from, self.geo.department,
                           self._capital_cells, self._road_cells, self._road_id,
                           self._road_lengths, row, self._dept_index, self._road_cut_index,
                           self._road_share_index))
        killed = sum(deaths.values())
        row[self._row_index] = (  # in the order of outcomes.STOCKS + outcomes.FLOWS
            self.capital_gang_share,
            capital_population,
            held,
            held / residents,
            displaced,
            self.mission.troops,
            self.police.officers,
            self.army.soldiers,
            gs.members.sum(),
            gs.firearms.sum(),
            self.mission.cash_usd,
            roads_cut,
            killed,
            deaths["killed_civilians"],
            deaths["killed_gang"],
            deaths["killed_police"],
            deaths["killed_army"],
            deaths["killed_troops"],
            killed * self.p["injured_per_killed"],
            kidnappings,
            self.mission.spent_usd,
            self.police.spent_usd,
            engagements,
        )

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
def _map_summaries(owner, residents, displaced_from, department, capital_cells, road_cells,
                   road_id, road_lengths, row, dept_index, road_cut_index, road_share_index):
    """The day's map in numbers. Writes the gang share of each department's residents and each
    road's cut and gang share into `row`; returns the gang share of the capital's cells and of
    its residents, residents under gang control, all residents, the displaced, and roads cut."""
    held = displaced = residents_total = 0.0
    n_departments = len(dept_index)
    dept_held, dept_residents = np.zeros(n_departments), np.zeros(n_departments)
    for c in range(len(owner)):
        d = department[c]
        dept_residents[d] += residents[c]
        residents_total += residents[c]
        displaced += displaced_from[c]
        if owner[c] >= 0:
            dept_held[d] += residents[c]
            held += residents[c]
    for d in range(n_departments):
        row[dept_index[d]] = dept_held[d] / max(dept_residents[d], 1e-9)
    cells_held = capital_held = capital_residents = 0.0
    for c in capital_cells:
        capital_residents += residents[c]
        if owner[c] >= 0:
            cells_held += 1
            capital_held += residents[c]
    road_held = np.zeros(len(road_lengths))
    for i in range(len(road_cells)):
        road_held[road_id[i]] += owner[road_cells[i]] >= 0
    roads_cut = 0
    for r in range(len(road_lengths)):
        row[road_cut_index[r]] = road_held[r] > 0
        row[road_share_index[r]] = road_held[r] / road_lengths[r]
        roads_cut += road_held[r] > 0
    return (cells_held / len(capital_cells), capital_held / max(capital_residents, 1.0), held,
            residents_total, displaced, roads_cut)
