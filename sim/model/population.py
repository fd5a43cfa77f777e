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

from typing import NamedTuple

import numpy as np

from sim.model.combat import STATE, taken_from_state
from sim.model.jit import kernel


class CellState(NamedTuple):
    """Everything about a cell that changes during a run, as arrays indexed by cell.

    A record the compiled kernels take whole: the arrays are changed in place, never replaced.
    """

    owner: np.ndarray  # gang index, or STATE; changed only through `combat.set_owner`
    border: np.ndarray  # neighbours held by another owner (`combat.border_counts`)
    residents: np.ndarray
    displaced_from: np.ndarray
    hosted: np.ndarray
    days_secure: np.ndarray  # consecutive days state-held without an engagement
    claimant: np.ndarray  # the gang the state took the cell from, or -1 (`combat.consolidate`)
    killed_by_gangs: np.ndarray  # civilians gangs killed there today (`combat.gang_violence`)
    held_days: np.ndarray  # days in a row the state's own garrison has held it fully
    alarm: np.ndarray  # 1 the day gangs take a neighbour from the state (and before the
    # self-defence movement starts), fading (`combat.self_defence`)


def place_initial_displaced(cells: CellState, geo, total: float, to_provinces: float) -> None:
    """Start with `total` people already displaced from gang-held capital cells (late 2022)."""
    origin = np.where((cells.owner >= 0) & geo.is_capital, cells.residents, 0.0)
    if total <= 0 or origin.sum() <= 0:
        return
    moved = origin * min(1.0, total / origin.sum())
    cells.residents[:] -= moved
    cells.displaced_from[:] += moved
    _host(cells.owner, cells.residents, cells.hosted, geo.is_metro, moved.sum(), to_provinces)


@kernel
def _host(owner, residents, hosted, is_metro, people, to_provinces):
    """Spread `people` over safe cells in proportion to their residents: a share to the
    provinces, the rest to the metro (all to the other if one has no safe cell)."""
    safe_metro = safe_provinces = 0.0
    for c in range(len(owner)):
        if owner[c] == STATE:
            if is_metro[c]:
                safe_metro += residents[c]
            else:
                safe_provinces += residents[c]
    if safe_metro + safe_provinces <= 0:
        return
    if safe_provinces <= 0:
        to_provinces = 0.0
    elif safe_metro <= 0:
        to_provinces = 1.0
    per_metro = people * (1 - to_provinces) / safe_metro if safe_metro > 0 else 0.0
    per_provinces = people * to_provinces / safe_provinces if safe_provinces > 0 else 0.0
    for c in range(len(owner)):
        if owner[c] == STATE:
            hosted[c] += residents[c] * (per_metro if is_metro[c] else per_provinces)


class Rates(NamedTuple):
    """Flight and return per day, built from the parameters by `rates` when one changes."""

    flee_share_per_engagement: float
    flee_neighbour_share: float
    flee_share_on_capture: float
    flee_per_killed: float
    gang_rule_flight_share: float
    to_provinces_share: float
    return_after_days_secure: float
    return_share: float


def rates(p: dict[str, float]) -> Rates:
    return Rates(
        flee_share_per_engagement=p["flee_share_per_engagement"],
        flee_neighbour_share=p["flee_neighbour_share"],
        flee_share_on_capture=p["flee_share_on_capture"],
        flee_per_killed=p["flee_per_civilian_killed"],
        gang_rule_flight_share=p["flee_rate_gang_control_per_year"] / 365,
        to_provinces_share=p["flee_to_provinces_share"],
        return_after_days_secure=p["return_after_days_secure"],
        return_share=p["return_rate_per_year"] / 365,
    )


@kernel
def step(cells, world, rates, eng) -> float:
    """One day of flight (after engagements and under gang rule) and of return to secure cells.

    An engagement drives out `flee_share_per_engagement` of its cell's residents and
    `flee_neighbour_share` of that share of each neighbouring cell's: fighting in a street empties
    the streets around it. A cell that a gang takes from the state (in `eng`, the day's
    `combat.Engagements`) loses `flee_share_on_capture` of its residents besides: most
    displacement in 2023-24 followed gangs taking over new neighbourhoods (IOM DTM). Killings
    outside engagements drive people out too: `flee_per_civilian_killed` flee a cell for each
    civilian gangs kill there (a massacre empties a neighbourhood: Pont-Sonde, Oct 2024).
    People under gang rule leave at `flee_rate_gang_control_per_year`. The displaced go home at
    `return_rate_per_year` once their cell has been state-held without fighting for
    `return_after_days_secure` days, and leave their host cells in proportion.

    Secondary displacement: the displaced a cell hosts flee its fighting and killings in the same
    share as its residents, and all of them leave a cell a gang holds (they fled gangs once, and
    own nothing there to stay for; IOM: "many displaced multiple times", sites emptied by
    attacks). They are hosted again like new flight, so they stay displaced from their home
    cells; returns the number displaced again today.
    """
    owner, residents, displaced_from, hosted = (cells.owner, cells.residents,
                                                cells.displaced_from, cells.hosted)
    days_secure, is_metro = cells.days_secure, world.is_metro
    edge_ptr, edge_dst, engaged = world.edge_ptr, world.edge_dst, eng.cells
    share, neighbour_share = rates.flee_share_per_engagement, rates.flee_neighbour_share
    gang_rule_rate, to_provinces = rates.gang_rule_flight_share, rates.to_provinces_share
    n = len(owner)
    flee = np.zeros(n)
    for c in engaged:
        flee[c] += share
        for e in range(edge_ptr[c], edge_ptr[c + 1]):
            flee[edge_dst[e]] += neighbour_share * share
    for k in range(len(engaged)):
        if taken_from_state(eng, k):
            flee[engaged[k]] += rates.flee_share_on_capture
    for c in range(n):
        if cells.killed_by_gangs[c] > 0 and residents[c] > 0:
            flee[c] += rates.flee_per_killed * cells.killed_by_gangs[c] / residents[c]
    # One pass for flight, one for hosting and return (`_host`, inlined, and the return rule):
    # the hosting of cell c reads only cell c's residents, before its own returns.
    out_total = safe_metro = safe_provinces = again = 0.0
    for c in range(n):
        f = min(flee[c], 1.0)
        moved = hosted[c] * (1.0 if owner[c] >= 0 else f)
        hosted[c] -= moved
        again += moved
        if owner[c] >= 0:
            f += (1 - f) * gang_rule_rate
        out = residents[c] * f
        residents[c] -= out
        displaced_from[c] += out
        out_total += out
        if owner[c] == STATE:
            if is_metro[c]:
                safe_metro += residents[c]
            else:
                safe_provinces += residents[c]
    # People from the metro split between the provinces and metro sites; elsewhere they go to
    # the nearest safety, which at this resolution is the same split.
    out_total += again
    per_metro = per_provinces = 0.0
    if out_total > 0 and safe_metro + safe_provinces > 0:
        if safe_provinces <= 0:
            to_provinces = 0.0
        elif safe_metro <= 0:
            to_provinces = 1.0
        per_metro = out_total * (1 - to_provinces) / safe_metro if safe_metro > 0 else 0.0
        per_provinces = (out_total * to_provinces / safe_provinces if safe_provinces > 0
                         else 0.0)
    for c in engaged:
        days_secure[c] = -1  # not quiet today
    back_total = hosted_total = 0.0
    for c in range(n):
        if owner[c] == STATE:
            hosted[c] += residents[c] * (per_metro if is_metro[c] else per_provinces)
        hosted_total += hosted[c]
        days_secure[c] = days_secure[c] + 1 if owner[c] == STATE and days_secure[c] >= 0 else 0
        if days_secure[c] >= rates.return_after_days_secure and displaced_from[c] > 0:
            back = displaced_from[c] * rates.return_share
            displaced_from[c] -= back
            residents[c] += back
            back_total += back
    if back_total > 0 and hosted_total > 0:
        hosted *= 1 - back_total / hosted_total
    return again
