"""The map of who controls Haiti, month by month: plotly traces on plain longitude/latitude axes.

Drawn with `go.Scatter` polygons and a `go.Heatmap` on ordinary axes (equal distances), not with
plotly's geo projections: those fetch a world topojson from a CDN, and this app must work offline.
The shipped, simplified OCHA / CNIGS boundaries (sim/data/map/*.geojson, read by
`sim.analysis.report.boundaries`, as the HTML report's maps) give the communes and
departments; the Port-au-Prince metro's ~1 km cells form a regular lattice, shown as a heatmap in
the right-hand panel.

The two panels show two measures (the communes' median share of residents under gang control,
the share of runs in which gangs hold a cell), so each has its own colour bar; the towns named
are `sim.analysis.report.place_labels`' choice, as in the HTML report, made for a window 820 px
wide so that no two names overlap.

The date slider and the play button are plotly's own animation frames, so they run in the browser
without a round trip to the server: each frame recolours the communes and the metro cells.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from sim.analysis.report import boundaries, place_labels
from sim.model import geography, outcomes
from ui.analysis import MapFrames

ATTRIBUTION = "Boundaries: OCHA / CNIGS"
# Grey where nobody is under gang control, then pale yellow to dark red (as the HTML report).
COLORSCALE = [[0.0, "#ececec"], [0.02, "#ffffcc"], [0.25, "#fed976"], [0.5, "#fd8d3c"],
              [0.75, "#e31a1c"], [1.0, "#800026"]]
RAMP = ["#" + "".join(f"{round(float(c)):02x}" for c in rgb[4:-1].split(","))  # 'rgb(r, g, b)'
        for rgb in sample_colorscale(COLORSCALE, np.linspace(0, 1, 101), colortype="rgb")]
SEA = "#dde9f2"
PLACE_SYMBOLS = {"airport": "star", "seaport": "square", "downtown": "diamond",
                 "border_crossing": "x", "town": "circle"}
# Each panel's share of the figure's width, a colour bar right of each: the communes' measure
# and the cells' are different numbers, so each has its own bar, titled as the catalogue
# words it (`sim.model.outcomes`).
PANELS = ((0.0, 0.52), (0.62, 0.92))
COMMUNE_MEASURE = (outcomes.DEPARTMENT_SHARE.label.format("the commune")
                   + " (median over runs)")
CELL_MEASURE = "Share of runs in which gangs hold the cell"
RATIO = 1 / math.cos(math.radians(19.0))  # equal distances at Haiti's middle latitude
# Place names are chosen (`report.place_labels`) for the narrowest layout the page is made for,
# a browser window 820 px wide: the figure ~790 px; wider windows and zooming only add room.
NARROW_FIGURE_PX = 790
MARGINS_PX = (60, 90)  # the layout's top and bottom margins


def _path(rings) -> tuple[list, list]:
    """x and y of several rings in one trace, separated by None (plotly draws each apart)."""
    xs, ys = [], []
    for ring in rings:
        xs += [p[0] for p in ring] + [None]
        ys += [p[1] for p in ring] + [None]
    return xs, ys


@functools.cache
def metro_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The metro cells on their lattice: (lon centres, lat centres, row, column of each cell)."""
    geo = geography.load()
    cells = np.flatnonzero(geo.is_metro)
    b = geo.bounds[cells]
    cx, cy = (b[:, 0] + b[:, 1]) / 2, (b[:, 2] + b[:, 3]) / 2
    lons, col = np.unique(np.round(cx, 5), return_inverse=True)
    lats, row = np.unique(np.round(cy, 5), return_inverse=True)
    return lons, lats, row, col


def _grid(cell_share: np.ndarray) -> list:
    """The metro cells' values on the lattice, in percent (None off the metro), for JSON."""
    geo = geography.load()
    lons, lats, row, col = metro_grid()
    z = np.full((len(lats), len(lons)), np.nan)
    z[row, col] = np.round(cell_share[geo.is_metro] * 100)
    return [[None if np.isnan(v) else int(v) for v in line] for line in z]


def _colour(share: float) -> str:
    return RAMP[int(round(min(max(share, 0.0), 1.0) * 100))]


def control_map(frames: MapFrames, height: int = 640) -> go.Figure:
    """Communes of Haiti (left) and the capital's cells (right), with a date slider and play.

    Built from plain dictionaries: made trace by trace, plotly's validation of ~140 communes
    takes seconds."""
    geo = geography.load()
    communes = boundaries("communes")
    index = {str(p): i for i, p in enumerate(geo.commune_pcode)}
    order = np.array([index[c["pcode"]] for c in communes])
    last = len(frames.dates) - 1
    names = [c["name"] for c in communes]

    def commune_style(frame: int) -> tuple[list[str], list[str]]:
        share = frames.commune_share[frame, order]
        return ([_colour(v) for v in share],
                [f"{n}: {v:.0%}" for n, v in zip(names, share, strict=True)])

    colours, texts = commune_style(last)
    data = []
    for k, c in enumerate(communes):
        x, y = _path(c["rings"])
        data.append({"type": "scatter", "x": x, "y": y, "fill": "toself", "mode": "lines",
                     "line": {"color": "#9a9a9a", "width": 0.4}, "fillcolor": colours[k],
                     "hoveron": "fills", "text": texts[k], "hoverinfo": "text",
                     "showlegend": False, "name": c["name"]})
    n_communes = len(data)
    dx, dy = _path(r for d in boundaries("departments") for r in d["rings"])
    data.append({"type": "scatter", "x": dx, "y": dy, "mode": "lines", "name": "departments",
                 "line": {"color": "#333", "width": 1.1}, "hoverinfo": "skip",
                 "showlegend": False})
    b = geo.bounds[geo.is_metro]
    box = (b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max())
    country = (geo.bounds[:, 0].min(), geo.bounds[:, 1].max(), geo.bounds[:, 2].min(),
               geo.bounds[:, 3].max())
    data.append({"type": "scatter", "x": [box[0], box[1], box[1], box[0], box[0]],
                 "y": [box[2], box[2], box[3], box[3], box[2]], "mode": "lines",
                 "line": {"color": "#222", "width": 1, "dash": "dot"}, "hoverinfo": "skip",
                 "showlegend": False, "name": "Port-au-Prince metro"})
    # The communes are coloured trace by trace, which draws no colour bar: this marker-less
    # trace gives their measure its own, beside the left panel.
    data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers",
                 "hoverinfo": "skip", "showlegend": False, "name": "commune colour bar",
                 "marker": {"color": [0], "cmin": 0, "cmax": 100, "colorscale": COLORSCALE,
                            "showscale": True, "colorbar": _colour_bar(COMMUNE_MEASURE,
                                                                       PANELS[0][1] + 0.005)}})
    lons, lats, _, _ = metro_grid()
    heat = len(data)
    data.append({"type": "heatmap", "x": lons, "y": lats, "z": _grid(frames.cell_share[last]),
                 "zmin": 0, "zmax": 100, "colorscale": COLORSCALE, "xaxis": "x2", "yaxis": "y2",
                 "hovertemplate": "%{z}% of runs gang-held<extra></extra>",
                 "colorbar": _colour_bar(CELL_MEASURE, PANELS[1][1] + 0.005)})
    cx, cy = _path(r for c in communes for r in c["rings"])
    data.append({"type": "scatter", "x": cx, "y": cy, "mode": "lines", "xaxis": "x2",
                 "yaxis": "y2", "line": {"color": "#555", "width": 0.6}, "hoverinfo": "skip",
                 "showlegend": False, "name": "commune borders"})
    data += _places(geo, box, country, height)

    steps, frame_list, frame_names = [], [], []
    for f, date in enumerate(frames.dates):
        name = date.isoformat()
        frame_names.append(name)
        colours, texts = commune_style(f)
        frame_list.append({"name": name, "traces": list(range(n_communes)) + [heat], "data": [
            *({"type": "scatter", "fillcolor": col, "text": txt}
              for col, txt in zip(colours, texts, strict=True)),
            {"type": "heatmap", "z": _grid(frames.cell_share[f])}]})
        steps.append({"label": f"{date:%Y-%m}", "method": "animate",
                      "args": [[name], {"mode": "immediate", "transition": {"duration": 0},
                                        "frame": {"duration": 0, "redraw": True}}]})

    layout = {
        "height": height, "margin": {"l": 5, "r": 5, "t": MARGINS_PX[0], "b": MARGINS_PX[1]},
        "plot_bgcolor": SEA, "paper_bgcolor": "white", "dragmode": "pan", "hovermode": "closest",
        "annotations": [
            _title("Haiti, by commune", PANELS[0][0]),
            _title("Port-au-Prince, by ~1 km cell", PANELS[1][0]),
            {"text": ATTRIBUTION, "showarrow": False, "xref": "paper", "yref": "paper",
             "x": 1.0, "y": 0.0, "xanchor": "right", "yanchor": "bottom",
             "font": {"size": 10, "color": "#444"}}],
        "sliders": [{"active": last, "steps": steps, "x": 0.2, "len": 0.8, "y": 0.0,
                     "yanchor": "top", "currentvalue": {"prefix": "Date: ", "font": {"size": 13}},
                     "pad": {"t": 10}, "font": {"size": 10}}],
        "updatemenus": [
            {"type": "buttons", "direction": "left", "x": 0.0, "y": 0.0, "xanchor": "left",
             "yanchor": "top", "pad": {"t": 40}, "showactive": False, "buttons": [
                 {"label": "▶ Play", "method": "animate",
                  "args": [frame_names, {"frame": {"duration": 400, "redraw": True},
                                         "transition": {"duration": 0}, "mode": "immediate"}]},
                 {"label": "❚❚ Pause", "method": "animate",
                  "args": [[None], {"frame": {"duration": 0, "redraw": False},
                                    "mode": "immediate"}]}]},
            {"type": "buttons", "direction": "left", "x": 0.0, "y": 1.0, "xanchor": "left",
             "yanchor": "bottom", "showactive": False, "pad": {"b": 22}, "buttons": [
                 {"label": "All Haiti", "method": "relayout",
                  "args": [_ranges("", country)]},
                 {"label": "Zoom to Port-au-Prince", "method": "relayout",
                  "args": [_ranges("", box)]}]}],
    }
    for axis, domain, extent in (("", PANELS[0], country), ("2", PANELS[1], box)):
        anchor = "y" + axis
        ranges = _ranges(axis, extent)
        layout["xaxis" + axis] = {"domain": domain, "visible": False, "constrain": "domain",
                                  "anchor": anchor, "range": ranges[f"xaxis{axis}.range"]}
        layout["yaxis" + axis] = {"visible": False, "constrain": "domain", "anchor": "x" + axis,
                                  "scaleanchor": "x" + axis, "scaleratio": RATIO,
                                  "range": ranges[f"yaxis{axis}.range"]}
    return AnimatedFigure({"data": data, "layout": layout}, frame_list)


class AnimatedFigure(go.Figure):
    """A figure whose animation frames are kept as plain dictionaries.

    plotly.py turns every trace of every frame into a validated object (~8,500 of them here, tens
    of seconds); the frames only recolour traces that are validated once, in the figure itself,
    so they are passed through as they are (`tests/test_app.py` validates a whole map once)."""

    def __init__(self, figure: dict, frames: list[dict]):
        super().__init__(figure)
        self._raw_frames = frames

    def to_dict(self) -> dict:
        return {**super().to_dict(), "frames": self._raw_frames}


def _title(text: str, x: float) -> dict:
    return {"text": text, "showarrow": False, "xref": "paper", "yref": "paper", "x": x,
            "y": 1.0, "xanchor": "left", "yanchor": "bottom", "font": {"size": 12}}


def _ranges(axis: str, extent) -> dict:
    x0, x1, y0, y1 = (float(v) for v in extent)
    pad = 0.02 * (x1 - x0)
    return {f"xaxis{axis}.range": [x0 - pad, x1 + pad], f"yaxis{axis}.range": [y0 - pad, y1 + pad]}


def _colour_bar(title: str, x: float) -> dict:
    """A vertical colour bar of percentages at paper position `x`, its title in one line along
    it (a title broken over lines runs into the tick labels)."""
    return {"title": {"text": title, "side": "right", "font": {"size": 10}}, "ticksuffix": "%",
            "len": 0.9, "thickness": 12, "x": x, "xanchor": "left"}


def _px_per_degree(extent, panel: tuple[float, float], height: int) -> float:
    """Pixels per degree of latitude of a panel showing `extent` (padded as `_ranges` pads it)
    in the narrowest figure: its width or its height binds, as plotly's `constrain` does."""
    x0, x1, y0, y1 = (float(v) for v in extent)
    pad = 0.04 * (x1 - x0)
    wide = (panel[1] - panel[0]) * NARROW_FIGURE_PX / ((x1 - x0 + pad) / RATIO)
    high = (height - sum(MARGINS_PX)) / (y1 - y0 + pad)
    return min(wide, high)


def _places(geo, box, country, height: int) -> list[dict]:
    """Every place as a marker (its name on hover), and the names that fit (see
    `report.place_labels`) on each panel: the country's largest towns, the capital's
    communes."""
    lon, lat = geo.lon[geo.place_cell], geo.lat[geo.place_cell]
    kind = geo.place_kind.astype(str)
    name = geo.place_name.astype(str)
    inside = (lon >= box[0]) & (lon <= box[1]) & (lat >= box[2]) & (lat <= box[3])
    hover = [f"{n} ({k.replace('_', ' ')})" for n, k in zip(name, kind, strict=True)]
    symbols = np.array([PLACE_SYMBOLS.get(k, "circle") for k in kind])
    traces = []
    everywhere = np.ones(len(lon), bool)
    for axis, where, extent, panel, font, size in (("", everywhere, country, PANELS[0], 9, 6),
                                                    ("2", inside, box, PANELS[1], 10, 8)):
        labels = place_labels(geo, extent, _px_per_degree(extent, panel, height), font)
        traces += [
            {"type": "scatter", "x": lon[where], "y": lat[where], "mode": "markers",
             "xaxis": "x" + axis, "yaxis": "y" + axis, "name": "places",
             "hovertext": [h for h, i in zip(hover, where, strict=True) if i],
             "hoverinfo": "text", "showlegend": False,
             "marker": {"symbol": symbols[where].tolist(), "size": size, "color": "#1f4e79",
                        "line": {"width": 0.5 + 0.5 * bool(axis), "color": "white"}}},
            {"type": "scatter", "x": [x for _, x, _ in labels], "y": [y for _, _, y in labels],
             "mode": "text", "text": [n for n, _, _ in labels], "textposition": "top center",
             "xaxis": "x" + axis, "yaxis": "y" + axis, "name": "place names",
             "textfont": {"size": font, "color": "#111"}, "hoverinfo": "skip",
             "showlegend": False}]
    return traces
