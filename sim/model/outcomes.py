"""What a run records every simulated day, in preallocated arrays (no per-step allocation).

Stocks (shares, people, troops) are recorded as the state at the end of the day; flows (killed,
kidnapped, money spent, engagements) as the day's amount, so yearly totals are sums. Metric names
are flat strings; per-department and per-road metrics are `name.Department` / `road_cut.RN1`.
The long-form table (scenario, replicate, date, metric, value) that runs and batches write is
built from these arrays by `sim.running.results`.
"""

from __future__ import annotations

import numpy as np

from sim.model.geography import ROAD_NAMES

STOCKS = (
    "capital_gang_share_area", "capital_gang_share_population", "gang_controlled_population",
    "gang_controlled_share_national", "displaced", "troops", "police_officers", "army_soldiers",
    "gang_members", "gang_firearms", "mission_cash_usd", "roads_cut",
)
FLOWS = (
    "killed", "killed_civilians", "killed_gang", "killed_police", "killed_army", "killed_troops",
    "injured", "kidnappings", "spent_mission_usd", "spent_police_usd", "engagements",
)


def metric_names(department_names) -> tuple[str, ...]:
    return (STOCKS + FLOWS + tuple(f"gang_population_share.{d}" for d in department_names)
            + tuple(f"road_cut.{r}" for r in ROAD_NAMES)
            + tuple(f"road_gang_share.{r}" for r in ROAD_NAMES))


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
