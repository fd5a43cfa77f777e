"""The patterns the model must reproduce beyond the record (pattern-oriented modelling).

The 2023-2024 record is what the calibration fits; these are the other patterns the evidence
demands of a model that answers "what force, for how long, with what money" (docs/odd.md,
section 1, argues each against its sources):

- force response: the chance of pushing gang control of the capital below half by the end of
  2027 rises gradually with the force, not as a cliff, and at any force the outcome is uncertain;
- resurgence: when a force that cleared ground leaves, gangs regain ground unless the state
  holds it;
- money binds: a year after the largest donor leaves, the force is smaller in about the
  proportion of the money lost;
- every lever bites: each lever moved from the status quo as far as a real policy (or a
  plausible shock) would (`LEVER_STEPS`) has a non-trivial effect, and none a perverse one.

Each pattern is a set of policies branching from the historical record (`scenarios/history.yaml`) on
the day after its sourced inputs end (2026-04-01), built from `gsf_full.yaml`, `donor_cut.yaml` and
`status_quo.yaml` by changing their levers; every replicate runs all of them in one call of the one
run function (`sim.running.engine.run`), sharing one history (common random numbers), in the batch's
worker pool, under the replicate's posterior draw. `scripts/update_docs.py` draws the curves with
their bands in docs/VALIDATION.md, and tests/test_patterns.py checks the directions over replicates.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.analysis import stats
from sim.model import scenario
from sim.model.parameters import PARAMS
from sim.model.scenario import Event, Scenario
from sim.running import batch, engine
from sim.running.ensemble import Ensemble

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
# Troops of the force-response curve, up to the densities of the literature: ~20 per 1,000
# residents of the capital (RAND/Quinlivan) is ~64,000 personnel with the police.
FORCE_TROOPS = (1000, 2500, 5550, 10000, 20000, 40000, 80000)
# The record's small mission (400-1,000 troops in 2024, before any drone operation), from 2026
# with the task force's drones halted: the force alone, as the 2024 record saw it.
SMALL_FORCE = 1000
SMALL_FORCE_ALONE = f"force={SMALL_FORCE}, no drones"
FORCE_BY = dt.date(2027, 12, 31)  # 21 months after the branch, the users' "by end 2027"
CONTROL_BELOW = 0.5  # "gang control of the capital below half"
EXIT = dt.date(2028, 1, 1)  # the force of the resurgence pattern leaves here...
EXIT_READ = EXIT - dt.timedelta(days=1)  # the capital on the force's last day...
RESURGENCE_END = dt.date(2029, 12, 31)  # ...and two years on
RESURGENCE_TROOPS = 20000
DONOR_TROOPS = 5550  # the GSF's ceiling (Res 2793)
DONOR_READ = dt.date(2027, 7, 1)  # a year after donor_cut's US withdrawal (2026-07-01)
COST_MARGIN = 1.25  # funding of a force-response point: its troops' cost, with a quarter spare
DEPLOY_MONTHS = 9  # a force-response point arrives within about nine months
BRANCH = dt.date(2026, 4, 1)  # where every policy leaves the record (history.yaml's end + 1)


def pays_for(troops: float) -> float:
    """Mission money a year that pays for `troops` at the dearest plausible troop and fixed costs
    and the lowest plausible disbursement, so that under every draw the troops, not the money,
    hold the force."""
    cost, fixed, disbursed = (PARAMS[n].plausible for n in (
        "mission_cost_usd_per_troop_year", "mission_fixed_cost_usd_per_year",
        "mission_disbursement_share"))
    return (troops * cost[1] + fixed[1]) / disbursed[0]


# What the evidence expects of the capital's gang share after a step
DOWN, DOWN_OR_NONE, UP = "down", "down or none", "up"
POLICE_BUDGET = PARAMS["funding_police_haiti"].default  # USD a year, the status quo's


@dataclass(frozen=True)
class LeverStep:
    """One policy step from `status_quo` at the branch: `levers` moved to these values, `why` this
    size (what a real policy, or a plausible shock, would do), and what the evidence expects of
    the capital's gang share: `DOWN` (`UP` for a cut), `DOWN_OR_NONE` for a lever expected to be
    weak, None to report only. `held` are levers set alike in the step and in its reference, for
    a step that is only meaningful against the status quo with them (the mandate at equal
    troops)."""

    label: str
    levers: Mapping[str, float]
    why: str
    expect: str | None
    held: Mapping[str, float] = field(default_factory=dict)

    @property
    def sign(self) -> int:
        """+1 where the evidence expects the capital's gang share to rise, -1 where to fall."""
        return 1 if self.expect == UP else -1

    @property
    def reference(self) -> str:
        """The label of the policy the step is measured against."""
        return f"{self.label}, reference" if self.held else STATUS_QUO


STATUS_QUO = "status quo"
MANDATE_TROOPS = 2500  # status_quo's pledged target, paid in full under both mandates
# Every lever of the schema but the mission's troops, ceiling, pace and money, which the force
# response and the donor cut above move (UN assessed money is one more donor's, flowing only
# to a UN peacekeeping operation). A new lever is one more line here.
LEVER_STEPS = (
    LeverStep("police intake 4,000 a year", {"police_intake_per_year": 4000},
              "the P4000 plan's 4,000 cadets (announced Jan 2026 over 18 months) as the yearly "
              "intake: about twice the 2026 pace of ~2,050", DOWN),
    LeverStep("army intake 1,500 a year", {"army_intake_per_year": 1500},
              "the 1,500 the Aug 2024 recruitment drive sought, all reaching units each year: ten "
              "times the assumed pace; a share of the soldiers joins the police's operations",
              DOWN),
    LeverStep("half the trafficked arms seized", {"arms_interdiction": 0.5},
              "from a tenth seized (assumption) to half: a sustained customs and coast-guard "
              "effort on the routes UNODC documents", DOWN),
    LeverStep("arms embargo relaxed for the state", {"arms_embargo_relaxed": 1},
              "rifles and armour for the police and army, as Defence Minister Moïse asked (seed "
              "article); its effect size is unknown, and its prior starts at none", DOWN_OR_NONE),
    LeverStep("donors pay police salaries", {"funding_police_donors": POLICE_BUDGET},
              "donor money for police pay equal to the Haitian personnel budget ($137 M, 2024-25):"
              " it bites only once the police outgrow the budget (~14,300 officers)",
              DOWN_OR_NONE),
    LeverStep("Haitian police budget cut by a third",
              {"funding_police_haiti": POLICE_BUDGET * 2 / 3},
              "a third of police pay going unpaid (assumption: a revenue shock, customs and taxes "
              "lost to gang blockades): unpaid officers are partly off duty, and desert", UP),
    LeverStep("drone operations halted", {"drone_operations_per_month": 0},
              "the task force stops, as HRW urged its partners to make it (10 Mar 2026), from "
              "the ~21 operations a month of Nov 2025 to Jan 2026", UP),
    LeverStep("drone operations doubled", {"drone_operations_per_month": 42.4},
              "twice the pace of Nov 2025 to Jan 2026, as the pace itself had doubled over the "
              "three months before (HRW)", DOWN),
    LeverStep("UN peacekeeping mandate", {"mission_mandate": 2},
              f"the force made a UN peacekeeping operation, both mandates paying for the "
              f"{MANDATE_TROOPS:,} troops pledged: cheaper troops that arrive slower and fight "
              "less often (MINUSTAH's episodic offensives)", None,
              held={"funding_mission_others": pays_for(MANDATE_TROOPS)}),
)
LEVER_OUTCOMES = ("capital", "killed", "displaced")  # what `reduce` reads of each lever policy


def force_point(base: Scenario, troops: float, margin: float = COST_MARGIN) -> Scenario:
    """`base` (gsf_full) at `troops`: target and ceiling at `troops`, money for them (`margin`
    times their cost after the disbursement shortfall: by default a quarter spare, so the force
    is what is tested, not its funding) and a pace that brings them in ~nine months."""
    p = base.parameters
    need = (troops * p["mission_cost_usd_per_troop_year"] + p["mission_fixed_cost_usd_per_year"]
            ) * margin / p["mission_disbursement_share"]
    other = sum(_at_branch(base, f"funding_mission_{d}") for d in ("us", "canada", "haiti"))
    return base.with_overrides({
        "mission_troops_target": troops, "mission_troop_ceiling": troops,
        "mission_deploy_troops_per_month": max(550.0, troops / DEPLOY_MONTHS),
        "funding_mission_others": max(need - other, 0.0)})


def _at_branch(s: Scenario, name: str) -> float:
    """A parameter's value on the branch date, after that day's events."""
    value = s.parameters[name]
    for e in s.events:
        if e.name == name and e.date <= s.branch:
            value = e.value if e.op == "set" else value * e.value
    return value


def donor_pair(base: Scenario, cut: Scenario) -> tuple[Scenario, Scenario]:
    """gsf_full funded exactly (no spare money to absorb a cut), and the same with `cut`'s
    events (the largest donor leaving)."""
    full = force_point(base, DONOR_TROOPS, margin=1.0)
    extra = [e for e in cut.events if e not in base.events]
    return full, dataclasses.replace(full, name=cut.name, events=tuple(sorted(
        (*full.events, *extra), key=lambda e: e.date)))


def withdrawal(base: Scenario, troops: float, exit_date: dt.date, end: dt.date) -> Scenario:
    """`force_point(base, troops)` until every troop is withdrawn from `exit_date`, run to `end`."""
    s = force_point(base, troops)
    leave = Event(exit_date, "mission_troops_target", "set", 0.0, "the force leaves", "patterns")
    return dataclasses.replace(s, name=f"{troops:,.0f} troops, leaving {exit_date}", end=end,
                               events=tuple(sorted((*s.events, leave), key=lambda e: e.date)))


def donor_share_lost() -> float:
    """The share of the exactly funded force's pledges that donor_cut's withdrawal removes."""
    full, cut = donor_pair(*_library())
    donors = [f"funding_mission_{d}" for d in ("us", "canada", "haiti", "others")]
    before = sum(_at_branch(full, n) for n in donors)
    after = sum(_at_branch(dataclasses.replace(cut, branch=DONOR_READ), n) for n in donors)
    return 1 - after / before


def _library() -> tuple[Scenario, Scenario]:
    return (scenario.load(SCENARIOS / "gsf_full.yaml"),
            scenario.load(SCENARIOS / "donor_cut.yaml"))


def lever_policies() -> dict[str, Scenario]:
    """The status quo to `FORCE_BY`, each lever step, and the reference of a step that holds
    other levers, by label."""
    sq = dataclasses.replace(scenario.load(SCENARIOS / "status_quo.yaml"), end=FORCE_BY)
    out = {STATUS_QUO: sq}
    for step in LEVER_STEPS:
        reference = sq.with_overrides(step.held) if step.held else sq
        out[step.reference] = reference
        out[step.label] = reference.with_overrides(step.levers)
    return out


def policies() -> list[tuple[str, Scenario]]:
    """Every policy the patterns run, labelled; all branch from the same history."""
    gsf, cut = _library()
    out = [(f"force={t}", dataclasses.replace(force_point(gsf, t), end=FORCE_BY))
           for t in FORCE_TROOPS]
    out.append((SMALL_FORCE_ALONE, dataclasses.replace(
        force_point(gsf, SMALL_FORCE).with_overrides({"drone_operations_per_month": 0}),
        end=FORCE_BY)))
    out.append(("stay", dataclasses.replace(force_point(gsf, RESURGENCE_TROOPS),
                                            end=RESURGENCE_END)))
    out.append(("exit", withdrawal(gsf, RESURGENCE_TROOPS, EXIT, RESURGENCE_END)))
    full, without = donor_pair(gsf, cut)
    out.append(("gsf_full", dataclasses.replace(full, end=DONOR_READ)))
    out.append(("donor_cut", dataclasses.replace(without, end=DONOR_READ)))
    return out + list(lever_policies().items())


def _series(out, name: str) -> np.ndarray:
    return out.values[:, out.metrics.index(name)]


def _on(out, name: str, date: dt.date) -> float:
    return float(_series(out, name)[(date - out.start).days])


def reduce(outputs) -> dict[str, float]:
    """What the patterns read of one replicate's runs (in the worker: a few numbers travel)."""
    by = {o.scenario: o for o in outputs}
    row = {}
    for t in FORCE_TROOPS:
        o = by[f"force={t}"]
        row[f"force={t}"] = _on(o, "capital_gang_share_area", FORCE_BY)
        row[f"force_troops={t}"] = float(_series(o, "troops")[-180:].mean())
    row[SMALL_FORCE_ALONE] = _on(by[SMALL_FORCE_ALONE], "capital_gang_share_area", FORCE_BY)
    for label in ("stay", "exit"):
        for date in (EXIT_READ, RESURGENCE_END):
            row[f"{label}@{date}"] = _on(by[label], "capital_gang_share_area", date)
    for label in ("gsf_full", "donor_cut"):
        row[f"troops.{label}"] = _on(by[label], "troops", DONOR_READ)
        row[f"funding.{label}"] = float(_series(by[label], "spent_mission_usd")[-365:].sum())
    for label in lever_policies():
        o = by[label]
        row[f"capital.{label}"] = _on(o, "capital_gang_share_area", FORCE_BY)
        since, until = ((d - o.start).days for d in (BRANCH, FORCE_BY))
        row[f"killed.{label}"] = float(_series(o, "killed")[since:until + 1].sum())
        row[f"displaced.{label}"] = _on(o, "displaced", FORCE_BY)
    return row


def replicate(seed: int, r: int, ensemble: Ensemble | None) -> dict[str, float]:
    outputs = engine.run(policies(), seed, replicate=r, ensemble=ensemble)
    for out in outputs:
        if not out.ok:
            raise RuntimeError(f"{out.scenario}, replicate {r}: {out.traceback}")
    return reduce(outputs)


@dataclass(frozen=True)
class Patterns:
    """Per replicate (rows, by replicate number), every number `reduce` reads."""

    rows: list[dict[str, float]]

    def column(self, key: str) -> np.ndarray:
        return np.array([row[key] for row in self.rows])

    def force_success(self) -> np.ndarray:
        """Replicates x force levels: capital below half at `FORCE_BY`."""
        return np.stack([self.column(f"force={t}") < CONTROL_BELOW for t in FORCE_TROOPS], 1)

    def lever_effect(self, step: LeverStep, outcome: str) -> np.ndarray:
        """Per replicate, the step's `outcome` (of `LEVER_OUTCOMES`) minus its reference's in the
        same replicate: paired, so the policy's effect, not the dice."""
        return (self.column(f"{outcome}.{step.label}")
                - self.column(f"{outcome}.{step.reference}"))


def run(replicates: int, seed: int = 1, ensemble: Ensemble | None = None,
        workers: int | None = None, progress: Callable[[], None] | None = None,
        start: int = 0) -> Patterns:
    """Every pattern over `replicates` replicates (seed + r, draw r), on the worker pool."""
    rows: dict[int, dict] = {}
    todo: list[int] = list(range(start, start + replicates))[::-1]
    with batch.backend(workers) as (pool, slots, _):
        running: dict[cf.Future, int] = {}
        while todo or running:  # a bounded window: see sim.running.batch
            while todo and len(running) < slots:
                r = todo.pop()
                running[pool.submit(replicate, seed + r, r, ensemble)] = r
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                rows[running.pop(future)] = future.result()
                if progress is not None:
                    progress()
    return Patterns([rows[r] for r in sorted(rows)])


@dataclass(frozen=True)
class LeverEffect:
    """A lever step's paired effect: median and 90% interval per outcome of `LEVER_OUTCOMES`,
    and the share of replicates in which the capital moved as the evidence expects (None where
    it expects nothing)."""

    step: LeverStep
    effect: dict[str, stats.Interval]
    as_expected: stats.Probability | None


def as_expected(step: LeverStep, capital: np.ndarray) -> np.ndarray:
    """Per replicate, whether the effect on the capital's share goes the way `step` expects, for
    `DOWN_OR_NONE` down or not at all (with common random numbers a lever that does nothing
    leaves the run exactly as it was)."""
    moved = step.sign * capital > 0
    return moved | (capital == 0) if step.expect == DOWN_OR_NONE else moved


def lever_effects(p: Patterns) -> list[LeverEffect]:
    """Every lever step's paired effect against its reference, in `LEVER_STEPS` order."""
    return [LeverEffect(step, {k: stats.interval(p.lever_effect(step, k)) for k in LEVER_OUTCOMES},
                        None if step.expect is None
                        else stats.probability(as_expected(step, p.lever_effect(step, "capital"))))
            for step in LEVER_STEPS]
