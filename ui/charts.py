"""Time series charts: the median over replicates as a line and the 90% interval as a band, for one
or several scenarios, with the branch date marked. The bands are `sim.analysis.compare`'s and the
colours the HTML report's (`sim.analysis.report`), so a scenario keeps its colour and its numbers
from the app to the report.
"""

from __future__ import annotations

import datetime as dt
import html

import numpy as np
import plotly.graph_objects as go

from sim.analysis import compare
from sim.analysis.report import PALETTE, parameter_label
from sim.model.outcomes import COUNT, PERCENT, USD

MISSED = "#d62728"  # an observed figure outside the simulated band
# plotly's (d3's) number format for each display format of the outcome catalogue
TICK_FORMAT = {PERCENT: ".0%", USD: "$,.0f", COUNT: ",.0f"}
AXIS_TITLE = {USD: "million USD"}


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def bands(lines: list[tuple[str, tuple]], title: str, display: str,
          branch: dt.date | None = None, difference: bool = False,
          height: int = 300, colours: list[str] | None = None,
          observed: tuple | list = (), missed: list[bool] | None = None,
          hover: list[str] | None = None) -> go.Figure:
    """`lines`: (name, (dates, median, low, high)) as `compare.band` gives them, drawn in
    `colours` (default: the palette's order); `display` is the outcome's display format;
    `observed`, the record's figures over the runs (`compare.observed`), drawn as points with
    their figure and source on hover, in the legend as "observed (UN, ...)", and as red
    crosses where `missed` (`compare.missed`, one flag per figure) says the runs miss them;
    `hover`, what the
    hover calls each line (default: its name). With `difference` the lines are paired
    differences: signed, about a zero line, and a share's in percentage points (a difference of
    shares is not a percentage of anything).

    Plotly renders HTML in titles, legends and hover text, and names come from users' files: they
    are escaped, so a name shows as written and never becomes a link or an image."""
    fig = go.Figure()
    title = html.escape(title)
    pp = difference and display == PERCENT
    # dollars in millions: "$530" reads better than "530M"
    scale = 1e6 if display == USD else 0.01 if pp else 1.0
    fmt = ("+" if difference else "") + (".0f" if pp else TICK_FORMAT[display])
    unit = " M" if display == USD else " pp" if pp else ""
    for i, (raw_name, (dates, median, low, high)) in enumerate(lines):
        c, name = (colours[i] if colours else colour(i)), html.escape(raw_name)
        hovered = html.escape(hover[i]) if hover else name
        median, low, high = (np.asarray(v) / scale for v in (median, low, high))
        x = np.asarray(dates).astype("datetime64[D]").astype(str)
        fig.add_trace(go.Scatter(x=x, y=high, mode="lines", line={"width": 0},
                                 hoverinfo="skip", showlegend=False, legendgroup=name))
        fig.add_trace(go.Scatter(x=x, y=low, mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_rgba(c, 0.18), hoverinfo="skip", showlegend=False,
                                 legendgroup=name))
        fig.add_trace(go.Scatter(x=x, y=median, mode="lines", line={"color": c, "width": 2},
                                 name=name, legendgroup=name,
                                 hovertemplate=hovered.replace("%", "%%")
                                 + f": %{{y:{fmt}}}{unit}<extra></extra>"))
    missed = missed or [False] * len(observed)
    for outside in (False, True):
        shown = [t for t, m in zip(observed, missed, strict=True) if m == outside]
        if not shown:
            continue
        fig.add_trace(go.Scatter(
            x=[t.when.isoformat() for t in shown], y=[t.value / scale for t in shown],
            mode="markers", name=html.escape(compare.observed_name(shown)) + (
                ": outside the 90% band" if outside else ""),
            marker={"color": MISSED if outside else "#111", "size": 10 if outside else 9,
                    "symbol": "x" if outside else "diamond"},
            hovertext=[html.escape(f"observed {t.shown} ({t.source})") + (
                ": outside the simulated 90% band" if outside else "") for t in shown],
            hovertemplate="%{hovertext}<extra></extra>"))
    if branch is not None:
        fig.add_vline(x=branch.isoformat(), line={"color": "#888", "dash": "dot", "width": 1})
        fig.add_annotation(x=branch.isoformat(), y=1, yref="paper", text="branch",
                           showarrow=False, xanchor="left", font={"size": 10, "color": "#666"})
    if difference:
        fig.add_hline(y=0, line={"color": "#444", "width": 1})
    fig.update_layout(
        title={"text": title, "font": {"size": 14}, "x": 0.0}, height=height,
        margin={"l": 60, "r": 10, "t": 40, "b": 10}, hovermode="x unified",
        legend={"orientation": "h", "y": -0.15}, showlegend=len(lines) > 1 or bool(observed),
        yaxis={"tickformat": fmt, "rangemode": "normal" if difference else "tozero",
               "title": "percentage points" if pp else AXIS_TITLE.get(display)},
        plot_bgcolor="white", xaxis={"gridcolor": "#eee"},
    )
    fig.update_yaxes(gridcolor="#eee")
    return fig


LIMIT_COLOURS = {"target": "#4c78a8", "ceiling": "#72b7b2", "money": "#e45756", "pace": "#f2cf5b",
                 compare.NO_MISSION: "#d9d9d9"}


def troop_limits(dates, shares: dict[str, np.ndarray], title: str) -> go.Figure:
    """Stacked shares of runs in which each constraint holds the troops, and of runs with no
    mission (`compare.troop_limits`): they add up to one on every day."""
    fig = go.Figure()
    x = np.asarray(dates).astype("datetime64[D]").astype(str)
    for name, share in shares.items():
        fig.add_trace(go.Scatter(x=x, y=share, mode="lines", stackgroup="limits", name=name,
                                 line={"width": 0.5, "color": LIMIT_COLOURS.get(name)},
                                 hovertemplate=f"{name}: %{{y:.0%}}<extra></extra>"))
    fig.update_layout(title={"text": html.escape(title), "font": {"size": 14}, "x": 0.0},
                      height=300, margin={"l": 60, "r": 10, "t": 40, "b": 10},
                      hovermode="x unified", legend={"orientation": "h", "y": -0.15},
                      yaxis={"tickformat": ".0%", "range": [0, 1], "title": "share of runs"},
                      plot_bgcolor="white", xaxis={"gridcolor": "#eee"})
    return fig


PLOT_CONFIG = {"displaylogo": False, "scrollZoom": True,
               "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


def target_curve(points: list, curve, probability: float, answer: float | None,
                 interval: tuple[float, float] | None, axis: str, scale: float = 1.0,
                 height: int = 380) -> go.Figure:
    """A target search's curve: the share of replicates meeting the goal at each lever value run
    (dots sized by replicates, bars their 90% Wilson interval, `sim.analysis.search.Point`), the
    search's fitted curve (`curve.p`, a `search.Curve`), the probability asked for and the answer
    with its 90% interval (shaded). Lever values are divided by `scale` (millions of dollars)."""
    fig = go.Figure()
    if interval is not None:
        fig.add_vrect(x0=interval[0] / scale, x1=interval[1] / scale, fillcolor=_rgba(colour(0),
                      0.12), line_width=0, layer="below")
    if curve is not None and len(curve.levels):
        x = np.linspace(curve.levels[0], curve.levels[-1], 200)
        fig.add_trace(go.Scatter(x=x / scale, y=curve.p(x), mode="lines", name="fitted curve",
                                 line={"color": colour(0), "width": 2},
                                 hovertemplate="%{y:.0%}<extra>fitted</extra>"))
    if points:
        x = np.array([pt.level for pt in points]) / scale
        p = np.array([pt.p for pt in points])
        low = np.array([pt.interval[0] for pt in points])
        high = np.array([pt.interval[1] for pt in points])
        n = np.array([pt.n for pt in points])
        fig.add_trace(go.Scatter(
            x=x, y=p, mode="markers", name="runs at a value (90% interval)",
            marker={"color": "#111", "size": 5 + 10 * np.sqrt(n / n.max())},
            error_y={"type": "data", "symmetric": False, "array": high - p,
                     "arrayminus": p - low, "color": "#777", "thickness": 1},
            customdata=np.stack([n, low, high], axis=1),
            hovertemplate="%{x:,.4~f}: %{y:.0%} of %{customdata[0]} runs "
                          "[%{customdata[1]:.0%}-%{customdata[2]:.0%}]<extra></extra>"))
    fig.add_hline(y=probability, line={"color": colour(1), "dash": "dash", "width": 1},
                  annotation_text=f"chance wanted: {probability:.0%}",
                  annotation_position="top left")
    if answer is not None:
        fig.add_vline(x=answer / scale, line={"color": colour(0), "width": 2})
    fig.update_layout(
        height=height, margin={"l": 60, "r": 10, "t": 20, "b": 40}, plot_bgcolor="white",
        xaxis={"title": html.escape(axis), "gridcolor": "#eee", "tickformat": ",~f",
               "zeroline": False},
        yaxis={"title": "chance of the goal", "tickformat": ".0%", "range": [-0.03, 1.03],
               "gridcolor": "#eee"},
        legend={"orientation": "h", "y": -0.25})
    return fig


def sensitivity_bars(rows: list[dict], method: str, title: str, scale: float = 1.0,
                     unit: str = "") -> go.Figure:
    """The parameters of `rows` (one outcome's, most influential first, as `sensitivity.records`
    gives them) as horizontal bars, the most influential on top: Morris's mu* with its 90%
    whiskers and sigma as a marker, or Sobol's ST and S1 with theirs. `scale` turns an index
    into the axis's `unit` (100 for a share's change in percentage points). The axis names the
    parameters by their labels; the hover adds the name the command line takes."""
    names = [r["parameter"] for r in rows][::-1]
    escaped = [html.escape(parameter_label(n)) for n in names]
    hover = [html.escape(f"{parameter_label(n)} ({n})") for n in names]

    def column(key):
        return [(r.get(key) or 0.0) * scale for r in rows][::-1]

    def whiskers(value, half):
        """The interval's half-width each way, cut at 0 below: an index is never negative."""
        below = [max(min(h, v), 0.0) for h, v in zip(column(half), column(value), strict=True)]
        return {"type": "data", "symmetric": False, "array": column(half), "arrayminus": below}

    fig = go.Figure()
    if method == "morris":
        fig.add_trace(go.Bar(x=column("mu_star"), y=escaped, orientation="h", name="mu*",
                             marker_color=colour(0), customdata=hover,
                             error_x=whiskers("mu_star", "mu_star_conf"),
                             hovertemplate="%{customdata}: mu* %{x:.3~g}<extra></extra>"))
        fig.add_trace(go.Scatter(x=column("sigma"), y=escaped, mode="markers", name="sigma",
                                 marker={"symbol": "diamond", "color": colour(1), "size": 8},
                                 customdata=hover,
                                 hovertemplate="%{customdata}: sigma %{x:.3~g}<extra></extra>"))
    else:
        for i, key in enumerate(("ST", "S1")):
            fig.add_trace(go.Bar(x=column(key), y=escaped, orientation="h", name=key,
                                 marker_color=colour(i), customdata=hover,
                                 error_x=whiskers(key, f"{key}_conf"),
                                 hovertemplate=f"%{{customdata}}: {key} %{{x:.2f}}"
                                               "<extra></extra>"))
        fig.update_layout(barmode="group")
    fig.update_layout(title={"text": html.escape(title), "font": {"size": 14}, "x": 0.0},
                      height=120 + 22 * len(names), margin={"l": 10, "r": 10, "t": 40, "b": 30},
                      legend={"orientation": "h", "y": -0.12},
                      xaxis={"title": html.escape(unit), "rangemode": "tozero"},
                      yaxis={"automargin": True})  # the labels take the room they need
    return fig


def discovery_tradeoff(steps: list[dict]) -> go.Figure:
    """PRIM's trajectory (`discover.trajectory_records`): density against coverage at every
    step, the colour the number of parameters restricted, the chosen box ringed."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[s["coverage"] for s in steps], y=[s["density"] for s in steps], mode="lines+markers",
        name="PRIM's steps", line={"color": "#bbbbbb"},
        marker={"color": [s["restricted"] for s in steps], "colorscale": "Viridis", "size": 8,
                "colorbar": {"title": "restricted"}},
        customdata=[[s["step"], s["restricted"], s["mass"]] for s in steps],
        hovertemplate="step %{customdata[0]}: coverage %{x:.0%}, density %{y:.0%}, mass "
                      "%{customdata[2]:.0%}, %{customdata[1]} parameters<extra></extra>"))
    chosen = [s for s in steps if s.get("chosen")]
    if chosen:
        fig.add_trace(go.Scatter(x=[chosen[0]["coverage"]], y=[chosen[0]["density"]],
                                 mode="markers", name="the box chosen",
                                 marker={"size": 16, "color": "rgba(0,0,0,0)",
                                         "line": {"color": "#d62728", "width": 2}},
                                 hoverinfo="skip"))
    fig.update_layout(title={"text": "Coverage against density along PRIM's peeling",
                             "font": {"size": 14}, "x": 0.0},
                      height=380, margin={"l": 10, "r": 10, "t": 40, "b": 30},
                      xaxis={"title": "coverage (share of the failures in the box)",
                             "tickformat": ".0%", "range": [0, 1.05]},
                      yaxis={"title": "density (share of the box's runs that fail)",
                             "tickformat": ".0%", "range": [0, 1.05]},
                      legend={"orientation": "h", "y": -0.2})
    return fig
