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
