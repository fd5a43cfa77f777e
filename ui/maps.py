"""The map of who controls Haiti, month by month: plotly traces on plain longitude/latitude axes.

Drawn with `go.Scatter` polygons and a `go.Heatmap` on ordinary axes (equal distances), not with
plotly's geo projections: those fetch a world topojson from a CDN, and this app must work offline.
The shipped, simplified OCHA / CNIGS boundaries (sim/data/map/*.geojson, read by
`sim.analysis.report.boundaries`, as the HTML report's maps) give the communes and
departments; the Port-au-Prince metro's ~1 km cells form a regular lattice, shown as a heatmap in
the right-hand panel.

The date slider and the play button are plotly's own animation frames, so they run in the browser
without a round trip to the server: each frame recolours the communes and the metro cells.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from sim.analysis.report import boundaries
from sim.model import geography
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
SHORT_NAMES = {"airport": "Airport", "seaport": "Port", "downtown": "Downtown"}


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
    data.append({"type": "scatter", "x": [box[0], box[1], box[1], box[0], box[0]],
                 "y": [box[2], box[2], box[3], box[3], box[2]], "mode": "lines",
                 "line": {"color": "#222", "width": 1, "dash": "dot"}, "hoverinfo": "skip",
                 "showlegend": False, "name": "Port-au-Prince metro"})
    lons, lats, _, _ = metro_grid()
    heat = len(data)
    data.append({"type": "heatmap", "x": lons, "y": lats, "z": _grid(frames.cell_share[last]),
                 "zmin": 0, "zmax": 100, "colorscale": COLORSCALE, "xaxis": "x2", "yaxis": "y2",
                 "hovertemplate": "%{z}% of runs gang-held<extra></extra>",
                 "colorbar": {"title": {"text": "under gang<br>control", "side": "top"},
                              "ticksuffix": "%", "len": 0.7, "thickness": 12}})
    cx, cy = _path(r for c in communes for r in c["rings"])
    data.append({"type": "scatter", "x": cx, "y": cy, "mode": "lines", "xaxis": "x2",
                 "yaxis": "y2", "line": {"color": "#555", "width": 0.6}, "hoverinfo": "skip",
                 "showlegend": False, "name": "commune borders"})
    data += _places(geo, box)

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

    lon = np.concatenate([geo.bounds[:, 0], geo.bounds[:, 1]])
    lat = np.concatenate([geo.bounds[:, 2], geo.bounds[:, 3]])
    ratio = 1 / math.cos(math.radians(19.0))
    country = (lon.min(), lon.max(), lat.min(), lat.max())
    layout = {
        "height": height, "margin": {"l": 5, "r": 5, "t": 60, "b": 90}, "plot_bgcolor": SEA,
        "paper_bgcolor": "white", "dragmode": "pan", "hovermode": "closest",
        "annotations": [
            _title("Haiti: share of each commune's residents under gang control (median)", 0.0),
            _title("Port-au-Prince: share of runs in which gangs hold each ~1 km cell", 0.63),
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
    for axis, domain, extent in (("", [0.0, 0.6], country), ("2", [0.63, 1.0], box)):
        anchor = "y" + axis
        ranges = _ranges(axis, extent)
        layout["xaxis" + axis] = {"domain": domain, "visible": False, "constrain": "domain",
                                  "anchor": anchor, "range": ranges[f"xaxis{axis}.range"]}
        layout["yaxis" + axis] = {"visible": False, "constrain": "domain", "anchor": "x" + axis,
                                  "scaleanchor": "x" + axis, "scaleratio": ratio,
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


def _places(geo, box) -> list[dict]:
    lon, lat = geo.lon[geo.place_cell], geo.lat[geo.place_cell]
    kind = geo.place_kind.astype(str)
    name = geo.place_name.astype(str)
    inside = (lon >= box[0]) & (lon <= box[1]) & (lat >= box[2]) & (lat <= box[3])
    labelled = ~inside
    short = np.array([SHORT_NAMES.get(k, n.split(" / ")[0]) for n, k in zip(name, kind,
                                                                              strict=True)])
    hover = [f"{n} ({k.replace('_', ' ')})" for n, k in zip(name, kind, strict=True)]
    symbols = [PLACE_SYMBOLS.get(k, "circle") for k in kind]
    return [
        {"type": "scatter", "x": lon, "y": lat, "mode": "markers+text", "name": "places",
         "text": np.where(labelled, short, "").tolist(), "textposition": "top center",
         "textfont": {"size": 9, "color": "#222"}, "hovertext": hover, "hoverinfo": "text",
         "marker": {"symbol": symbols, "size": 6, "color": "#1f4e79",
                    "line": {"width": 0.5, "color": "white"}}, "showlegend": False},
        {"type": "scatter", "x": lon[inside], "y": lat[inside], "mode": "markers+text",
         "xaxis": "x2", "yaxis": "y2", "name": "places in the capital",
         "text": np.where(kind[inside] == "town", short[inside], "").tolist(),
         "textposition": "top center",
         "textfont": {"size": 10, "color": "#111"},
         "hovertext": [h for h, i in zip(hover, inside, strict=True) if i], "hoverinfo": "text",
         "marker": {"symbol": [s for s, i in zip(symbols, inside, strict=True) if i], "size": 8,
                    "color": "#1f4e79", "line": {"width": 1, "color": "white"}},
         "showlegend": False},
    ]
