"""The app's charts show scenario names as written: Plotly renders HTML in titles, legends and
hover text, and names come from uploaded files."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ui import charts


def test_a_name_with_html_is_escaped_in_every_text_of_the_figure():
    name = '<a href="https://example.org">n</a><img src=x>'
    dates = np.datetime64("2026-01-01") + np.arange(3)
    band = (dates, np.ones(3), np.zeros(3), np.full(3, 2.0))
    fig = charts.bands([(name, band), ("other", band)], f"Killed: {name}", "count",
                       branch=dt.date(2026, 1, 2))
    texts = [fig.layout.title.text] + [t.name or "" for t in fig.data] + [
        t.hovertemplate or "" for t in fig.data]
    assert not [t for t in texts if "<a " in t or "<img" in t]
    assert "&lt;a href=&quot;https://example.org&quot;&gt;n&lt;/a&gt;" in fig.layout.title.text


def test_observed_figures_are_points_with_their_source_on_hover():
    from sim.analysis import targets

    dates = np.datetime64("2023-01-01") + np.arange(0, 700, 7)
    band = (dates, np.full(len(dates), 0.8), np.full(len(dates), 0.7), np.full(len(dates), 0.9))
    points = [t for t in targets.STOCKS if t.metric == "capital_gang_share_area"]
    fig = charts.bands([("history", band)], "Capital", "percent", observed=points)
    [shown] = [t for t in fig.data if t.name and t.name.startswith("observed (")]
    assert shown.name == "observed (UN, BINUH, OHCHR)" and fig.layout.showlegend
    assert list(shown.y) == [t.value for t in points]
    assert all(t.source in h for t, h in zip(points, shown.hovertext, strict=True))
    alone = charts.bands([("future", band)], "Capital", "percent")
    assert not [t for t in alone.data if (t.name or "").startswith("observed")]


def test_an_observed_figure_outside_the_band_is_drawn_as_a_miss():
    """Judged on the figure's own day (19 Jun 2023 and 22 Apr 2024 fall between the weekly
    dates the band is drawn on), as the documentation's coverage judges it."""
    from sim.analysis import compare, targets
    from sim.model import outcomes

    o = outcomes.get("gang_controlled_population")
    days = 700
    dates = np.datetime64("2023-01-01", "D") + np.arange(days)
    level = (2.4e6, 2.8e6, 3.2e6, 3.6e6)  # misses the UN's ~2 M, meets UNICEF's 2.7 M
    runs = compare.scenario_runs("h", "h", "memory", None, 4, (
        (i, i, dates, {o.name: np.full(days, v)}, np.zeros(3, bool))
        for i, v in enumerate(level)), keep=[o.name])
    points = compare.observed([runs], o)
    assert [t.when.isoformat() for t in points] == ["2023-06-19", "2024-04-22"]
    band = compare.band(runs, o, dt.date(2023, 1, 1))
    assert not {t.when.isoformat() for t in points} & set(band[0].astype(str))
    missed = compare.missed(runs, o, dt.date(2023, 1, 1), points)
    assert missed == [True, False]
    fig = charts.bands([("history", band)], "People", "count", observed=points, missed=missed)
    named = {t.name: t for t in fig.data if t.name and t.name.startswith("observed")}
    [miss] = [t for n, t in named.items() if n.endswith("outside the 90% band")]
    assert list(miss.y) == [points[0].value] and miss.marker.symbol == "x"
    assert "outside the simulated 90% band" in miss.hovertext[0]
    [met] = [t for n, t in named.items() if not n.endswith("band")]
    assert list(met.y) == [points[1].value]
    assert targets.met(points[1], 2.46e6, 3.54e6)
    plain = charts.bands([("history", band)], "People", "count", observed=points)
    assert not [t for t in plain.data if (t.name or "").endswith("outside the 90% band")]


def test_a_difference_of_shares_reads_in_percentage_points_not_percent():
    """A share falling from 60% to 45% is -15 points, not -15%: the axis, its ticks and the hover
    say points, signed; a difference of counts stays a signed count."""
    dates = np.datetime64("2026-01-01") + np.arange(3)
    band = (dates, np.full(3, -0.15), np.full(3, -0.25), np.full(3, -0.05))
    fig = charts.bands([("difference", band)], "Capital", "percent", difference=True)
    median = [t for t in fig.data if t.name == "difference"][0]
    assert list(median.y) == [-15.0] * 3
    assert fig.layout.yaxis.title.text == "percentage points"
    assert fig.layout.yaxis.tickformat == "+.0f" and median.hovertemplate.endswith(
        " pp<extra></extra>")
    assert fig.layout.shapes  # the zero line
    level = charts.bands([("level", band)], "Capital", "percent")
    assert level.layout.yaxis.tickformat == ".0%" and not level.layout.shapes
    counts = charts.bands([("difference", band)], "Killed", "count", difference=True)
    assert counts.layout.yaxis.tickformat == "+,.0f"
    assert [t for t in counts.data if t.name == "difference"][0].y[0] == -0.15


def test_the_report_labels_a_difference_of_shares_in_points():
    from sim.analysis import report

    assert report._axis_labels([-0.1, 0.0, 0.1], "percent", difference=True)(-0.1) == "-10 pp"
    assert report._axis_labels([-0.1, 0.0, 0.1], "percent", difference=True)(0.0) == "0 pp"
    assert report._axis_labels([0.0, 0.5], "percent")(0.5) == "50%"


def test_sensitivity_bars_name_parameters_by_their_labels():
    """The axis reads "Gang cash reserve months", not `gang_cash_reserve_months`; the hover
    gives both (the name is what --vary and --set take)."""
    rows = [{"parameter": "gang_cash_reserve_months", "mu_star": 0.2, "mu_star_conf": 0.1,
             "sigma": 0.3},
            {"parameter": "funding_mission_us", "mu_star": 0.1, "mu_star_conf": 0.05,
             "sigma": 0.1}]
    fig = charts.sensitivity_bars(rows, "morris", "Capital: mu*")
    for trace in fig.data:
        assert list(trace.y) == ["Funding mission US", "Gang cash reserve months"]
        assert list(trace.customdata) == ["Funding mission US (funding_mission_us)",
                                          "Gang cash reserve months (gang_cash_reserve_months)"]
        assert trace.hovertemplate.startswith("%{customdata}: ")
    assert fig.layout.yaxis.automargin  # long labels are not clipped


def test_sensitivity_whiskers_stop_at_zero():
    """mu* is a mean absolute change: its 90% whisker is cut at 0, not drawn below it."""
    rows = [{"parameter": "gang_cash_reserve_months", "mu_star": 0.2, "mu_star_conf": 0.3,
             "sigma": 0.3}]
    bar = charts.sensitivity_bars(rows, "morris", "Capital: mu*").data[0]
    assert list(bar.error_x.array) == [0.3] and list(bar.error_x.arrayminus) == [0.2]
