"""The map of Haiti the model runs on: land cells with population, administrative tags, roads.

The shipped file `sim/data/geography.npz` is built from the OCHA / CNIGS boundaries and the
IHSI / UNFPA population by `scripts/build_geography.py` (see sim/data/SOURCES.md). Cells are ~1 km2
in the Port-au-Prince metro, where the UN measures gang control as a share of the capital, and
~25 km2 blocks cut by communal section elsewhere, which keeps a two-year run cheap.

The model only reads this object; it holds no state that changes during a run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

import numpy as np

ROAD_NAMES = ("RN1", "RN2", "RN3", "RN8")


@dataclass(frozen=True, eq=False)
class Geography:
    lon: np.ndarray
    lat: np.ndarray
    area_km2: np.ndarray
    population: np.ndarray
    section: np.ndarray
    commune: np.ndarray
    department: np.ndarray
    is_metro: np.ndarray
    is_capital: np.ndarray
    road_mask: np.ndarray
    bounds: np.ndarray  # (n, 4): lon_min, lon_max, lat_min, lat_max, to draw cells as rectangles
    edge_src: np.ndarray  # directed adjacency, both directions present, sorted by source
    edge_dst: np.ndarray
    edge_ptr: np.ndarray  # edges of cell c are edge_ptr[c]:edge_ptr[c + 1]
    edge_reverse: np.ndarray  # index of the edge (b -> a) for each edge (a -> b)
    commune_pcode: np.ndarray
    commune_name: np.ndarray
    commune_department: np.ndarray
    department_pcode: np.ndarray
    department_name: np.ndarray
    roads: dict[str, np.ndarray]  # ordered cells from the capital outward
    place_name: np.ndarray
    place_kind: np.ndarray
    place_cell: np.ndarray
    national_population: float
    attribution: str

    def __deepcopy__(self, memo) -> Geography:
        """Shared, not copied: the map is read-only, and a forked model needs no copy of it."""
        return self

    @property
    def n_cells(self) -> int:
        return len(self.lon)

    def edges_of(self, cells: np.ndarray) -> np.ndarray:
        """Indices of the edges leaving `cells` (vectorised concatenation of their CSR ranges)."""
        starts = self.edge_ptr[cells]
        counts = self.edge_ptr[cells + 1] - starts
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
        return offsets + np.arange(counts.sum())

    def cells_of_kind(self, kind: str) -> np.ndarray:
        return self.place_cell[self.place_kind == kind]

    def distance_km(self, lon: float, lat: float) -> np.ndarray:
        """Every cell centre's distance from a point, in km (flat Earth: Haiti is ~300 km wide,
        and the model compares distances within a few tens of km)."""
        return np.hypot((self.lon - lon) * 111.32 * np.cos(np.radians(lat)),
                        (self.lat - lat) * 110.57)

    def nearest_cell(self, lon: float, lat: float) -> int:
        """The cell whose centre is nearest a point."""
        return int(np.argmin(self.distance_km(lon, lat)))

    def department_index(self, name: str) -> int:
        return int(np.flatnonzero(self.department_name == name)[0])


class World(NamedTuple):
    """The map as the compiled kernels read it: the cell graph, and what the model derives from
    the map (regions, key sites, the cells that pay tolls and cargo, each cell's value to an
    attacker and what holding it takes). Built by the model; `cell_value` and `hold_weight`
    follow the parameters (`HaitiModel.derive`)."""

    edge_ptr: np.ndarray  # edges of cell c are edge_ptr[c]:edge_ptr[c + 1]
    edge_dst: np.ndarray
    is_metro: np.ndarray
    region: np.ndarray  # per cell: `combat.METRO`, `ARTIBONITE` or `REST`
    region_population: np.ndarray  # 2019 population of each region
    key_sites: np.ndarray  # cells the army guards (airport, seaport, downtown)
    road_cells: np.ndarray  # cells on a national road (tolls)
    cargo_cells: np.ndarray  # the seaport and RN8 to Malpasse (cargo extortion)
    cell_value: np.ndarray  # multiplier of a cell's residents in its value to an attacker
    hold_weight: np.ndarray  # a resident's weight in holding the cell (`gangs.hold_weights`)


@functools.cache
def load() -> Geography:
    """Load the shipped geography once per process (it is read-only)."""
    with resources.files("sim.data").joinpath("geography.npz").open("rb") as fh:
        z = dict(np.load(fh, allow_pickle=False))
    ptr, idx = z["nbr_ptr"], z["nbr_idx"]
    n = len(ptr) - 1
    src = np.repeat(np.arange(n, dtype=np.int32), np.diff(ptr))
    key = src.astype(np.int64) * n + idx
    order = np.argsort(key)
    reverse = order[np.searchsorted(key, idx.astype(np.int64) * n + src, sorter=order)]
    rptr, ridx = z["road_cells_ptr"], z["road_cells_idx"]
    roads = {str(name): ridx[rptr[i]:rptr[i + 1]] for i, name in enumerate(z["road_names"])}
    for array in z.values():
        array.setflags(write=False)
    return Geography(
        lon=z["lon"], lat=z["lat"], area_km2=z["area_km2"], population=z["population"],
        section=z["section"], commune=z["commune"], department=z["department"],
        is_metro=z["is_metro"], is_capital=z["is_capital"], road_mask=z["road"],
        bounds=np.stack([z["lon_min"], z["lon_max"], z["lat_min"], z["lat_max"]], axis=1),
        edge_src=src, edge_dst=idx.astype(np.int32), edge_ptr=ptr.astype(np.int64),
        edge_reverse=reverse,
        commune_pcode=z["commune_pcode"], commune_name=z["commune_name"],
        commune_department=z["commune_department"],
        department_pcode=z["department_pcode"], department_name=z["department_name"],
        roads=roads, place_name=z["place_name"], place_kind=z["place_kind"],
        place_cell=z["place_cell"], national_population=float(z["national_population"]),
        attribution=str(z["attribution"]),
    )
