"""The patterns beyond the record (docs/odd.md section 1, patterns 7-10), averaged over replicates.

`sim.analysis.patterns` runs every pattern's policies from the 2026 branch of the historical
record, one call of the run function per replicate, under the shipped posterior ensemble (the
default a user gets). The checks are directions and shapes that the evidence demands, with
margins wide enough for 16 replicates: a force response that rises gradually rather than as a
cliff, ground regained after a force leaves, a force that shrinks with the money lost, and
levers that each move the capital the way the evidence expects, none the wrong way.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import patterns
from sim.model import scenario
from sim.model.parameters import DONORS, PARAMS
from sim.running import ensemble

REPLICATES = 64
# The levers the force response and the donor cut move, so the lever steps leave them out.
MISSION_LEVERS = {"mission_troops_target", "mission_troop_ceiling",
                  "mission_deploy_troops_per_month", *(f"funding_mission_{d}" for d in DONORS)}
# With common random numbers a lever that changes anything reshuffles the fighting: paired effects
# spread ~2-4 points a replicate, so a mean of 16 wanders by ~0.6 and one of 64 by ~0.3. The test
# runs 64 since session 15 (32 in sessions 13-14, 16 before): on the first of session 15's refits
# the army intake moved the capital -0.9 points on average over the first 32 and -1.3 over 64; on
# the shipped one (seed 11) police intake -1.3 over 32 and -1.4 over 64, army intake -1.2 and -1.8,
# arms interdiction -2.2 and -1.5 (it bites on average, by a lot in 38% of the runs: its median is
# 0). Measured over four blocks of 16 replicates (seed 11, 64 in all, session 10), the levers with
# no effect on the capital (army intake before the soldiers joined operations, the mandate) gave
# means from -0.9 to +1.1 points: more than 1.5 points the wrong way is a response, not noise. A
# lever that bites moves the capital at least a point (2.7 of its 265 cells) on average. The
# embargo's relaxation is expected down or not at all: its effect size is unknown and its prior
# starts at none (+0.0 on average over the 64).
PERVERSE_POINTS = 1.5
BITE_POINTS = 1.0
# Steps expected to bite that the model does not make bite, with what was measured: strict, so a
# model that makes one bite fails here until it is taken off the list. The police budget cut left
# it in session 11 (unpaid officers are partly off duty); half the trafficked arms seized was on
# it in sessions 13-14 (-0.5 points over 32 replicates on session 13's posterior) and left it in
# session 15 (-1.5 over 64 on session 15's).
WEAK: dict[str, str] = {}


@pytest.fixture(scope="module")
def result() -> patterns.Patterns:
    return patterns.run(REPLICATES, seed=11, ensemble=ensemble.shipped(), workers=2)


def test_every_replicate_reads_every_number(result):
    assert len(result.rows) == REPLICATES
    for row in result.rows:
        assert all(np.isfinite(v) for v in row.values())
        shares = [v for k, v in row.items()
                  if k.startswith(("force=", "stay@", "exit@", "capital."))]
        assert all(0.0 <= v <= 1.0 for v in shares)


def test_the_force_response_rises_gradually_and_stays_uncertain(result):
    p = result.force_success().mean(0)
    troops = np.array(patterns.FORCE_TROOPS)
    medians = np.array([np.median(result.column(f"force={t}")) for t in troops])
    # more force never does worse on average (a replicate's noise aside)
    assert np.all(np.diff(medians) <= 0.05), medians
    assert p[-1] >= p[0] + 0.5, p
    # the gangs keep most of the capital against ~1,000 troops, even with the drone operations
    assert medians[0] > 0.5, medians
    # a mission of ~1,000 troops alone does not roll the gangs back (the 2024 record, before any
    # drone operation): only a minority of runs get below half (at most a fifth; the docs' 64
    # replicates put it at 0.19 [0.12-0.28] on session 15's posterior, 0.11-0.19 on earlier
    # ones). With the drones at their 2025-26 pace the chance is 0.34 [0.25-0.45]
    # (docs/VALIDATION.md): the drones', not the troops' doing
    alone = result.column(patterns.SMALL_FORCE_ALONE)
    assert np.mean(alone < patterns.CONTROL_BELOW) <= 0.2 and np.median(alone) > 0.5, alone
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


def test_every_lever_has_a_step_or_is_moved_by_another_pattern():
    stepped = {name for step in patterns.LEVER_STEPS for name in step.levers}
    levers = {p.name for p in PARAMS.values() if p.lever}
    assert levers - MISSION_LEVERS == stepped, levers - MISSION_LEVERS ^ stepped
    assert scenario.load(patterns.SCENARIOS / "status_quo.yaml").branch == patterns.BRANCH


def _steps(*expected, weak=False):
    """The lever steps expecting one of `expected` (all without) as test cases; with `weak`,
    those of `WEAK` marked as expected (strict) failures."""
    return [pytest.param(s, id=s.label, marks=(
        [pytest.mark.xfail(strict=True, reason=WEAK[s.label])] if weak and s.label in WEAK
        else [])) for s in patterns.LEVER_STEPS if not expected or s.expect in expected]


@pytest.mark.parametrize("step", _steps(patterns.DOWN, patterns.DOWN_OR_NONE, patterns.UP))
def test_no_lever_moves_the_capital_the_wrong_way(result, step):
    effect = 100 * result.lever_effect(step, "capital").mean()
    assert step.sign * effect >= -PERVERSE_POINTS, f"{step.label}: {effect:+.1f} points"


@pytest.mark.parametrize("step", _steps(patterns.DOWN, patterns.UP, weak=True))
def test_the_levers_the_evidence_expects_to_bite_do(result, step):
    effect = 100 * result.lever_effect(step, "capital").mean()
    assert step.sign * effect >= BITE_POINTS, f"{step.label}: {effect:+.1f} points"


@pytest.mark.parametrize("step", _steps())
def test_every_lever_changes_the_runs(result, step):
    assert any(np.any(result.lever_effect(step, k) != 0) for k in patterns.LEVER_OUTCOMES)
