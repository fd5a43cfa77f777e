"""The observed targets (`sim.analysis.validation`): they name real metrics and read the right
days."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.analysis import validation
from sim.model import outcomes
from sim.model.geography import load


def test_every_target_names_a_recorded_metric():
    names = outcomes.metric_names(load().department_name)
    for obs in validation.STOCKS + validation.FLOWS:
        assert obs.metric in names, obs.label
        # shown as the outcome catalogue shows its metric
        assert obs.share == (outcomes.get(obs.metric).display == outcomes.PERCENT), obs.label


def test_a_stock_is_read_on_its_date_and_a_flow_summed_over_its_year():
    start = dt.date(2023, 1, 1)
    names = ["displaced", "killed"]
    days = np.arange(800, dtype=float)
    values = np.stack([np.stack([days, np.ones(800)], axis=1)] * 2)  # 2 replicates
    stock = validation.Observed("x", "displaced", dt.date(2023, 2, 1), "", None, "")
    assert stock.simulated(values, names, start).tolist() == [31.0, 31.0]
    flow = validation.Observed("y", "killed", 2024, "", None, "")
    assert flow.simulated(values, names, start).tolist() == [366.0, 366.0]  # a leap year


def test_rn1_share_counts_the_artibonite_cells_of_rn1_only():
    geo = load()
    road = geo.roads["RN1"]
    artibonite = road[geo.department[road] == geo.department_index("Artibonite")]
    held = np.zeros((3, geo.n_cells), bool)
    held[1, artibonite[: len(artibonite) // 2]] = True
    held[2, np.setdiff1d(np.arange(geo.n_cells), artibonite)] = True  # every other cell
    share = validation.rn1_artibonite_share(held, geo)
    assert share.tolist() == [0.0, (len(artibonite) // 2) / len(artibonite), 0.0]
    assert validation.rn1_artibonite_share(held[1], geo) == share[1]
