"""People: residents who flee fighting and gang rule, where they go, and when they come back.

Per cell the model keeps `residents` (living at home), `displaced_from` (people of this cell living
elsewhere) and `hosted` (displaced people living in this cell). Flight moves people from the first
to the second and places them in safe cells; return moves them back and takes them out of the host
cells in proportion. Civilians killed are taken from residents. So at every step

    sum(residents) + sum(displaced_from) + civilians killed = the initial population,

and sum(hosted) == sum(displaced_from): nobody appears or vanishes (tests check both).
Armed members, police and troops are counted apart from the civilian population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.combat import STATE


@dataclass
class CellState:
    """Everything about a cell that changes during a run."""

    owner: np.ndarray  # gang index, or STATE
    residents: np.ndarray
    displaced_from: np.ndarray
    hosted: np.ndarray
    days_secure: np.ndarray  # consecutive days state-held without an engagement
    cleared_age: np.ndarray  # days since the state last cleared the cell


def place_initial_displaced(cells: CellState, geo, total: float, to_provinces: float) -> None:
    """Start with `total` people already displaced from gang-held capital cells (late 2022)."""
    origin = np.where((cells.owner >= 0) & geo.is_capital, cells.residents, 0.0)
    if total <= 0 or origin.sum() <= 0:
        return
    moved = origin * min(1.0, total / origin.sum())
    cells.residents -= moved
    cells.displaced_from += moved
    _host(cells, geo, moved.sum(), to_provinces)


def _host(cells: CellState, geo, people: float, to_provinces: float) -> None:
    """Spread `people` over safe cells: a share to the provinces, the rest to the metro."""
    safe = cells.owner == STATE
    for share, region in ((to_provinces, ~geo.is_metro), (1 - to_provinces, geo.is_metro)):
        w = np.where(safe & region, cells.residents, 0.0)
        if w.sum() <= 0:  # nowhere safe in this region: send them to the other
            w = np.where(safe, cells.residents, 0.0)
        cells.hosted += people * share * w / w.sum()


def step(cells: CellState, geo, engaged: np.ndarray, captured: np.ndarray,
         p: dict[str, float]) -> None:
    """One day of flight (after engagements and under gang rule) and of return to secure cells.

    An engagement drives out `flee_share_per_engagement` of its cell's residents and half that
    share of each neighbouring cell's: fighting in a street empties the streets around it. A cell
    that a gang takes from the state (`captured`) loses `flee_share_on_capture` of its residents
    besides: most displacement in 2023-24 followed gangs taking over new neighbourhoods (IOM DTM).
    """
    n = len(cells.residents)
    share = p["flee_share_per_engagement"]
    flee = share * np.bincount(engaged, minlength=n)
    flee += 0.5 * share * np.bincount(geo.edge_dst[geo.edges_of(engaged)], minlength=n)
    flee += p["flee_share_on_capture"] * np.bincount(captured, minlength=n)
    flee = np.minimum(flee, 1.0)
    gang_held = cells.owner >= 0  # as a 0/1 factor: cheaper than masked assignment, same values
    flee += gang_held * (1 - flee) * (p["flee_rate_gang_control_per_year"] / 365)
    out = cells.residents * flee
    cells.residents -= out
    cells.displaced_from += out
    if out.sum() > 0:
        # People from the metro split between the provinces and metro sites; elsewhere they go to
        # the nearest safety, which at this resolution is the same split.
        _host(cells, geo, out.sum(), p["flee_to_provinces_share"])

    quiet = (cells.owner == STATE)
    quiet[engaged] = False
    cells.days_secure = np.where(quiet, cells.days_secure + 1, 0)
    cells.cleared_age += 1
    home = cells.days_secure >= p["return_after_days_secure"]
    back = np.where(home, cells.displaced_from * p["return_rate_per_year"] / 365, 0.0)
    total_back = back.sum()
    if total_back > 0:
        cells.displaced_from -= back
        cells.residents += back
        cells.hosted *= 1 - total_back / cells.hosted.sum()
