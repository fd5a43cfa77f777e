"""The patterns the model must reproduce beyond the record (pattern-oriented modelling).

The 2023-2024 record is what the calibration fits; these are the other patterns the evidence
demands of a model that answers "what force, for how long, with what money" (docs/odd.md,
section 7.12, argues each against its sources):

- force response: the chance of pushing gang control of the capital below half by the end of
  2027 rises gradually with the force, not as a cliff, and at any force the outcome is uncertain;
- resurgence: when a force that cleared ground leaves, gangs regain ground unless the state
  holds it;
- money binds: a year after the largest donor leaves, the force is smaller in about the
  proportion of the money lost.

Each pattern is a set of policies branching from the historical record (`scenarios/history.yaml`) on
the day after its sourced inputs end (2026-04-01), built from `gsf_full.yaml` and `donor_cut.yaml`
by changing their levers; every replicate runs all of them in one call of the one run function
(`sim.running.engine.run`), sharing one history (common random numbers), in the batch's worker pool,
under the replicate's posterior draw. `scripts/update_docs.py` draws the curves with their bands in
docs/VALIDATION.md, and tests/test_patterns.py checks the directions over replicates.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.model import scenario
from sim.model.scenario import Event, Scenario
from sim.running import batch, engine
from sim.running.ensemble import Ensemble

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
# Troops of the force-response curve, up to the densities of the literature: ~20 per 1,000
# residents of the capital (RAND/Quinlivan) is ~64,000 personnel with the police.
FORCE_TROOPS = (1000, 2500, 5550, 10000, 20000, 40000, 80000)
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


def policies() -> list[tuple[str, Scenario]]:
    """Every policy the patterns run, labelled; all branch from the same history."""
    gsf, cut = _library()
    out = [(f"force={t}", dataclasses.replace(force_point(gsf, t), end=FORCE_BY))
           for t in FORCE_TROOPS]
    out.append(("stay", dataclasses.replace(force_point(gsf, RESURGENCE_TROOPS),
                                            end=RESURGENCE_END)))
    out.append(("exit", withdrawal(gsf, RESURGENCE_TROOPS, EXIT, RESURGENCE_END)))
    full, without = donor_pair(gsf, cut)
    out.append(("gsf_full", dataclasses.replace(full, end=DONOR_READ)))
    out.append(("donor_cut", dataclasses.replace(without, end=DONOR_READ)))
    return out


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
    for label in ("stay", "exit"):
        for date in (EXIT_READ, RESURGENCE_END):
            row[f"{label}@{date}"] = _on(by[label], "capital_gang_share_area", date)
    for label in ("gsf_full", "donor_cut"):
        row[f"troops.{label}"] = _on(by[label], "troops", DONOR_READ)
        row[f"funding.{label}"] = float(_series(by[label], "spent_mission_usd")[-365:].sum())
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


def summary(p: Patterns, quantiles: Sequence[float] = (0.05, 0.5, 0.95)) -> dict:
    """The patterns in numbers: success per force level, shares and troops as quantiles."""
    success = p.force_success()
    return {
        "force": {t: {"p": float(success[:, i].mean()),
                      "share": np.quantile(p.column(f"force={t}"), quantiles).tolist(),
                      "troops": float(np.median(p.column(f"force_troops={t}")))}
                  for i, t in enumerate(FORCE_TROOPS)},
        "resurgence": {k: np.quantile(p.column(k), quantiles).tolist() for k in p.rows[0]
                       if k.startswith(("stay@", "exit@"))},
        "donor": {k: float(np.median(p.column(k))) for k in p.rows[0]
                  if k.startswith(("troops.", "funding."))},
    }
