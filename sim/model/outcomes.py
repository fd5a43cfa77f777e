"""Every outcome a run records, declared once, and the preallocated arrays it is recorded in.

The catalogue is the one place an outcome is described: its name, label, unit, whether it is a
stock or a flow, which direction is good, and how its values are shown. Recorded metrics are
`RECORDED`; the per-department and per-road metrics are `FAMILIES`, one declaration for all their
members (`gang_population_share.Ouest`, `road_cut.RN1`); outcomes that add recorded metrics up
(money spent on the mission and on the police) are `COMPOSITES`, whose unit and kind are taken
from their parts. Tables, charts, the CSV, the report and the app look an outcome up with `get`,
so none of them repeats a label, a unit or a direction.

Stocks (shares, people, troops) are recorded as the state at the end of the day; flows (killed,
kidnapped, money spent, engagements) as the day's amount, so yearly totals are sums. The model
writes a day's stocks then flows in the order of `STOCKS + FLOWS`; the long-form table (scenario,
replicate, date, metric, value) that runs and batches write is built from these arrays by
`sim.running.results`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.geography import ROAD_NAMES

# What can hold the mission's troops on a day (`sim.model.mission`, which records the one that
# does): declared here, with the outcome, so that reading results never imports the model.
TROOP_LIMITS = ("target", "ceiling", "money", "pace")

LOWER, HIGHER, NEUTRAL = "lower", "higher", "neutral"  # which direction of change is good
PERCENT, COUNT, USD = "percent", "count", "usd"  # how values are shown


@dataclass(frozen=True)
class Outcome:
    """One outcome. `parts` are the recorded metrics a composite adds up; a recorded metric is
    its own single part. `better` is NEUTRAL where more or less is a matter of view (troops,
    money), not a judgement the tool should make for the analyst."""

    name: str
    label: str
    unit: str
    flow: bool
    better: str
    display: str
    parts: tuple[str, ...] = ()

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.parts or (self.name,)

    def show(self, value: float | None, signed: bool = False) -> str:
        return show(value, self.display, signed)


@dataclass(frozen=True)
class Family:
    """Metrics recorded once per department or road: `label` has a `{}` for the member."""

    prefix: str
    label: str
    unit: str
    better: str
    display: str

    def names(self, members) -> tuple[str, ...]:
        return tuple(f"{self.prefix}.{m}" for m in members)

    def member(self, member: str) -> Outcome:
        return Outcome(f"{self.prefix}.{member}", self.label.format(member), self.unit, False,
                       self.better, self.display)


def _stock(name, label, unit, better, display=COUNT) -> Outcome:
    return Outcome(name, label, unit, False, better, display)


def _flow(name, label, unit, better, display=COUNT) -> Outcome:
    return Outcome(name, label, unit, True, better, display)


RECORDED = (
    _stock("capital_gang_share_area", "Gang-held share of Port-au-Prince (area)",
           "share of the capital's cells", LOWER, PERCENT),
    _stock("capital_gang_share_population", "Gang-held share of Port-au-Prince (residents)",
           "share of the capital's residents", LOWER, PERCENT),
    _stock("gang_controlled_population", "People living under gang control", "people", LOWER),
    _stock("gang_controlled_share_national", "Share of Haitians living under gang control",
           "share of residents", LOWER, PERCENT),
    _stock("displaced", "Displaced people", "people", LOWER),
    _stock("displaced_in_provinces_share", "Share of the displaced living outside the capital",
           "share of the displaced", NEUTRAL, PERCENT),
    _stock("troops", "Troops of the international mission", "troops", NEUTRAL),
    _stock("police_officers", "Police officers", "officers", HIGHER),
    _stock("army_soldiers", "Army soldiers", "soldiers", HIGHER),
    _stock("gang_members", "Armed gang members", "gang members", LOWER),
    _stock("gang_firearms", "Gang firearms", "firearms", LOWER),
    _stock("mission_cash_usd", "Cash held by the mission", "USD", NEUTRAL, USD),
    _stock("roads_cut", "National roads cut by gangs", "roads", LOWER),
    _flow("killed", "People killed", "people", LOWER),
    _flow("killed_civilians", "Civilians killed", "people", LOWER),
    _flow("killed_gang", "Gang members killed", "people", NEUTRAL),
    _flow("killed_police", "Police officers killed", "people", LOWER),
    _flow("killed_army", "Soldiers killed", "people", LOWER),
    _flow("killed_troops", "Mission troops killed", "people", LOWER),
    # BINUH counts apart the deaths of "law enforcement operations" (gang members, bystanders)
    _flow("killed_in_state_operations", "Killed in the state's operations (gang members and "
          "bystanders)", "people", NEUTRAL),
    _flow("killed_by_self_defence", "Killed by self-defence brigades (lynchings)", "people",
          LOWER),
    _flow("killed_in_drone_operations", "Killed in the task force's drone operations (gang "
          "members and bystanders)", "people", NEUTRAL),
    _flow("injured", "People injured", "people", LOWER),
    _flow("kidnappings", "Kidnappings", "people", LOWER),
    _flow("spent_mission_usd", "Spent on the mission", "USD", NEUTRAL, USD),
    _flow("spent_police_usd", "Spent on police pay", "USD", NEUTRAL, USD),
    _flow("engagements", "Cells fought over", "cells", NEUTRAL),
    _flow("displaced_again", "Displaced people who fled again (from where they had found "
          "refuge)", "people", LOWER),
)
DEPARTMENT_SHARE = Family("gang_population_share", "Share of {}'s residents under gang control",
                          "share of residents", LOWER, PERCENT)
ROAD_CUT = Family("road_cut", "{} cut by gangs (1 if any of its cells is gang-held)", "roads",
                  LOWER, COUNT)
ROAD_GANG_SHARE = Family("road_gang_share", "Share of {}'s cells held by gangs",
                         "share of the road's cells", LOWER, PERCENT)
# 1 on the days that constraint holds the mission's troops (`TROOP_LIMITS`):
# over replicates, the share of runs it binds in.
TROOPS_LIMIT = Family("troops_limited_by", "Troops held by the {} (share of runs)",
                      "share of runs", NEUTRAL, PERCENT)
FAMILIES = (DEPARTMENT_SHARE, ROAD_CUT, ROAD_GANG_SHARE, TROOPS_LIMIT)

STOCKS = tuple(o.name for o in RECORDED if not o.flow)
FLOWS = tuple(o.name for o in RECORDED if o.flow)
_RECORDED = {o.name: o for o in RECORDED}


def _composite(name: str, label: str, *parts: str) -> Outcome:
    """The sum of recorded metrics that share a unit, a kind, a direction and a display."""
    kinds = {(p.unit, p.flow, p.better, p.display) for p in map(_RECORDED.__getitem__, parts)}
    if len(kinds) != 1:
        raise ValueError(f"{name}: its parts {parts} differ in unit, kind or direction")
    unit, flow, better, display = kinds.pop()
    return Outcome(name, label, unit, flow, better, display, parts)


COMPOSITES = (
    _composite("spent_usd", "Money spent on the mission and police pay", "spent_mission_usd",
               "spent_police_usd"),
)
_DECLARED = _RECORDED | {o.name: o for o in COMPOSITES}
_FAMILIES = {f.prefix: f for f in FAMILIES}


def get(name: str) -> Outcome:
    """The declaration of a recorded metric, a family's member or a composite, by name."""
    if name in _DECLARED:
        return _DECLARED[name]
    prefix, dot, member = name.partition(".")
    if dot and prefix in _FAMILIES:
        return _FAMILIES[prefix].member(member)
    raise KeyError(f"no outcome is declared as '{name}'")


def show(value: float | None, display: str, signed: bool = False) -> str:
    """A value for people to read; a difference (`signed`) of shares is in percentage points."""
    if value is None or not np.isfinite(value):
        return "-"
    if display == PERCENT:
        return f"{value * 100:+.1f} pp" if signed else f"{value * 100:.1f}%"
    sign = "-" if value < 0 else ("+" if signed else "")
    return f"{sign}{'$' if display == USD else ''}{_human(abs(value))}"


def _human(size: float) -> str:
    if size >= 1e9:
        return f"{size / 1e9:.2f} bn"
    if size >= 1e6:
        return f"{size / 1e6:.2f} M"
    return f"{size:,.0f}"


def metric_names(department_names) -> tuple[str, ...]:
    return (STOCKS + FLOWS + DEPARTMENT_SHARE.names(department_names)
            + ROAD_CUT.names(ROAD_NAMES) + ROAD_GANG_SHARE.names(ROAD_NAMES)
            + TROOPS_LIMIT.names(TROOP_LIMITS))


class Recorder:
    """Holds one row per day for every metric."""

    def __init__(self, days: int, department_names):
        self.names = metric_names(department_names)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.values = np.zeros((days, len(self.names)))
        self.departments = tuple(department_names)

    def series(self, name: str) -> np.ndarray:
        return self.values[:, self.index[name]]

    def is_flow(self, name: str) -> bool:
        return name in FLOWS
