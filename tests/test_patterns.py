"""The patterns beyond the record (docs/odd.md section 1, patterns 7-9), on average over replicates.

`sim.analysis.patterns` runs every pattern's policies from the 2026 branch of the historical
record, one call of the run function per replicate, under the shipped posterior ensemble (the
default a user gets). The checks are directions and shapes that the evidence demands, with
margins wide enough for 16 replicates: a force response that rises gradually rather than as a
cliff, ground regained after a force leaves, and a force that shrinks with the money lost.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import patterns
from sim.running import ensemble

REPLICATES = 16


@pytest.fixture(scope="module")
def result() -> patterns.Patterns:
    return patterns.run(REPLICATES, seed=11, ensemble=ensemble.shipped(), workers=2)


def test_every_replicate_reads_every_number(result):
    assert len(result.rows) == REPLICATES
    for row in result.rows:
        assert all(np.isfinite(v) for v in row.values())
        shares = [v for k, v in row.items() if k.startswith(("force=", "stay@", "exit@"))]
        assert all(0.0 <= v <= 1.0 for v in shares)


def test_the_force_response_rises_gradually_and_stays_uncertain(result):
    p = result.force_success().mean(0)
    troops = np.array(patterns.FORCE_TROOPS)
    medians = np.array([np.median(result.column(f"force={t}")) for t in troops])
    # more force never does worse on average (a replicate's noise aside)
    assert np.all(np.diff(medians) <= 0.05), medians
    assert p[-1] >= p[0] + 0.5, p
    # a mission of ~1,000 troops does not roll the gangs back (the 2024-25 record): the gangs
    # keep most of the capital, and only a minority of runs get below half (at most 3 of 16;
    # 64 replicates put it at 0.14 [0.08-0.23] since the self-defence brigades' lynchings, 0.05
    # before: docs/VALIDATION.md)
    assert p[0] <= 0.2 and medians[0] > 0.5, (p, medians)
    # no cliff: from at most 10% to at least 90% the force at least triples (if no force
    # tried is at 10% or less, 10% lies below the smallest, which the check then uses)
    below = troops[p <= 0.1].max() if (p <= 0.1).any() else troops[0]
    above = troops[p >= 0.9].min() if (p >= 0.9).any() else np.inf
    assert above >= 3 * below, (troops, p)
    # outcomes at a given force are partial and uncertain somewhere along the curve
    spread = [np.quantile(result.column(f"force={t}"), [0.05, 0.95]) for t in troops]
    assert any(hi - lo > 0.2 for lo, hi in spread), spread


def test_gangs_regain_ground_after_the_force_leaves(result):
    before = result.column(f"exit@{patterns.EXIT_READ}")
    after = result.column(f"exit@{patterns.RESURGENCE_END}")
    stayed = result.column(f"stay@{patterns.RESURGENCE_END}")
    assert np.median(after) > np.median(before) + 0.15, (before, after)
    assert np.mean(after > stayed) >= 0.75, (after, stayed)


def test_a_year_after_the_largest_donor_leaves_the_force_follows_the_money(result):
    full, cut = result.column("troops.gsf_full"), result.column("troops.donor_cut")
    ratio = np.median(cut / full)
    lost = patterns.donor_share_lost()
    assert 0.1 < lost < 0.4  # the United States' share of the pledges
    assert ratio == pytest.approx(1 - lost, abs=0.1), (ratio, lost)
    assert ratio < 0.95
