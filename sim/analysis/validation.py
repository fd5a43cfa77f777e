"""The observed record the model is checked against, and the same figures read off model runs.

Each target is a figure from `sim/data/observed/` (where each row keeps its full source), chosen
because the historical scenario can produce it: the share of the capital under gang control,
displacement, police strength, yearly killings and kidnappings, and gangs on RN1 in Lower
Artibonite. The documentation's validation table (`scripts/update_docs.py`) and the app's
validation page both read them from here, so the two cannot drift; calibration will too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

D = dt.date


@dataclass(frozen=True)
class Observed:
    """One observed figure. A stock is the state on `when` (a date); a flow is the total over
    the calendar year `when`. `shown` is the figure as the source gives it, `value` a number
    to plot or fit against (None where the source gives no usable number)."""

    label: str
    metric: str
    when: dt.date | int
    shown: str
    value: float | None
    source: str
    share: bool = False  # a share (shown as a percentage) rather than a count

    def simulated(self, values: np.ndarray, names: list[str], start: dt.date) -> np.ndarray:
        """This figure in runs: `values` is (replicate, day, metric), day 0 on `start`."""
        column = values[:, :, names.index(self.metric)]
        if isinstance(self.when, dt.date):
            return column[:, (self.when - start).days]
        first, last = (D(self.when, 1, 1) - start).days, (D(self.when + 1, 1, 1) - start).days
        return column[:, first:last].sum(axis=1)


STOCKS = (
    Observed("Capital under gang control, by area", "capital_gang_share_area", D(2023, 1, 21),
             "60%", 0.60, "UN estimate, AP 21 Jan 2023", share=True),
    Observed("Capital under gang control, by area", "capital_gang_share_area", D(2023, 5, 18),
             "~80%", 0.80, "UN, WION 18 May 2023", share=True),
    Observed("Capital under gang control, by area", "capital_gang_share_area", D(2023, 9, 15),
             "80%", 0.80, "UN Panel of Experts S/2023/674", share=True),
    Observed("Capital under gang control, by area", "capital_gang_share_area", D(2024, 1, 15),
             "80%", 0.80, "BINUH, UNSC Jan 2024", share=True),
    Observed("Capital under gang control, by area", "capital_gang_share_area", D(2024, 9, 15),
             "80-90%", 0.85, "OHCHR Sep 2024", share=True),
    Observed("Capital under gang control, by population", "capital_gang_share_population",
             D(2024, 9, 15), "80-90%", 0.85,
             "OHCHR Sep 2024 (share of the capital, basis not stated)", share=True),
    Observed("Displaced people", "displaced", D(2023, 6, 30), ">165,000", 165_000,
             "IOM, Jun 2023"),
    Observed("Displaced people", "displaced", D(2023, 12, 31), "313,901", 313_901,
             "IOM DTM, Jan 2024"),
    Observed("Displaced people", "displaced", D(2024, 6, 30), "578,074", 578_074,
             "IOM DTM round 7"),
    Observed("Displaced people", "displaced", D(2024, 9, 30), "702,973", 702_973,
             "IOM DTM round 8"),
    Observed("Displaced people", "displaced", D(2024, 12, 31), "1,041,000", 1_041_000,
             "IOM, 14 Jan 2025"),
    Observed("Police officers", "police_officers", D(2023, 12, 31), "13,196", 13_196,
             "BINUH/SG, Jan 2024"),
)
FLOWS = (
    Observed("Killed in 2023 (all sides)", "killed", 2023, "4,789", 4_789,
             "SG report S/2024/62"),
    Observed("Killed in 2024 (all sides)", "killed", 2024, "5,601", 5_601, "OHCHR, 7 Jan 2025"),
    Observed("Kidnapped in 2023", "kidnappings", 2023, "2,490", 2_490, "SG report S/2024/62"),
    Observed("Kidnapped in 2024", "kidnappings", 2024, "1,494", 1_494, "BINUH Q4 2024"),
)

# Gangs on RN1 in Lower Artibonite: reported as control of the road along ~80 km, with no share
# to compare, so the check is the model's share of those road cells held by gangs on that date.
RN1_ARTIBONITE = Observed("Share of RN1 cells in Artibonite held by gangs", "", D(2023, 11, 28),
                          "gangs control RN1 along ~80 km", None,
                          "BINUH/OHCHR report on Lower Artibonite, Nov 2023", share=True)


def rn1_artibonite_share(held: np.ndarray, geo) -> np.ndarray:
    """Share of the RN1 cells in Artibonite that gangs hold: `held` is True where a gang holds
    a cell of `geo` (cells, or replicates x cells: one share per replicate)."""
    road = geo.roads["RN1"]
    in_artibonite = road[geo.department[road] == geo.department_index("Artibonite")]
    return np.asarray(held, dtype=bool)[..., in_artibonite].mean(axis=-1)
