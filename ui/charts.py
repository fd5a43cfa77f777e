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

from sim.analysis.report import PALETTE
from sim.model.outcomes import COUNT, PERCENT, USD

# plotly's (d3's) number format for each display format of the outcome catalogue
TICK_FORMAT = {PERCENT: ".0%", USD: "$,.0f", COUNT: ",.0f"}
AXIS_TITLE = {USD: "million USD"}


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def bands(lines: list[tuple[str, tuple]], title: str, display: str,
          branch: dt.date | None = None, zero_line: bool = False,
          height: int = 300) -> go.Figure:
    """`lines`: (name, (dates, median, low, high)) as `compare.band` gives them, drawn in the
    palette's order; `display` is the outcome's display format.

    Plotly renders HTML in titles, legends and hover text, and names come from users' files: they
    are escaped, so a name shows as written and never becomes a link or an image."""
    fig = go.Figure()
    title = html.escape(title)
    scale = 1e6 if display == USD else 1.0  # dollars in millions: "$530" reads better than "530M"
    for i, (raw_name, (dates, median, low, high)) in enumerate(lines):
        c, name = colour(i), html.escape(raw_name)
        median, low, high = (np.asarray(v) / scale for v in (median, low, high))
        x = np.asarray(dates).astype("datetime64[D]").astype(str)
        fig.add_trace(go.Scatter(x=x, y=high, mode="lines", line={"width": 0},
                                 hoverinfo="skip", showlegend=False, legendgroup=name))
        fig.add_trace(go.Scatter(x=x, y=low, mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_rgba(c, 0.18), hoverinfo="skip", showlegend=False,
                                 legendgroup=name))
        fig.add_trace(go.Scatter(x=x, y=median, mode="lines", line={"color": c, "width": 2},
                                 name=name, legendgroup=name,
                                 hovertemplate=name.replace("%", "%%")
                                 + f": %{{y:{TICK_FORMAT[display]}}}"
                                               + (" M" if display == USD else "")
                                               + "<extra></extra>"))
    if branch is not None:
        fig.add_vline(x=branch.isoformat(), line={"color": "#888", "dash": "dot", "width": 1})
        fig.add_annotation(x=branch.isoformat(), y=1, yref="paper", text="branch",
                           showarrow=False, xanchor="left", font={"size": 10, "color": "#666"})
    if zero_line:
        fig.add_hline(y=0, line={"color": "#444", "width": 1})
    fig.update_layout(
        title={"text": title, "font": {"size": 14}, "x": 0.0}, height=height,
        margin={"l": 60, "r": 10, "t": 40, "b": 10}, hovermode="x unified",
        legend={"orientation": "h", "y": -0.15}, showlegend=len(lines) > 1,
        yaxis={"tickformat": TICK_FORMAT[display], "title": AXIS_TITLE.get(display),
               "rangemode": "tozero" if not zero_line else "normal"},
        plot_bgcolor="white", xaxis={"gridcolor": "#eee"},
    )
    fig.update_yaxes(gridcolor="#eee")
    return fig


def observed(fig: go.Figure, dates: list[dt.date], values: list[float], name: str) -> go.Figure:
    """Add observed figures as points (the validation page)."""
    fig.add_trace(go.Scatter(x=[d.isoformat() for d in dates], y=values, mode="markers",
                             marker={"color": "#111", "size": 9, "symbol": "diamond"},
                             name=name))
    fig.update_layout(showlegend=True)
    return fig


PLOT_CONFIG = {"displaylogo": False, "scrollZoom": True,
               "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}
