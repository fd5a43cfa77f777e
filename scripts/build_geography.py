"""Build the compact geography that haiti-sim ships and loads at run time.

Reads the OCHA / CNIGS administrative boundaries (COD-AB) and the IHSI/UNFPA 2019 section
populations, and writes:

* ``sim/data/geography.npz``: the model's cells with their population, administrative units,
  adjacency, roads and named places, plus the section / commune / department tables;
* ``sim/data/map/{departments,communes}.geojson``: simplified boundaries for display.

Why this design. UN reporting measures gang control as a share of the Port-au-Prince metro, so
the model must resolve neighbourhoods there, while the rest of the country only needs to be
coarse enough to run fast. Cells are therefore built from one fine lattice of points (about
1 km apart): in the nine communes of the Zone Métropolitaine each lattice point is a cell;
elsewhere a cell is the set of points of one 5 x 5 block that fall in one communal section, so
that every cell still belongs to exactly one section, commune and department. Population is
spread over the points of each section, following a negative-exponential density gradient
around downtown Port-au-Prince inside the metro (Clark 1951), in lieu of a population raster.

Shapely is needed only here: the outputs are plain numpy arrays and GeoJSON.

Usage: python scripts/build_geography.py [--source DIR]
"""

import argparse
import csv
import json
import math
from collections import deque
from itertools import pairwise
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping, shape

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "sim" / "data"
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "haiti"

# IHSI's later national figure; the 2019 table (12.89 M) is rescaled to it.
NATIONAL_POPULATION = 11_900_000.0
LATTICE_DLON = 0.0095  # about 1.0 km at 18.5 N
LATTICE_DLAT = 0.009  # about 1.0 km
COARSE_BLOCK = 5
METRO_COMMUNES = (
    "HT0111",  # Port-au-Prince
    "HT0112",  # Delmas
    "HT0113",  # Carrefour
    "HT0114",  # Pétion-Ville
    "HT0115",  # Kenscoff
    "HT0116",  # Gressier
    "HT0117",  # Cité Soleil
    "HT0118",  # Tabarre
    "HT0131",  # Croix-des-Bouquets
)
DOWNTOWN_LAT, DOWNTOWN_LON = 18.5430, -72.3390  # Champ de Mars
DENSITY_SCALE_KM = 4.0
CAPITAL_MIN_DENSITY = 2000.0  # people per km2
ROAD_SAMPLE_KM = 0.2
KM_PER_DEG = 2 * math.pi * 6371.0088 / 360  # spherical Earth: ample for 1 km cells
COMMUNE_TOLERANCE = 0.003  # degrees
DEPARTMENT_TOLERANCE = 0.005
MAP_DECIMALS = 4
ATTRIBUTION = (
    "Boundaries: OCHA / CNIGS, COD-AB Haiti (2018-11-29), via HDX; simplified for haiti-sim"
)
NPZ_ATTRIBUTION = (
    "Boundaries: OCHA / CNIGS, COD-AB Haiti (2018-11-29), via HDX. Population: IHSI/UNFPA 2019 "
    "estimates via HDX, rescaled to a national 11.9 M. Roads and places: approximate, "
    "hand-entered. See sim/data/SOURCES.md."
)

# Hand-entered (lat, lon), as usually quoted, to within a few hundred metres: below the grid's
# resolution, which is all the roads and places need.
WAYPOINTS = {
    "Port-au-Prince": (DOWNTOWN_LAT, DOWNTOWN_LON),
    "Cabaret": (18.734, -72.420),
    "Arcahaie": (18.772, -72.513),
    "Montrouis": (18.953, -72.703),
    "Saint-Marc": (19.108, -72.694),
    "Pont-Sondé": (19.152, -72.613),
    "Gonaïves": (19.447, -72.690),
    "Ennery": (19.483, -72.480),
    "Plaisance": (19.600, -72.467),
    "Cap-Haïtien": (19.757, -72.204),
    "Carrefour": (18.535, -72.410),
    "Gressier": (18.540, -72.527),
    "Léogâne": (18.511, -72.634),
    "Grand-Goâve": (18.430, -72.768),
    "Petit-Goâve": (18.431, -72.867),
    "Miragoâne": (18.446, -73.088),
    "Aquin": (18.280, -73.396),
    "Les Cayes": (18.193, -73.750),
    "Croix-des-Bouquets": (18.577, -72.227),
    "Mirebalais": (18.835, -72.105),
    "Hinche": (19.145, -72.011),
    "Saint-Raphaël": (19.439, -72.199),
    "Ganthier": (18.531, -72.070),
    "Fonds-Parisien": (18.502, -71.977),
    "Malpasse": (18.500, -71.800),
    "Jacmel": (18.234, -72.535),
    "Jérémie": (18.650, -74.116),
    "Cité Soleil": (18.580, -72.330),
    "Pétion-Ville": (18.512, -72.285),
}

# Ordered from the capital outward, so that a road's cell list reads as a route out of it.
ROADS = (
    (
        "RN1",
        "North along the coast: Port-au-Prince, Cabaret, Arcahaie, Saint-Marc, Gonaïves, "
        "Cap-Haïtien",
        ("Port-au-Prince", "Cabaret", "Arcahaie", "Montrouis", "Saint-Marc", "Pont-Sondé")
        + ("Gonaïves", "Ennery", "Plaisance", "Cap-Haïtien"),
    ),
    (
        "RN2",
        "South-west: Port-au-Prince, Carrefour, Léogâne, Petit-Goâve, Miragoâne, Les Cayes",
        ("Port-au-Prince", "Carrefour", "Gressier", "Léogâne", "Grand-Goâve", "Petit-Goâve")
        + ("Miragoâne", "Aquin", "Les Cayes"),
    ),
    (
        "RN3",
        "North through the Plateau Central: Port-au-Prince, Croix-des-Bouquets, Mirebalais, "
        "Hinche, Cap-Haïtien",
        ("Port-au-Prince", "Croix-des-Bouquets", "Mirebalais", "Hinche", "Saint-Raphaël")
        + ("Cap-Haïtien",),
    ),
    (
        "RN8",
        "East to the Malpasse border crossing: Port-au-Prince, Croix-des-Bouquets, Ganthier",
        ("Port-au-Prince", "Croix-des-Bouquets", "Ganthier", "Fonds-Parisien", "Malpasse"),
    ),
)

TOWNS = (
    "Cap-Haïtien",
    "Gonaïves",
    "Saint-Marc",
    "Pont-Sondé",
    "Mirebalais",
    "Hinche",
    "Les Cayes",
    "Jacmel",
    "Jérémie",
    "Petit-Goâve",
    "Croix-des-Bouquets",
    "Cité Soleil",
    "Pétion-Ville",
    "Carrefour",
    "Cabaret",
    "Arcahaie",
)
PLACES = (
    ("Toussaint Louverture International Airport", "airport", 18.5800, -72.2925),
    ("Port international de Port-au-Prince", "seaport", 18.5560, -72.3500),
    ("Downtown / Palais National", "downtown", DOWNTOWN_LAT, DOWNTOWN_LON),
    ("Malpasse / Jimaní", "border_crossing", 18.500, -71.800),
    ("Ouanaminthe / Dajabón", "border_crossing", 19.551, -71.727),
    ("Belladère / Elías Piña", "border_crossing", 18.860, -71.780),
    ("Anse-à-Pitres / Pedernales", "border_crossing", 18.045, -71.752),
) + tuple((town, "town", *WAYPOINTS[town]) for town in TOWNS)


def to_km(lon, lat):
    """Equirectangular projection centred on downtown: distances in km, exact enough in Haiti."""
    x = (np.asarray(lon) - DOWNTOWN_LON) * KM_PER_DEG * math.cos(math.radians(DOWNTOWN_LAT))
    y = (np.asarray(lat) - DOWNTOWN_LAT) * KM_PER_DEG
    return x, y


def lattice_cell_area_km2(lat):
    return LATTICE_DLON * LATTICE_DLAT * KM_PER_DEG**2 * np.cos(np.radians(lat))


def read_features(path):
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def load_units(source):
    """Sections, communes and departments of the source, each table sorted by P-code."""
    boundaries = source / "boundaries"
    sections = sorted(
        read_features(boundaries / "communal_sections_adm3.geojson"),
        key=lambda f: f["properties"]["ADM3_PCODE"],
    )
    communes = sorted(
        (f["properties"] for f in read_features(boundaries / "communes_adm2.geojson")),
        key=lambda p: p["ADM2_PCODE"],
    )
    departments = sorted(
        (f["properties"] for f in read_features(boundaries / "departments_adm1.geojson")),
        key=lambda p: p["ADM1_PCODE"],
    )
    commune_pcode = [p["ADM2_PCODE"] for p in communes]
    department_pcode = [p["ADM1_PCODE"] for p in departments]
    return {
        "section_geom": np.array([shape(f["geometry"]) for f in sections]),
        "section_pcode": [f["properties"]["ADM3_PCODE"] for f in sections],
        "section_name": [f["properties"]["ADM3_FR"] for f in sections],
        "section_commune": np.array(
            [commune_pcode.index(f["properties"]["ADM2_PCODE"]) for f in sections], np.int32
        ),
        "commune_pcode": commune_pcode,
        "commune_name": [p["ADM2_FR"] for p in communes],
        "commune_department": np.array(
            [department_pcode.index(p["ADM1_PCODE"]) for p in communes], np.int32
        ),
        "department_pcode": department_pcode,
        "department_name": [p["ADM1_FR"] for p in departments],
    }


def load_section_population(source, section_pcode):
    """IHSI/UNFPA 2019 population per section, in table order; fails on any P-code mismatch,
    since a dropped row would silently change the national total."""
    path = source / "hti_population_ihsi_unfpa_2019_adm3.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = {row["adm3code"]: float(row["IHSI_UNFPA_2019"]) for row in csv.DictReader(f)}
    missing = sorted(set(section_pcode) - set(table))
    unmatched = sorted(set(table) - set(section_pcode))
    print(f"population join: {len(table)} rows, {len(section_pcode)} sections")
    print(f"  sections without population: {missing or 'none'}")
    print(f"  population rows without section: {unmatched or 'none'}")
    if missing or unmatched:
        raise SystemExit("P-code mismatch between boundaries and population table")
    return np.array([table[p] for p in section_pcode])


def build_lattice(section_geom):
    """Land points of the fine lattice over Haiti's bounding box, each with its section.

    A point on a shared boundary takes one of its sections (whichever the tree reports first);
    points in no section are sea and are dropped."""
    lon0, lat0, lon1, lat1 = shapely.total_bounds(section_geom)
    nx = math.ceil((lon1 - lon0) / LATTICE_DLON)
    ny = math.ceil((lat1 - lat0) / LATTICE_DLAT)
    j, i = (a.ravel() for a in np.mgrid[0:ny, 0:nx])
    lon = lon0 + (i + 0.5) * LATTICE_DLON
    lat = lat0 + (j + 0.5) * LATTICE_DLAT
    tree = shapely.STRtree(section_geom)
    point_idx, section_idx = tree.query(shapely.points(lon, lat), predicate="intersects")
    land, first = np.unique(point_idx, return_index=True)
    return {
        "i": i[land],
        "j": j[land],
        "lon": lon[land],
        "lat": lat[land],
        "section": section_idx[first].astype(np.int32),
        "shape": (nx, ny),
    }


def nearest_points(lon, lat, point_lon, point_lat):
    """Index of the nearest of the given points to each query location (ground distance)."""
    tree = shapely.STRtree(shapely.points(*to_km(point_lon, point_lat)))
    _, idx = tree.query_nearest(shapely.points(*to_km(lon, lat)), all_matches=False)
    return idx


def distribute_population(pts, section_pop, section_geom, section_commune, metro_section):
    """Population of each lattice point; conserves every section's total exactly.

    Outside the metro a section's people are spread evenly over its points. Inside it they
    follow exp(-d / 4 km) from downtown, the Clark (1951) urban density gradient, which stands
    in for a population raster we do not have. A section too small to hold a point gives its
    people to the point nearest to it, in its own commune when that commune has points."""
    sec = pts["section"]
    x, y = to_km(pts["lon"], pts["lat"])
    weight = np.where(metro_section[sec], np.exp(-np.hypot(x, y) / DENSITY_SCALE_KM), 1.0)
    section_weight = np.bincount(sec, weight, minlength=len(section_pop))
    pop = section_pop[sec] * weight / section_weight[sec]
    pointless = np.flatnonzero(section_weight == 0)
    for s in pointless:
        same_commune = np.flatnonzero(section_commune[sec] == section_commune[s])
        candidates = same_commune if len(same_commune) else np.arange(len(sec))
        anchor = section_geom[s].representative_point()
        nearest = nearest_points(
            [anchor.x], [anchor.y], pts["lon"][candidates], pts["lat"][candidates]
        )
        pop[candidates[nearest[0]]] += section_pop[s]
    total = section_pop.sum()
    assert abs(pop.sum() - total) <= 1e-6 * total, (pop.sum(), total)
    return pop, pointless


def assign_cells(pts, metro_point):
    """Cell index of each lattice point: metro points first, one cell each, in lattice order;
    then one cell per (5 x 5 block, section), ordered by block then section."""
    nx = pts["shape"][0]
    n_blocks_x = -(-nx // COARSE_BLOCK)
    block = (pts["j"] // COARSE_BLOCK) * n_blocks_x + pts["i"] // COARSE_BLOCK
    key = block.astype(np.int64) * (pts["section"].max() + 1) + pts["section"]
    cell = np.empty(len(key), np.int32)
    n_metro = int(metro_point.sum())
    cell[metro_point] = np.arange(n_metro)
    _, rest = np.unique(key[~metro_point], return_inverse=True)
    cell[~metro_point] = n_metro + rest
    return cell


def cell_attributes(pts, cell, point_pop, units):
    n = int(cell.max()) + 1
    count = np.bincount(cell, minlength=n)
    lon = np.bincount(cell, pts["lon"], n) / count
    lat = np.bincount(cell, pts["lat"], n) / count
    section = np.empty(n, np.int32)
    section[cell] = pts["section"]
    commune = units["section_commune"][section]
    bounds = {}
    for name, values, half in (
        ("lon", pts["lon"], LATTICE_DLON / 2),
        ("lat", pts["lat"], LATTICE_DLAT / 2),
    ):
        low = np.full(n, np.inf)
        high = np.full(n, -np.inf)
        np.minimum.at(low, cell, values)
        np.maximum.at(high, cell, values)
        bounds[f"{name}_min"] = low - half
        bounds[f"{name}_max"] = high + half
    return {
        "lon": lon,
        "lat": lat,
        "area_km2": count * lattice_cell_area_km2(lat),
        "population": np.bincount(cell, point_pop, n),
        "section": section,
        "commune": commune,
        "department": units["commune_department"][commune],
        **bounds,
    }


def adjacency(pts, cell):
    """CSR adjacency: cells are neighbours when any of their points are 4-neighbours."""
    grid = np.full(pts["shape"], -1, np.int64)
    grid[pts["i"], pts["j"]] = cell
    pairs = [(grid[:-1, :], grid[1:, :]), (grid[:, :-1], grid[:, 1:])]
    a = np.concatenate([p[(p >= 0) & (q >= 0) & (p != q)] for p, q in pairs])
    b = np.concatenate([q[(p >= 0) & (q >= 0) & (p != q)] for p, q in pairs])
    edges = np.unique(np.stack([np.r_[a, b], np.r_[b, a]], axis=1), axis=0)
    n = int(cell.max()) + 1
    ptr = np.r_[0, np.cumsum(np.bincount(edges[:, 0], minlength=n))].astype(np.int32)
    return ptr, edges[:, 1].astype(np.int32)


def component_sizes(ptr, idx):
    label = np.full(len(ptr) - 1, -1)
    sizes = []
    for start in range(len(label)):
        if label[start] >= 0:
            continue
        label[start] = len(sizes)
        queue, size = deque([start]), 0
        while queue:
            c = queue.popleft()
            size += 1
            for nb in idx[ptr[c] : ptr[c + 1]]:
                if label[nb] < 0:
                    label[nb] = len(sizes)
                    queue.append(nb)
        sizes.append(size)
    return sorted(sizes, reverse=True)


def densify(waypoints):
    """(lon, lat) samples at most ROAD_SAMPLE_KM apart along the polyline through waypoints."""
    lat, lon = np.array([WAYPOINTS[w] for w in waypoints]).T
    x, y = to_km(lon, lat)
    lons, lats = [], []
    for k in range(len(lon) - 1):
        steps = max(1, math.ceil(math.hypot(x[k + 1] - x[k], y[k + 1] - y[k]) / ROAD_SAMPLE_KM))
        t = np.arange(steps) / steps
        lons.append(lon[k] + t * (lon[k + 1] - lon[k]))
        lats.append(lat[k] + t * (lat[k + 1] - lat[k]))
    return np.r_[*lons, lon[-1]], np.r_[*lats, lat[-1]]


def shortest_path(ptr, idx, start, goal):
    """Cells strictly between start and goal on a shortest path of the adjacency graph."""
    parent = {start: start}
    queue = deque([start])
    while goal not in parent:
        c = queue.popleft()
        for nb in map(int, idx[ptr[c] : ptr[c + 1]]):
            if nb not in parent:
                parent[nb] = c
                queue.append(nb)
    path = []
    c = parent[goal]
    while c != start:
        path.append(c)
        c = parent[c]
    return path[::-1]


def trace_road(samples, ptr, idx):
    """Route of distinct, successively adjacent cells through the cells of the samples.

    The samples alone can skip cells: where the line clips a cell corner, or where samples over
    a bay snap to distant points of the coast. Such gaps are bridged by a shortest path in the
    adjacency graph. Where the line runs along a cell edge it re-enters cells it has left: the
    loop is erased, keeping the cells distinct."""
    route = [int(samples[0])]
    for cell in map(int, samples[1:]):
        here = route[-1]
        adjacent = cell in idx[ptr[here] : ptr[here + 1]]
        bridge = [] if adjacent else shortest_path(ptr, idx, here, cell)
        for step in [*bridge, cell]:
            if step in route:
                del route[route.index(step) + 1 :]
            else:
                route.append(step)
    return route


def road_cells(pts, cell, ptr, idx):
    """Ordered cells of each road, and the per-cell bitmask of the roads that cross it."""
    routes = []
    mask = np.zeros(int(cell.max()) + 1, np.int8)
    for bit, (_, _, waypoints) in enumerate(ROADS):
        samples = cell[nearest_points(*densify(waypoints), pts["lon"], pts["lat"])]
        samples = samples[np.r_[True, samples[1:] != samples[:-1]]]
        routes.append(trace_road(samples, ptr, idx))
        mask[routes[-1]] |= 1 << bit
    road_ptr = np.r_[0, np.cumsum([len(r) for r in routes])].astype(np.int32)
    return road_ptr, np.concatenate(routes).astype(np.int32), mask


def place_arrays(pts, cell):
    name, kind, lat, lon = (list(col) for col in zip(*PLACES, strict=True))
    return {
        "place_name": np.array(name),
        "place_kind": np.array(kind),
        "place_lon": np.array(lon),
        "place_lat": np.array(lat),
        "place_cell": cell[nearest_points(lon, lat, pts["lon"], pts["lat"])].astype(np.int32),
    }


def rounded(coords):
    # Grid-snapped floats still print with binary noise (18.543000000000003): round the text.
    if isinstance(coords[0], float):
        return [round(c, MAP_DECIMALS) for c in coords]
    return [rounded(c) for c in coords]


def write_map(path, features, tolerance, properties):
    """Simplified, grid-snapped boundaries: snapping with set_precision keeps polygons valid."""
    out = []
    for feature in features:
        geom = shapely.simplify(shape(feature["geometry"]), tolerance, preserve_topology=True)
        geom = mapping(shapely.set_precision(geom, 10.0**-MAP_DECIMALS))
        out.append(
            {
                "type": "Feature",
                "properties": properties(feature["properties"]),
                "geometry": {"type": geom["type"], "coordinates": rounded(geom["coordinates"])},
            }
        )
    collection = {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": out}
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), "utf-8")


def write_maps(source, units, section_pop):
    commune_pop = np.bincount(units["section_commune"], section_pop, len(units["commune_pcode"]))
    department_pop = np.bincount(
        units["commune_department"], commune_pop, len(units["department_pcode"])
    )
    commune_people = dict(zip(units["commune_pcode"], commune_pop, strict=True))
    department_people = dict(zip(units["department_pcode"], department_pop, strict=True))
    map_dir = OUT_DIR / "map"
    map_dir.mkdir(parents=True, exist_ok=True)
    write_map(
        map_dir / "departments.geojson",
        read_features(source / "boundaries" / "departments_adm1.geojson"),
        DEPARTMENT_TOLERANCE,
        lambda p: {
            "pcode": p["ADM1_PCODE"],
            "name": p["ADM1_FR"],
            "population": round(department_people[p["ADM1_PCODE"]]),
        },
    )
    write_map(
        map_dir / "communes.geojson",
        read_features(source / "boundaries" / "communes_adm2.geojson"),
        COMMUNE_TOLERANCE,
        lambda p: {
            "pcode": p["ADM2_PCODE"],
            "name": p["ADM2_FR"],
            "department": p["ADM1_PCODE"],
            "population": round(commune_people[p["ADM2_PCODE"]]),
        },
    )
    return [map_dir / "departments.geojson", map_dir / "communes.geojson"]


def report_empty_units(units, cells):
    for level, occupied in (
        ("section", cells["section"]),
        ("commune", cells["commune"]),
        ("department", cells["department"]),
    ):
        empty = np.setdiff1d(np.arange(len(units[f"{level}_pcode"])), occupied)
        names = [f"{units[f'{level}_pcode'][k]} {units[f'{level}_name'][k]}" for k in empty]
        print(f"{level}s with no cell: {names or 'none'}")


def report(cells, ptr, idx, road_ptr, road_idx, paths):
    metro = cells["is_metro"]
    capital = cells["is_capital"]
    pop = cells["population"]
    print(f"cells: {len(pop)} ({metro.sum()} metro, {(~metro).sum()} elsewhere)")
    print(f"population: {pop.sum():,.1f}")
    print(
        f"capital: {capital.sum()} cells, {pop[capital].sum():,.0f} people, "
        f"{pop[capital].sum() / pop[metro].sum():.1%} of the metro's {pop[metro].sum():,.0f}"
    )
    sizes = component_sizes(ptr, idx)
    print(
        f"adjacency: {len(sizes)} components, cells {sizes}; mean degree {len(idx) / len(pop):.2f}"
    )
    for k, (name, _, _) in enumerate(ROADS):
        cells_k = road_idx[road_ptr[k] : road_ptr[k + 1]]
        gaps = sum(b not in idx[ptr[a] : ptr[a + 1]] for a, b in pairwise(cells_k))
        assert gaps == 0 and len(set(cells_k)) == len(cells_k), name
        print(f"{name}: {len(cells_k)} cells")
    for path in paths:
        print(f"{path.relative_to(REPO)}: {path.stat().st_size / 1024:.0f} KB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="haiti data dir")
    source = parser.parse_args().source

    units = load_units(source)
    raw_pop = load_section_population(source, units["section_pcode"])
    rescale = NATIONAL_POPULATION / raw_pop.sum()
    section_pop = raw_pop * rescale
    print(f"rescale factor: {rescale:.6f} (source total {raw_pop.sum():,.0f})")

    metro_commune = np.isin(units["commune_pcode"], METRO_COMMUNES)
    metro_section = metro_commune[units["section_commune"]]
    pts = build_lattice(units["section_geom"])
    point_pop, pointless = distribute_population(
        pts, section_pop, units["section_geom"], units["section_commune"], metro_section
    )
    pointless_pcodes = [units["section_pcode"][s] for s in pointless]
    print(f"sections with no lattice point: {pointless_pcodes or 'none'}")

    metro_point = metro_section[pts["section"]]
    cell = assign_cells(pts, metro_point)
    cells = cell_attributes(pts, cell, point_pop, units)
    cells["is_metro"] = metro_commune[cells["commune"]]
    density = cells["population"] / cells["area_km2"]
    cells["is_capital"] = cells["is_metro"] & (density >= CAPITAL_MIN_DENSITY)
    ptr, idx = adjacency(pts, cell)
    road_ptr, road_idx, cells["road"] = road_cells(pts, cell, ptr, idx)
    report_empty_units(units, cells)

    npz_path = OUT_DIR / "geography.npz"
    np.savez_compressed(
        npz_path,
        **cells,
        nbr_ptr=ptr,
        nbr_idx=idx,
        section_pcode=np.array(units["section_pcode"]),
        section_name=np.array(units["section_name"]),
        section_commune=units["section_commune"],
        commune_pcode=np.array(units["commune_pcode"]),
        commune_name=np.array(units["commune_name"]),
        commune_department=units["commune_department"],
        department_pcode=np.array(units["department_pcode"]),
        department_name=np.array(units["department_name"]),
        road_names=np.array([name for name, _, _ in ROADS]),
        road_descriptions=np.array([text for _, text, _ in ROADS]),
        road_cells_ptr=road_ptr,
        road_cells_idx=road_idx,
        **place_arrays(pts, cell),
        national_population=np.float64(NATIONAL_POPULATION),
        rescale_factor=np.float64(rescale),
        source_population_total=np.float64(raw_pop.sum()),
        lattice_dlon=np.float64(LATTICE_DLON),
        lattice_dlat=np.float64(LATTICE_DLAT),
        coarse_block=np.int64(COARSE_BLOCK),
        capital_min_density_per_km2=np.float64(CAPITAL_MIN_DENSITY),
        attribution=np.str_(NPZ_ATTRIBUTION),
    )
    map_paths = write_maps(source, units, section_pop)
    report(cells, ptr, idx, road_ptr, road_idx, [npz_path, *map_paths])


if __name__ == "__main__":
    main()
