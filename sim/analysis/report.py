"""A comparison as one self-contained HTML file: tables, time series, paired differences, maps;
and the target search's curve (`target_html`) and a sweep's dose-response (`sweep_html`), drawn
the same way.

The maps draw the cells under the shipped commune and department boundaries (`boundaries`, which
the app's maps read too), name the largest towns that fit without overlapping (`place_labels`,
the app's choice as well) and credit the boundary data under each map, as its licence asks.
The time series span the page's width.

Everything is drawn here as inline SVG, with no script, stylesheet, font or image fetched from
anywhere: the file opens offline in any browser, can be mailed or archived as is, and shows the
same numbers as the command line because it renders the same `sim.analysis.compare` tables.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from sim.analysis import sweep
from sim.analysis.compare import (
    COMPARED,
    Comparison,
    TextTable,
    band,
    header,
    legend_names,
    money_unit,
    observed,
    observed_name,
    paired_band,
    show_count,
    show_money,
    show_value,
    tables,
)
from sim.analysis.search import FOUND, Search, show_level
from sim.model import geography, outcomes
from sim.model.outcomes import Outcome
from sim.running.results import package_version

# Tableau 10: distinct for up to ten scenarios, readable by most colour-blind people.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")
# Share of replicates in which a cell is gang-held: grey where no replicate has it, then ten
# classes from pale yellow to dark red.
NEVER = "#e8e8e8"
RAMP = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026",
        "#a00026", "#800026")
CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.85em}
caption{text-align:left;font-weight:600;padding:.3em 0;white-space:nowrap}
td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left}
tr.diff td{color:#555;font-style:italic}
svg{font-size:11px;font-family:system-ui,sans-serif}
.legend span{display:inline-block;margin-right:1.2em}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
.maps{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
figure{margin:0}figcaption{margin-top:.2em}
.place{fill:#111;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
body.wide{max-width:none}svg.chart{width:100%;height:auto}
.note{color:#555;font-size:.9em}
"""


def _e(text) -> str:
    return html.escape(str(text))


# Words of parameter names that are written otherwise in prose.
TOKENS = {"us": "US", "un": "UN", "usd": "USD", "pko": "PKO", "canada": "Canada",
          "haiti": "Haiti"}


def parameter_label(name: str) -> str:
    """A parameter as people read it, in the report's charts and the app's widgets and charts:
    "Gang cash reserve months" for `gang_cash_reserve_months`. Made from the name because the
    parameter table (`sim.model.parameters`) declares no label; where the name matters (what
    --set and --vary take), it is shown beside or in a tooltip."""
    text = " ".join(TOKENS.get(w, w) for w in name.split("_"))
    return text[0].upper() + text[1:]


def _parameter(name: str) -> str:
    """The content of an SVG text naming a parameter: its label, its name as the tooltip."""
    return f"<title>{_e(name)}</title>{_e(parameter_label(name))}"


def _table(t: TextTable) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in t.headers)
    body = "".join(
        f"<tr{' class=diff' if row[0].startswith('  ') else ''}>"
        + "".join(f"<td>{_e(c.strip() if i == 0 else c)}</td>" for i, c in enumerate(row))
        + "</tr>" for row in t.rows)
    note = f"<p class=note>{_e(t.note)}</p>" if t.note else ""
    return f"<table><caption>{_e(t.title)}</caption><tr>{head}</tr>{body}</table>{note}"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round numbers spanning [low, high] (1, 2 or 5 times a power of ten apart)."""
    if not high > low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [v * step for v in range(math.floor(low / step), math.ceil(high / step) + 1)]


def _axis_labels(ticks: list[float], display: str, difference: bool = False):
    """A y axis's tick labels, `label(v)`: shares in percent (a difference of shares in
    percentage points, which is not a percentage of anything), money and counts in the one unit
    its largest tick reaches ("$0.50 bn" under "$1.00 bn", not "$500.00 M"; "0.50 M" under
    "1.00 M", not "500,000")."""
    unit = money_unit(ticks)

    def label(value: float) -> str:
        if display == outcomes.PERCENT:
            return (f"{value * 100:+g} pp" if value else "0 pp") if difference else (
                f"{value * 100:g}%")
        return (show_money if display == outcomes.USD else show_count)(value, unit)
    return label


def _y_grid(ticks, y, left: int, right_x: int, label, difference: bool = False) -> str:
    """Horizontal gridlines at `ticks` (pixel row `y(v)`) from `left` to `right_x`, each labelled
    `label(v)` left of the plot; with `difference`, the line at 0 darker. Every chart's y axis."""
    return "".join(f'<line x1="{left}" x2="{right_x}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   f'stroke="{"#999" if v == 0 and difference else "#eee"}"/>'
                   f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">'
                   f'{_e(label(v))}</text>' for v in ticks)


def _band(colour: str, xs, median, low, high) -> str:
    """A median line over its shaded 90% band, every coordinate already in pixels."""
    band = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, high, strict=True)) + " " + " ".join(
        f"{a:.1f},{b:.1f}" for a, b in zip(xs[::-1], low[::-1], strict=True))
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, median, strict=True))
    return (f'<polygon points="{band}" fill="{colour}" fill-opacity="0.18"/>'
            f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.6"/>')


def _chart(lines: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
           display: str, marker: dt.date | None, difference: bool = False,
           points: tuple | list = ()) -> str:
    """Median lines with shaded 90% bands. Each line: (colour, dates, median, low, high);
    `points`, observed figures (`compare.observed`), drawn over them as black diamonds with
    their figure and source as a tooltip. Drawn 1100 units wide and scaled to the page's width
    (class `chart`), text with it."""
    width, height, left, right, top, bottom = 1100, 300, 72, 12, 12, 28
    finite = [np.isfinite(m) for _, _, m, _, _ in lines]
    if not any(f.any() for f in finite):
        return "<p class=note>No data for these dates.</p>"
    x0 = min(d[f].min() for (_, d, _, _, _), f in zip(lines, finite, strict=True) if f.any())
    x1 = max(d[f].max() for (_, d, _, _, _), f in zip(lines, finite, strict=True) if f.any())
    lows = [np.nanmin(lo) for _, _, _, lo, _ in lines if np.isfinite(lo).any()]
    highs = [np.nanmax(hi) for _, _, _, _, hi in lines if np.isfinite(hi).any()]
    lows += [t.value for t in points]
    highs += [t.value for t in points]
    y_ticks = _ticks(min(min(lows), 0.0) if display != outcomes.PERCENT or difference
                     else min(lows),
                     max(highs))
    y0, y1 = y_ticks[0], y_ticks[-1]
    span_days = max(int((x1 - x0).astype(int)), 1)

    def x(d):
        return left + (width - left - right) * ((d - x0).astype(int) / span_days)

    def y(v):
        return top + (height - top - bottom) * (1 - (v - y0) / (y1 - y0))

    parts = [f'<svg class=chart width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">',
             _y_grid(y_ticks, y, left, width - right,
                     _axis_labels(y_ticks, display, difference=difference), difference)]
    first_year = int(str(x0)[:4]) + 1
    for year in range(first_year, int(str(x1)[:4]) + 1):
        xv = x(np.datetime64(f"{year}-01-01"))
        parts.append(f'<line x1="{xv:.1f}" x2="{xv:.1f}" y1="{top}" y2="{height - bottom}" '
                     f'stroke="#eee"/><text x="{xv:.1f}" y="{height - 10}" '
                     f'text-anchor="middle">{year}</text>')
    if marker is not None and x0 <= np.datetime64(marker) <= x1:
        xm = x(np.datetime64(marker))
        parts.append(f'<line x1="{xm:.1f}" x2="{xm:.1f}" y1="{top}" y2="{height - bottom}" '
                     f'stroke="#666" stroke-dasharray="4 3"/><text x="{xm + 3:.1f}" '
                     f'y="{top + 10}">branch</text>')
    for (colour, dates, median, low, high), keep in zip(lines, finite, strict=True):
        parts.append(_band(colour, x(dates[keep]), y(median[keep]), y(low[keep]),
                           y(high[keep])))
    for t in points:
        xp, yp = x(np.datetime64(t.when, "D")), y(t.value)
        parts.append(f'<path d="M{xp:.1f} {yp - 5:.1f}l5 5-5 5-5-5z" fill="#111" stroke="#fff">'
                     f"<title>{_e(f'{t.when}: {t.shown} ({t.source})')}</title></path>")
    parts.append("</svg>")
    if points:
        parts.append('<p class=legend><span><span class=swatch style="background:#111;'
                     f'transform:rotate(45deg) scale(.7)"></span>{_e(observed_name(points))}'
                     "</span></p>")
    return "".join(parts)


def _names(c: Comparison) -> dict[str, str]:
    return legend_names({s.label: s.name for s in c.scenarios})


def _legend(c: Comparison, colours: dict[str, str], skip_reference: bool = False) -> str:
    """The scenarios by name (`legend_names`), each with its label, which the tables use, as
    its tooltip."""
    names = _names(c)
    return "<p class=legend>" + "".join(
        f'<span title="{_e(s.label)}"><span class=swatch style="background:{colours[s.label]}">'
        f"</span>{_e(names[s.label])}{' (reference)' if s is c.reference else ''}</span>"
        for s in c.scenarios if not (skip_reference and s is c.reference)) + "</p>"


def _levels(c: Comparison, outcome: Outcome, colours: dict[str, str]) -> str:
    lines = [(colours[s.label], *band(s, outcome, c.origin)) for s in c.scenarios]
    return _chart(lines, outcome.display, c.origin, points=observed(c.scenarios, outcome))


def _differences(c: Comparison, outcome: Outcome, colours: dict[str, str]) -> str:
    """Paired difference to the reference over the days both simulated, from the origin on."""
    lines = [(colours[s.label], *paired) for s in c.scenarios if s is not c.reference
             and (paired := paired_band(s, c.reference, outcome, c.origin)) is not None]
    return _chart(lines, outcome.display, None, difference=True) if lines else ""


# ---------------------------------------------------------------------------- maps
@functools.cache
def _layer(layer: str) -> dict:
    with resources.files("sim.data").joinpath(f"map/{layer}.geojson").open("rb") as fh:
        return json.load(fh)


def _rings(geometry: dict) -> list[list[list[float]]]:
    polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                else [geometry["coordinates"]])
    return [ring for polygon in polygons for ring in polygon]


@functools.cache
def boundaries(layer: str) -> list[dict]:
    """Features of the shipped "communes" or "departments" layer (pcode, name, rings): the
    report's maps and the app's read them here."""
    return [{**f["properties"], "rings": _rings(f["geometry"])} for f in _layer(layer)["features"]]


def boundary_attribution() -> str:
    """What the boundary data asks to be credited with wherever a map is shown (its GeoJSON's
    `attribution` member: "OCHA / CNIGS", see sim/data/SOURCES.md)."""
    return _layer("departments")["attribution"]


LABEL_KINDS = ("downtown", "town")  # the places that name a town on a map


def place_labels(geo, extent, px_per_degree: float, font_px: float
                 ) -> list[tuple[str, float, float]]:
    """The towns to name on a map of `extent` (lon_min, lon_max, lat_min, lat_max) drawn at
    `px_per_degree` pixels per degree of latitude, as (name, lon, lat).

    Towns are taken by the population of their commune, largest first (of two in one commune,
    the one whose cell holds more people: Saint-Marc before Pont-Sondé), and each is kept only if
    its name (centred above it, `font_px` high, ~0.6 em a letter) overlaps no name kept before:
    at the scale of the whole country Port-au-Prince is named and its suburbs are not, in the
    capital's frame they are. Downtown is named for its commune (Port-au-Prince)."""
    kind = geo.place_kind.astype(str)
    lon0, lon1, lat0, lat1 = extent
    aspect = math.cos(math.radians((lat0 + lat1) / 2))
    commune_people = np.bincount(geo.commune, geo.population)
    candidates = []
    for k in np.flatnonzero(np.isin(kind, LABEL_KINDS)):
        cell = geo.place_cell[k]
        lon, lat = float(geo.lon[cell]), float(geo.lat[cell])
        if lon0 <= lon <= lon1 and lat0 <= lat <= lat1:
            name = (str(geo.commune_name[geo.commune[cell]]) if kind[k] == "downtown"
                    else str(geo.place_name[k]))
            candidates.append((-commune_people[geo.commune[cell]], -geo.population[cell], name,
                               lon, lat))
    kept, boxes = [], []
    for *_, name, lon, lat in sorted(candidates):
        x, y = lon * aspect * px_per_degree, -lat * px_per_degree
        half = 0.3 * font_px * len(name) + 2
        box = (x - half, x + half, y - 1.4 * font_px - 3, y - 2)
        if not any(box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3]
                   for b in boxes):
            kept.append((name, lon, lat))
            boxes.append(box)
    return kept


LABEL_PX = 10


@dataclass(frozen=True)
class _View:
    """A map's frame: the `extent` it shows, `width` pixels wide, at equal distances at its
    middle latitude; `overlay` names its boundaries and place names, drawn once in the page and
    reused by every scenario's map of this frame."""

    extent: tuple[float, float, float, float]
    width: int
    overlay: str

    @property
    def aspect(self) -> float:
        return math.cos(math.radians((self.extent[2] + self.extent[3]) / 2))

    @property
    def scale(self) -> float:  # pixels per degree of latitude
        return self.width / ((self.extent[1] - self.extent[0]) * self.aspect)

    @property
    def height(self) -> int:
        return int(math.ceil((self.extent[3] - self.extent[2]) * self.scale))

    def px(self, lon, lat):
        return ((lon - self.extent[0]) * self.aspect * self.scale,
                (self.extent[3] - lat) * self.scale)


def _overlay(geo, view: _View) -> str:
    """Commune (thin) and department (dark) boundaries and the towns named, as an SVG group."""
    lon0, lon1, lat0, lat1 = view.extent

    def path(layer: str) -> str:
        parts = []
        for feature in boundaries(layer):
            for ring in feature["rings"]:
                xs, ys = zip(*ring, strict=True)
                if max(xs) < lon0 or min(xs) > lon1 or max(ys) < lat0 or min(ys) > lat1:
                    continue
                x, y = view.px(np.array(xs), np.array(ys))
                parts.append("M" + "L".join(f"{a:.1f} {b:.1f}" for a, b in zip(x, y,
                                                                               strict=True)))
        return "".join(parts)

    labels = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="#1f4e79"/><text class=place '
        f'x="{x:.1f}" y="{y - 4:.1f}" font-size="{LABEL_PX}" text-anchor="middle">{_e(name)}'
        '</text>'
        for name, lon, lat in place_labels(geo, view.extent, view.scale, LABEL_PX)
        for x, y in [view.px(lon, lat)])
    return (f'<g id="{view.overlay}"><path d="{path("communes")}" fill="none" stroke="#8a8a8a" '
            f'stroke-width="0.4"/><path d="{path("departments")}" fill="none" stroke="#333" '
            f'stroke-width="1"/>{labels}</g>')


def _cells_svg(geo, share: np.ndarray, cells: np.ndarray, view: _View,
               frame: tuple[float, float, float, float] | None = None) -> str:
    """Cells drawn as their bounding rectangles, one path per colour class (keeps files small),
    under the view's boundaries and place names. `frame` outlines a (lon_min, lon_max, lat_min,
    lat_max) box, the zoomed area."""
    b = geo.bounds[cells]
    x, y = view.px(b[:, 0], b[:, 3])
    w = (b[:, 1] - b[:, 0]) * view.aspect * view.scale
    h = (b[:, 3] - b[:, 2]) * view.scale
    level = np.where(share[cells] > 0, np.minimum((share[cells] * len(RAMP)).astype(int),
                                                  len(RAMP) - 1) + 1, 0)
    parts = [f'<svg width="{view.width}" height="{view.height}" '
             f'viewBox="0 0 {view.width} {view.height}">']
    for k, colour in enumerate((NEVER, *RAMP)):
        sel = np.flatnonzero(level == k)
        if len(sel):
            d = "".join(f"M{x[i]:.1f} {y[i]:.1f}h{w[i]:.1f}v{h[i]:.1f}h{-w[i]:.1f}z"
                        for i in sel)
            parts.append(f'<path d="{d}" fill="{colour}"/>')
    parts.append(f'<use href="#{view.overlay}"/>')
    if frame is not None:
        fx0, fy0 = view.px(frame[0], frame[3])
        fx1, fy1 = view.px(frame[1], frame[2])
        parts.append(f'<rect x="{fx0:.1f}" y="{fy0:.1f}" width="{fx1 - fx0:.1f}" '
                     f'height="{fy1 - fy0:.1f}" fill="none" stroke="#222" '
                     'stroke-dasharray="4 2"/>')
    parts.append("</svg>")
    return "".join(parts)


def _map_legend() -> str:
    labels = ["never", *(f"{k * 10}-{(k + 1) * 10}%" for k in range(len(RAMP)))]
    return "<p class=legend>" + "".join(
        f'<span><span class=swatch style="background:{c}"></span>{lab}</span>'
        for c, lab in zip((NEVER, *RAMP), labels, strict=True)) + "</p>"


def _extent(bounds: np.ndarray) -> tuple[float, float, float, float]:
    return (float(bounds[:, 0].min()), float(bounds[:, 1].max()), float(bounds[:, 2].min()),
            float(bounds[:, 3].max()))


def _maps(c: Comparison) -> str:
    geo = geography.load()
    everywhere = np.arange(geo.n_cells)
    frame = _extent(geo.bounds[geo.is_metro])
    # the zoom shows every cell in the metro's box, the coarse rural cells around it too
    inset = np.flatnonzero((geo.bounds[:, 1] > frame[0]) & (geo.bounds[:, 0] < frame[1])
                           & (geo.bounds[:, 3] > frame[2]) & (geo.bounds[:, 2] < frame[3]))
    country = _View(_extent(geo.bounds), 560, "map-country")
    metro = _View(_extent(geo.bounds[inset]), 360, "map-metro")
    credit = f"<figcaption class=note>{_e(boundary_attribution())}</figcaption>"
    out = [_map_legend(), '<svg width="0" height="0" style="position:absolute"><defs>'
           + _overlay(geo, country) + _overlay(geo, metro) + "</defs></svg>"]
    names = _names(c)
    for s in c.scenarios:
        if len(s.gang_held_share) != geo.n_cells:
            out.append(f"<p class=note>{_e(names[s.label])}: its maps have "
                       f"{len(s.gang_held_share)} cells, the current geography {geo.n_cells}; "
                       "not drawn.</p>")
            continue
        out.append(f"<h3>{_e(names[s.label])}: gang-held at the end ({s.end})</h3>"
                   "<div class=maps>"
                   f'<figure style="width:{country.width}px">'
                   + _cells_svg(geo, s.gang_held_share, everywhere, country, frame)
                   + f'{credit}</figure><figure style="width:{metro.width}px">'
                   + _cells_svg(geo, s.gang_held_share, inset, metro) + f"{credit}</figure>"
                   "</div>")
    return "".join(out)


def render(c: Comparison) -> str:
    colours = {s.label: PALETTE[i % len(PALETTE)] for i, s in enumerate(c.scenarios)}
    reference = _names(c)[c.reference.label]
    scenarios = "".join(
        f"<tr><td>{_e(s.label)}</td><td>{_e(s.name)}</td><td>{len(s.replicates)}</td>"
        f"<td>{s.branch or '-'}</td><td>{s.end}</td><td>{_e(s.source)}</td></tr>"
        for s in c.scenarios)
    notes = "".join(f"<p class=note>{_e(n)}</p>" for n in c.notes)
    series = "".join(
        f"<h3>{_e(o.label)}{' since ' + str(c.origin) if o.flow else ''}</h3>"
        + _levels(c, o, colours) for o in COMPARED)
    diffs = "".join(
        f"<h3>{_e(o.label)}{' since ' + str(c.origin) if o.flow else ''}: "
        f"difference to {_e(reference)}</h3>" + _differences(c, o, colours)
        for o in COMPARED)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>haiti-sim comparison</title><style>{CSS}</style></head><body class=wide>"
        "<h1>haiti-sim: comparison of scenarios</h1>"
        f"<p class=note>{_e(header(c))} Generated {dt.datetime.now():%Y-%m-%d %H:%M} by "
        f"haiti-sim {_e(package_version())}.</p>{notes}"
        "<table><caption>Scenarios</caption><tr><th>label</th><th>name</th><th>replicates</th>"
        f"<th>branch</th><th>end</th><th>results</th></tr>{scenarios}</table>"
        "<h2>Summary</h2>" + "".join(_table(t) for t in tables(c))
        + "<h2>Outcomes over time</h2><p class=note>Median over replicates (line) and 90% "
        "interval (band); black diamonds: the observed figures of 2023-2024 the model is fitted "
        "to, where the runs cover them (hover for the figure and its source).</p>"
        + _legend(c, colours) + series
        + f"<h2>Difference to {_e(reference)}, paired by replicate</h2>"
        + _legend(c, colours, skip_reference=True) + diffs
        + "<h2>Where gangs hold ground at the end</h2><p class=note>Share of replicates in "
        "which each cell is gang-held on the last day; right, the Port-au-Prince metro (the "
        "framed area).</p>" + _maps(c) + "</body></html>")


def write_html(c: Comparison, path: str | Path) -> None:
    Path(path).write_text(render(c), encoding="utf-8")


# ---------------------------------------------------------------------------- target search
def _curve_svg(result: Search, integer: bool, lever: str,
               span: tuple[float, float] | None = None) -> str:
    """The chance of the goal against the lever over `span` (default: the range searched): each
    value run (dot, with its 90% Wilson interval), the fitted curve, P (dashed) and the answer
    with its 90% interval (shaded)."""
    width, height, left, right, top, bottom = 760, 300, 52, 16, 12, 48
    x0, x1 = span or (result.low, result.high)
    x_ticks = [v for v in _ticks(x0, x1) if x0 <= v <= x1]

    def x(v):
        return left + (width - left - right) * (v - x0) / (x1 - x0)

    def y(p):
        return top + (height - top - bottom) * (1 - p)

    parts = [f'<svg class=chart width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             _y_grid((0, 0.25, 0.5, 0.75, 1), y, left, width - right, lambda p: f"{p:.0%}")]
    for v in x_ticks:
        parts.append(f'<text x="{x(v):.1f}" y="{height - 28}" text-anchor="middle">'
                     f'{_e(show_level(v, integer))}</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" '
                 f'text-anchor="middle">{_parameter(lever)}</text>')
    if result.status == FOUND:
        lo, hi = result.interval
        parts.append(f'<rect x="{x(lo):.1f}" y="{top}" width="{max(x(hi) - x(lo), 1):.1f}" '
                     f'height="{height - top - bottom}" fill="{PALETTE[0]}" fill-opacity="0.15"/>'
                     f'<line x1="{x(result.answer):.1f}" x2="{x(result.answer):.1f}" y1="{top}" '
                     f'y2="{height - bottom}" stroke="{PALETTE[0]}"/>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(result.probability):.1f}" '
                 f'y2="{y(result.probability):.1f}" stroke="#666" stroke-dasharray="4 3"/>'
                 f'<text x="{width - right}" y="{y(result.probability) - 4:.1f}" '
                 f'text-anchor="end">P = {result.probability:.0%}</text>')
    grid = np.linspace(x0, x1, 300)
    line = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(grid, result.curve.p(grid),
                                                              strict=True))
    parts.append(f'<polyline points="{line}" fill="none" stroke="{PALETTE[0]}" '
                 'stroke-width="1.6"/>')
    for pt in result.points:
        if not x0 <= pt.level <= x1:
            continue
        low, high = pt.interval
        parts.append(f'<line x1="{x(pt.level):.1f}" x2="{x(pt.level):.1f}" y1="{y(low):.1f}" '
                     f'y2="{y(high):.1f}" stroke="{PALETTE[1]}"/><circle cx="{x(pt.level):.1f}" '
                     f'cy="{y(pt.p):.1f}" r="{2 + min(pt.n, 400) ** 0.5 / 4:.1f}" '
                     f'fill="{PALETTE[1]}"><title>{_e(show_level(pt.level, integer))}: '
                     f'{pt.successes} of {pt.n}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def target_html(result: Search, title: str, lines: list[str], table: TextTable,
                integer: bool, lever: str) -> str:
    """`haiti-sim target`'s chart and table as one self-contained HTML page; `lines` are the
    summary the command line printed. A second chart zooms on the values run around the answer
    (from the last one where no run met the goal to the first where every run did)."""
    summary = "".join(f"<p>{_e(line)}</p>" for line in lines)
    never = [pt.level for pt in result.points if pt.successes == 0]
    always = [pt.level for pt in result.points if pt.successes == pt.n]
    zoom_low = max([lv for lv in never if lv < (result.answer or result.high)] or [result.low])
    zoom_high = min([lv for lv in always if lv > zoom_low] or [result.high])
    zoom = ""
    if result.status == FOUND and (zoom_low, zoom_high) != (result.low, result.high) \
            and zoom_high > zoom_low:
        zoom = (f"<h2>From {_e(show_level(zoom_low, integer))} to "
                f"{_e(show_level(zoom_high, integer))}</h2>"
                + _curve_svg(result, integer, lever, (zoom_low, zoom_high)))
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>{summary}"
        + _curve_svg(result, integer, lever) + zoom
        + "<p class=note>Dots: the share of replicates meeting the goal at each value run, with "
        "its 90% Wilson interval (the size grows with the replicates). Line: the monotone fit. "
        "Shaded: the answer's 90% interval.</p>"
        + _table(table)
        + f"<p class=note>Generated {dt.datetime.now():%Y-%m-%d %H:%M} by haiti-sim "
        f"{_e(package_version())}.</p></body></html>")


# ---------------------------------------------------------------------------- sweep
def _dose_svg(lines, display: str, lever: str, connect: bool) -> str:
    """Medians (dots, joined if `connect`) and 90% intervals (a band if joined, else bars)
    against a lever. `lines`: (colour, [(x, Interval)])."""
    width, height, left, right, top, bottom = 760, 260, 72, 16, 12, 44
    xs = [x for _, pts in lines for x, _ in pts]
    lows = [lv.low for _, pts in lines for _, lv in pts]
    highs = [lv.high for _, pts in lines for _, lv in pts]
    if not xs:
        return "<p class=note>No finished run.</p>"
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y_ticks = _ticks(min(min(lows), 0.0), max(highs))
    y0, y1 = y_ticks[0], y_ticks[-1]

    def x(v):
        return left + (width - left - right) * (v - x0) / (x1 - x0)

    def y(v):
        return top + (height - top - bottom) * (1 - (v - y0) / (y1 - y0))

    parts = [f'<svg class=chart width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             _y_grid(y_ticks, y, left, width - right, _axis_labels(y_ticks, display))]
    for v in (t for t in _ticks(x0, x1) if x0 <= t <= x1):
        parts.append(f'<text x="{x(v):.1f}" y="{height - 26}" text-anchor="middle">{v:g}</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" '
                 f'text-anchor="middle">{_parameter(lever)}</text>')
    for colour, pts in lines:
        if connect and len(pts) > 1:
            parts.append(_band(colour, [x(a) for a, _ in pts], [y(lv.median) for _, lv in pts],
                               [y(lv.low) for _, lv in pts], [y(lv.high) for _, lv in pts]))
        for a, lv in pts:
            if not connect:
                parts.append(f'<line x1="{x(a):.1f}" x2="{x(a):.1f}" y1="{y(lv.low):.1f}" '
                             f'y2="{y(lv.high):.1f}" stroke="{colour}"/>')
            parts.append(f'<circle cx="{x(a):.1f}" cy="{y(lv.median):.1f}" r="2.5" '
                         f'fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def sweep_html(s: sweep.Sweep, title: str) -> str:
    """A sweep's dose-response as one self-contained HTML page: for every key outcome, its
    median and 90% interval against the first lever varied (one curve per combination of the
    others), then the tables."""
    charts = []
    for outcome in COMPARED:
        curves = sweep.curves(s, outcome)
        colours = {c: PALETTE[i % len(PALETTE)] for i, (c, _) in enumerate(curves)}
        legend = "" if len(curves) < 2 else "<p class=legend>" + "".join(
            f'<span title="{_e(", ".join(f"{f} = {v:g}" for f, v in c))}"><span class=swatch '
            f'style="background:{colours[c]}"></span>'
            f'{_e(", ".join(f"{parameter_label(f)} = {v:g}" for f, v in c))}</span>'
            for c, _ in curves) + "</p>"
        since = f" since {s.origin}" if outcome.flow else ""
        charts.append(f"<h3>{_e(outcome.label)}{since}</h3>{legend}" + _dose_svg(
            [(colours[c], pts) for c, pts in curves], outcome.display, s.factors[0],
            connect=s.method == "grid"))
    when = f"on {s.at}" if s.at else "on each run's last day"
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><h1>{_e(title)}</h1>"
        f"<p class=note>Median over replicates (dot) and 90% interval "
        f"({'band' if s.method == 'grid' else 'bar'}), {_e(when)}; flows counted from "
        f"{s.origin}.</p>"
        + "".join(f"<p class=note>{_e(n)}</p>" for n in s.notes) + "".join(charts)
        + "<h2>Tables</h2>" + "".join(_table(t) for t in sweep.tables(s))
        + f"<p class=note>Generated {dt.datetime.now():%Y-%m-%d %H:%M} by haiti-sim "
        f"{_e(package_version())}.</p></body></html>")


# ---------------------------------------------------------------------------- sensitivity
ROLE_COLOURS = {"uncertainty": PALETTE[0], "lever": PALETTE[1], "initial": PALETTE[3],
                "constant": PALETTE[9]}


def _page(title: str, body: str) -> str:
    """A self-contained page: the title, `body`, and when and by what it was made."""
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1>{body}"
            f"<p class=note>Generated {dt.datetime.now():%Y-%m-%d %H:%M} by haiti-sim "
            f"{_e(package_version())}.</p></body></html>")


def _x_grid(ticks, x, top: int, bottom_y: int, label) -> str:
    """Vertical gridlines at `ticks` (pixel column `x(v)`), each labelled `label(v)` below."""
    return "".join(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top}" y2="{bottom_y}" '
                   f'stroke="{"#999" if v == 0 else "#eee"}"/><text x="{x(v):.1f}" '
                   f'y="{bottom_y + 14}" text-anchor="middle">{_e(label(v))}</text>'
                   for v in ticks)


def _bars_svg(rows: list[tuple[str, str, float, float, float | None, float | None]],
              label, axis: str) -> str:
    """Horizontal bars, one row each, most influential first: (name, colour, value, half-width
    of its interval, and optionally an inner value and its half-width, drawn darker)."""
    width, left, right, top, row_height = 760, 250, 20, 8, 20
    height = top + row_height * len(rows) + 40
    if not any(np.isfinite(v) and v != 0 for _, _, v, _, _, _ in rows):
        return "<p class=note>No parameter moves this outcome over the design.</p>"
    ends = [v + c for _, _, v, c, _, _ in rows if np.isfinite(v + c)] or [1.0]
    starts = [v - c for _, _, v, c, _, _ in rows if np.isfinite(v - c)] or [0.0]
    x_ticks = _ticks(min(min(starts), 0.0), max(max(ends), 1e-12))
    x0, x1 = x_ticks[0], x_ticks[-1]

    def x(v):
        return left + (width - left - right) * (v - x0) / (x1 - x0)

    bottom_y = top + row_height * len(rows)
    parts = [f'<svg class=chart width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             _x_grid(x_ticks, x, top, bottom_y, label),
             f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" '
             f'text-anchor="middle">{_e(axis)}</text>']
    for k, (name, colour, value, conf, inner, inner_conf) in enumerate(rows):
        y = top + k * row_height
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">'
                     f'{_parameter(name)}</text>')
        if not np.isfinite(value):
            continue
        parts.append(f'<rect x="{min(x(0), x(value)):.1f}" y="{y + 3}" '
                     f'width="{abs(x(value) - x(0)):.1f}" height="{row_height - 6}" '
                     f'fill="{colour}" fill-opacity="{0.45 if inner is not None else 0.8}">'
                     f'<title>{_e(parameter_label(name))} ({_e(name)}): {_e(label(value))} '
                     f'+- {_e(label(conf))}</title></rect>')
        whiskers = [(value, conf, y + row_height / 2 - 2)]
        if inner is not None and np.isfinite(inner):
            parts.append(f'<rect x="{min(x(0), x(inner)):.1f}" y="{y + 7}" '
                         f'width="{abs(x(inner) - x(0)):.1f}" height="{row_height - 14}" '
                         f'fill="{colour}"/>')
            whiskers.append((inner, inner_conf, y + row_height / 2 + 2))
        parts += [f'<line x1="{x(v - c):.1f}" x2="{x(v + c):.1f}" y1="{mid:.1f}" '
                  f'y2="{mid:.1f}" stroke="#222"/>' for v, c, mid in whiskers if np.isfinite(c)]
    parts.append("</svg>")
    return "".join(parts)


def sensitivity_html(s, title: str, top: int) -> str:
    """A sensitivity analysis as one page: for every outcome, its `top` most influential
    parameters as bars (Morris: mu*; Sobol: ST, with S1 inside, darker) with whiskers for the
    90% intervals, then the tables."""
    from sim.analysis import sensitivity

    morris = s.method == sensitivity.MORRIS
    charts = []
    for o in s.outcomes:
        rows = [(i.parameter, ROLE_COLOURS[i.role],
                 *((i.values["mu_star"], i.values["mu_star_conf"], None, None) if morris else
                   (i.values["ST"], i.values["ST_conf"], i.values["S1"], i.values["S1_conf"])))
                for i in s.ranked[o.name][:top]]
        unit = money_unit(v + c for _, _, v, c, _, _ in rows)  # one along the axis

        def label(v, o=o, unit=unit):
            if not morris:
                return f"{v:.2g}"
            return (f"{v * 100:g} pp" if o.display == outcomes.PERCENT
                    else show_value(v, o, unit=unit))

        since = f" since {s.origin}" if o.flow else ""
        axis = (f"mu*: mean absolute change of the outcome{since} across a parameter's range"
                if morris else "share of the variance: ST (light), S1 (dark)")
        charts.append(f"<h3>{_e(o.label)}{since}, at the end</h3>"
                      + _bars_svg(rows, label, axis))
    legend = "<p class=legend>" + "".join(
        f'<span><span class=swatch style="background:{c}"></span>{_e(role)}</span>'
        for role, c in ROLE_COLOURS.items() if role != "constant") + "</p>"
    what = (f"Morris elementary effects: {s.points} points ({s.points // (len(s.factors) + 1)} "
            f"trajectories over {len(s.factors)} parameters)" if morris else
            f"Sobol indices: {s.points} points (Saltelli's design over {len(s.factors)} "
            "parameters)")
    body = (f"<p class=note>{_e(what)}, {s.replicates} replicate(s) each, outcomes on the runs' "
            f"last day; whiskers: 90% bootstrap intervals. Parameters: {_e(s.parameters)}.</p>"
            + "".join(f"<p class=note>{_e(n)}</p>" for n in s.notes) + legend
            + "".join(charts) + "<h2>Tables</h2>"
            + "".join(_table(t) for t in sensitivity.tables(s, top)))
    return _page(title, body)


# ---------------------------------------------------------------------------- discover
def _tradeoff_svg(steps, chosen: int) -> str:
    """PRIM's trajectory: each box's density against its coverage, coloured by the number of
    restricted parameters, the chosen one ringed."""
    width, height, left, right, top, bottom = 560, 360, 52, 16, 12, 44
    low = min(s.density for s in steps)
    y_ticks = [v for v in _ticks(max(0.0, low - 0.05), 1.0) if v <= 1.0]
    y0, y1 = y_ticks[0], 1.0
    most = max(max(s.restricted for s in steps), 1)

    def x(v):
        return left + (width - left - right) * v

    def y(v):
        return top + (height - top - bottom) * (1 - (v - y0) / (y1 - y0))

    parts = [f'<svg class=chart width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             _y_grid(y_ticks, y, left, width - right, lambda v: f"{v:.0%}"),
             _x_grid([0, 0.25, 0.5, 0.75, 1], x, top, height - bottom, lambda v: f"{v:.0%}"),
             f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" '
             'text-anchor="middle">coverage (share of the cases of interest inside)</text>',
             f'<text x="12" y="{top + (height - top - bottom) / 2:.1f}" text-anchor="middle" '
             f'transform="rotate(-90 12 {top + (height - top - bottom) / 2:.1f})">density'
             '</text>']
    line = " ".join(f"{x(s.coverage):.1f},{y(s.density):.1f}" for s in steps)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#bbb"/>')
    for k, s in enumerate(steps):
        colour = RAMP[min(int(s.restricted / most * (len(RAMP) - 1)), len(RAMP) - 1)]
        parts.append(f'<circle cx="{x(s.coverage):.1f}" cy="{y(s.density):.1f}" r="4" '
                     f'fill="{colour}" stroke="#888"><title>step {k} ({s.phase}): coverage '
                     f'{s.coverage:.0%}, density {s.density:.0%}, mass {s.mass:.0%}, '
                     f'{s.restricted} restricted</title></circle>')
        if k == chosen:
            parts.append(f'<circle cx="{x(s.coverage):.1f}" cy="{y(s.density):.1f}" r="8" '
                         f'fill="none" stroke="{PALETTE[2]}" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def _limits_svg(rows: list[dict], kept: dict[str, tuple], show) -> str:
    """PRIM's box along each parameter it restricts: the range the runs covered (grey), the
    box's part of it (pale) and, darker over it, the part its significant limits keep (`kept`:
    name: (low or None, high or None))."""
    width, left, right, top, row_height = 760, 250, 90, 8, 26
    height = top + row_height * len(rows) + 8

    def x(v):
        return left + (width - left - right) * v

    def segment(r, low, high, colour, y):
        span = r["range_high"] - r["range_low"]
        a = 0 if low is None else (low - r["range_low"]) / span
        b = 1 if high is None else (high - r["range_low"]) / span
        return (f'<line x1="{x(a):.1f}" x2="{x(b):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{colour}" stroke-width="8"/>', a, b)

    parts = [f'<svg class=chart width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for k, r in enumerate(rows):
        y = top + k * row_height + row_height / 2
        box, a, b = segment(r, r["low"], r["high"], "#f4b6b7", y)
        drawn = [segment(r, None, None, "#ddd", y)[0], box]
        if r["parameter"] in kept:
            drawn.append(segment(r, *kept[r["parameter"]], PALETTE[2], y)[0])
        ends = [(a, r["low"]), (b, r["high"])]
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f'{_parameter(r["parameter"])}</text>' + "".join(drawn) + "".join(
                f'<text x="{x(at):.1f}" y="{y - 6:.1f}" text-anchor="middle">'
                f'{_e(show(r["parameter"], v))}</text>' for at, v in ends if v is not None)
            + f'<text x="{x(1) + 6:.1f}" y="{y + 4:.1f}">'
            f'{"" if r["parameter"] in kept else "not significant"}</text>')
    parts.append("</svg>")
    return "".join(parts)


def discover_html(d, title: str, lines: list[str]) -> str:
    """A scenario discovery as one page: what PRIM found (the lines the command line printed),
    the coverage-density trade-off of its trajectory, the chosen box's limits, the table."""
    from sim.analysis import discover

    kept = {lim.name: (lim.low, lim.high) for lim in d.kept.limits}
    rows = [r for r in discover.box_records(d) if r["box"] == "prim"]
    limits = (_limits_svg(rows, kept, discover.show_value) if rows else
              "<p class=note>The box restricts no parameter.</p>")
    body = ("".join(f"<p>{_e(line)}</p>" for line in lines)
            + f"<p class=note>Parameters: {_e(d.parameters)}.</p>"
            + "".join(f"<p class=note>{_e(n)}</p>" for n in d.notes)
            + "<h2>Coverage and density along PRIM's trajectory</h2><p class=note>Each dot is "
            "a box PRIM went through, from the whole of the ranges (coverage 100%) as it "
            "peeled and pasted; darker: more parameters restricted; ringed: the box chosen, "
            f"the most coverage at a density of at least {d.min_density:.0%}.</p>"
            + _tradeoff_svg(d.trajectory.steps, d.box.step)
            + "<h2>PRIM's box</h2><p class=note>Grey: the range the runs covered; pale red: "
            "PRIM's box; red: the box the summary gives, without the limits that are not "
            "significant (quasi-p-value >= 0.05).</p>" + limits
            + _table(discover.table(d)))
    return _page(title, body)
