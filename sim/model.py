"""The Haiti model: the world, the agents and the daily schedule.

One step is one day. The schedule of a day, in order:

1. scenario events due today change parameters (Mesa scheduled events, before the step);
2. forces: police and army intake and attrition, the mission deploys or withdraws and spends;
3. gang economy: income, upkeep, firearms, recruitment (vectorised over groups); once a week each
   group decides its posture (`Gang.plan`);
4. deployment of the state's forces on the map, then engagements (gang attacks, state operations)
   and their outcomes; one-sided gang violence;
5. consolidation: unheld cleared ground reverts, overstretched gangs let go;
6. people flee engagements and gang rule, or return to cells secure long enough;
7. outcomes are recorded.

Randomness comes from independent streams spawned from the seed, one per process (setup, economy,
combat, violence, consolidation), so a change in one process does not reshuffle the draws of the
others; this is what keeps paired comparisons of scenarios tight (common random numbers).
The model does no I/O and knows nothing of files or user interfaces.
"""

from __future__ import annotations

import copy
import datetime as dt

import mesa
import numpy as np

from sim import combat, gangs, geography, population
from sim.gangs import Gang
from sim.mission import Mission
from sim.outcomes import FLOWS, STOCKS, Recorder
from sim.population import CellState
from sim.scenario import Event, Scenario, apply_event
from sim.security_forces import Army, Police

STREAMS = ("setup", "economy", "combat", "violence", "consolidation")

# Cell value seen by attackers: residents plus a floor, so empty land on the way still counts, and
# multipliers for national roads (checkpoint revenue, cutting the capital off) and key sites.
VALUE_FLOOR_RESIDENTS = 500.0
ROAD_VALUE = 2.0
SITE_VALUE = 5.0


class ParameterChange:
    """A scheduled event callback (Mesa keeps only a weak reference; the model holds these)."""

    def __init__(self, model: HaitiModel, event: Event):
        self.model, self.event = model, event

    def __call__(self) -> None:
        self.model.p[self.event.name] = apply_event(self.model.p, self.event)


class HaitiModel(mesa.Model):
    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.seed if seed is None else seed
        super().__init__(rng=seed)
        self.config = scenario
        self.seed_value = seed
        self.p = dict(scenario.parameters)
        self.geo = geo = geography.load()
        self.streams = dict(zip(STREAMS, (np.random.default_rng(s) for s in
                                          np.random.SeedSequence(seed).spawn(len(STREAMS))),
                                strict=True))

        self.metro_region, self.artibonite_region = 0, 1
        artibonite = geo.department == geo.department_index("Artibonite")
        self.region = np.where(geo.is_metro, 0, np.where(artibonite, 1, 2)).astype(np.int32)
        self.region_population = np.bincount(self.region, geo.population)
        self.key_sites = np.unique(np.concatenate([geo.cells_of_kind(k)
                                                   for k in combat.KEY_SITE_KINDS]))
        self.cell_value = 1.0 + ROAD_VALUE * (geo.road_mask > 0)
        self.cell_value[self.key_sites] += SITE_VALUE
        self.value_floor = VALUE_FLOOR_RESIDENTS
        self.road_cells = np.flatnonzero(geo.road_mask > 0)
        self.cargo_cells = np.unique(np.concatenate([geo.cells_of_kind("seaport"),
                                                     geo.roads["RN8"]]))

        self.gang_state = gangs.create(self, geo, self.p, self.streams["setup"])
        self.gangs = self.agents_by_type[Gang]
        owner = gangs.initial_territory(geo, sorted(self.gangs, key=lambda g: g.index),
                                        self.gang_state.members, self.p)
        n = geo.n_cells
        self.cells = CellState(owner=owner, residents=geo.population.copy(),
                               displaced_from=np.zeros(n), hosted=np.zeros(n),
                               days_secure=np.zeros(n, np.int32),
                               cleared_age=np.full(n, 10**6, np.int64))
        self.frontier = combat.Frontier(geo, self.cells.owner)
        population.place_initial_displaced(self.cells, geo, self.p["initial_displaced"],
                                           self.p["flee_to_provinces_share"])
        self.initial_population = float(geo.population.sum())
        self.civilians_killed = 0.0

        self.police = Police(self, self.p["police_officers"])
        self.army = Army(self, self.p["army_soldiers"])
        self.mission = Mission(self)
        self.capital_gang_share = self._capital_share()
        self.deployment: combat.Deployment | None = None

        self._scheduled = []
        self._schedule(scenario.events)
        self.recorder = Recorder(scenario.days, geo.department_name)
        self._recorder_layout()

    def _recorder_layout(self) -> None:
        """Where each outcome goes in the recorder's row: looked up once, written every day."""
        geo, index = self.geo, self.recorder.index
        self._row_index = [index[name] for name in STOCKS + FLOWS]
        self._dept_index = [index[f"gang_population_share.{d}"] for d in geo.department_name]
        self._road_cut_index = [index[f"road_cut.{r}"] for r in geo.roads]
        self._road_share_index = [index[f"road_gang_share.{r}"] for r in geo.roads]
        roads = list(geo.roads.values())
        self._road_cells = np.concatenate(roads)
        self._road_lengths = np.array([len(r) for r in roads], dtype=float)
        self._road_starts = np.concatenate([[0], np.cumsum(self._road_lengths)[:-1]]).astype(int)
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

    # ------------------------------------------------------------------ helpers
    def police_region_share(self) -> np.ndarray:
        """Share of operational police in each region: the metro's share, the rest by population."""
        rest = self.region_population.copy()
        rest[self.metro_region] = 0
        share = (1 - self.p["police_share_capital"]) * rest / rest.sum()
        share[self.metro_region] = self.p["police_share_capital"]
        return share

    def control_load(self) -> np.ndarray:
        return gangs.control_load(self.cells.residents, self.geo.is_metro, self.p)

    def _capital_share(self) -> float:
        return float(np.mean(self.cells.owner[self.geo.is_capital] >= 0))

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
                                    self.control_load(), cells.displaced_from, self.road_cells,
                                    self.cargo_cells, p, s["economy"])
        if self.day % 7 == 0:
            self.gangs.do("plan")

        self.deployment = dep = combat.deploy(self)
        eng = combat.engage(self, dep, s["combat"])
        deaths = combat.resolve(self, eng, s["combat"])
        deaths["killed_civilians"] += combat.gang_violence(self, s["violence"])
        combat.consolidate(self, dep, s["consolidation"])
        captured = eng.cells[eng.captured & (eng.attacker != combat.STATE)
                             & (eng.defender == combat.STATE)]
        population.step(cells, self.geo, eng.cells, captured, p)

        self.civilians_killed += deaths["killed_civilians"]
        self.capital_gang_share = self._capital_share()
        self._record(deaths, float(kidnappings.sum()), len(eng.cells))

    def _record(self, deaths: dict[str, float], kidnappings: float, engagements: int) -> None:
        geo, cells, gs = self.geo, self.cells, self.gang_state
        held = cells.owner >= 0
        residents_held = cells.residents * held
        n_dept = len(geo.department_name)
        dept_share = (np.bincount(geo.department, residents_held, minlength=n_dept)
                      / np.maximum(np.bincount(geo.department, cells.residents, minlength=n_dept),
                                   1e-9))
        on_road = held[self._road_cells]
        road_held = np.add.reduceat(on_road, self._road_starts)
        road_cut = road_held > 0
        capital = self._capital_cells
        total_held = residents_held.sum()
        killed = sum(deaths.values())
        row = self.recorder.values[self.day]
        row[self._row_index] = (  # in the order of outcomes.STOCKS + outcomes.FLOWS
            self.capital_gang_share,
            residents_held[capital].sum() / max(cells.residents[capital].sum(), 1.0),
            total_held,
            total_held / cells.residents.sum(),
            cells.displaced_from.sum(),
            self.mission.troops,
            self.police.officers,
            self.army.soldiers,
            gs.members.sum(),
            gs.firearms.sum(),
            self.mission.cash_usd,
            road_cut.sum(),
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
        row[self._dept_index] = dept_share
        row[self._road_cut_index] = road_cut
        row[self._road_share_index] = road_held / self._road_lengths

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
