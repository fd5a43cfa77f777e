"""What the validation table and page read from `sim.analysis.targets`: every stock and flow
names a recorded metric shown as the outcome catalogue shows it, and the RN1 share counts the
right cells."""

from __future__ import annotations

import numpy as np

from sim.analysis import targets
from sim.model import outcomes
from sim.model.geography import load


def test_every_target_names_a_recorded_metric():
    names = outcomes.metric_names(load().department_name)
    for obs in targets.STOCKS + targets.FLOWS:
        assert obs.metric in names, obs.label
        # shown as the outcome catalogue shows its metric
        assert obs.share == (outcomes.get(obs.metric).display == outcomes.PERCENT), obs.label
    assert set(targets.STOCKS + targets.FLOWS + (targets.RN1_ARTIBONITE,)) == set(targets.TARGETS)


def test_rn1_share_counts_the_artibonite_cells_of_rn1_only():
    geo = load()
    road = geo.roads["RN1"]
    artibonite = road[geo.department[road] == geo.department_index("Artibonite")]
    held = np.zeros((3, geo.n_cells), bool)
    held[1, artibonite[: len(artibonite) // 2]] = True
    held[2, np.setdiff1d(np.arange(geo.n_cells), artibonite)] = True  # every other cell
    share = targets.rn1_artibonite_share(held, geo)
    assert share.tolist() == [0.0, (len(artibonite) // 2) / len(artibonite), 0.0]
    assert targets.rn1_artibonite_share(held[1], geo) == share[1]


if __name__ == "__main__":
    test_every_target_names_a_recorded_metric()
    test_rn1_share_counts_the_artibonite_cells_of_rn1_only()
