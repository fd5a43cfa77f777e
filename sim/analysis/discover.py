"""Scenario discovery: in which ranges of the parameters a policy fails its goal (or meets it).

`haiti-sim discover` runs one scenario over a Latin hypercube of uncertainties (and levers) as an
experiment (`sim.running.batch.Plan.experiment`: resumable, Dask-capable, the standard results
layout), and this module reads its results directory: every run is judged against a goal
(`sim.analysis.goals.Goal`, as `haiti-sim target` judges it), the runs that fail it (or, with
`cases="succeed"`, meet it) are the cases of interest, and PRIM (`sim.analysis.prim`) finds the
box of parameter values where they concentrate: "the policy fails when reversion_per_day > 0.03
and state_operation_rate < 0.6", with the box's coverage (the share of all failures inside it),
density (the share of runs inside it that fail) and mass (the share of all runs inside it).

Each run is one point of PRIM, with the values of its design point (from the experiments table);
replicates of a point are further points at the same values, so a point that fails only by the
dice counts for what it is. The chosen box is the one with the most coverage at a least density
(`min_density`); the whole trajectory is kept for the trade-off chart and the CSV. The answer
given in words is that box without its restrictions that are not significant (`kept`): with few
runs for many parameters PRIM also peels along parameters that only happen to separate a few
runs, and their quasi-p-values say so. Then vary fewer parameters (the top of a sensitivity
analysis) or run more samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.analysis import compare, prim
from sim.analysis.compare import CompareError, TextTable
from sim.analysis.goals import Goal
from sim.model.parameters import PARAMS
from sim.running.results import ResultsDir

FAIL, SUCCEED = CASES = ("fail", "succeed")
MIN_DENSITY = 0.8
SAMPLES = 300  # points of the default Latin hypercube


@dataclass
class Discovery:
    """The cases of interest among the runs, PRIM's trajectory over them, the box chosen and
    its significant part."""

    goal: Goal
    cases: str
    factors: list[str]
    runs: int
    of_interest: int
    trajectory: prim.Trajectory
    box: prim.Box  # PRIM's, chosen on the trajectory
    kept: prim.Box  # the same without its restrictions that are not significant
    min_density: float
    notes: list[str] = field(default_factory=list)
    parameters: str = ""  # how the runs treated the calibrated parameters (compare.load)


def cases_of_interest(directory: str | Path, goal: Goal, cases: str = FAIL
                      ) -> tuple[np.ndarray, np.ndarray, list[str], list[str], str]:
    """(x: every finished run's values of the varied parameters, y: whether it is a case of
    interest, the parameters' names, notes, how the runs treated the calibrated parameters)."""
    if cases not in CASES:
        raise ValueError(f"cases must be one of {CASES}, not {cases!r}")
    results = ResultsDir(directory)
    factors = [f["name"] for f in results.read_manifest()["plan"]["design"]["factors"]]
    if not factors:
        raise CompareError(f"{directory} holds a batch, not an experiment: nothing was varied")
    table = results.read_experiments().select(["label", "replicate", *factors]).to_pylist()
    values = {(r["label"], r["replicate"]): [r[f] for f in factors] for r in table}
    scenarios, notes, parameters = compare.load([directory], goal.outcome.metrics)
    origin = compare.origin(scenarios)
    x, met = [], []
    for s in scenarios:
        met.append(goal.met(s.outcome(goal.outcome, origin), s.dates, origin))
        x += [values[s.label, int(r)] for r in s.replicates]
    met = np.concatenate(met)
    return np.array(x), (~met if cases == FAIL else met), factors, notes, parameters


def discover(directory: str | Path, goal: Goal, cases: str = FAIL,
             min_density: float = MIN_DENSITY) -> Discovery:
    """PRIM over the runs in `directory`: where the runs that fail `goal` (`cases="fail"`) or
    meet it (`"succeed"`) concentrate, and the box of most coverage at `min_density`."""
    x, y, factors, notes, parameters = cases_of_interest(directory, goal, cases)
    return of_cases(x, y, factors, goal, cases, min_density, notes, parameters)


def of_cases(x: np.ndarray, y: np.ndarray, factors: list[str], goal: Goal, cases: str = FAIL,
             min_density: float = MIN_DENSITY, notes: list[str] | None = None,
             parameters: str = "") -> Discovery:
    """PRIM over runs given as arrays (`x`: each run's values of `factors`; `y`: whether it is a
    case of interest): what `discover` does once it has read a directory, and what the app does
    with runs it holds in memory."""
    if not 0 < min_density <= 1:
        raise CompareError(f"--density {min_density:g}: give a share between 0 and 1, e.g. 0.8")
    y = np.asarray(y, dtype=bool)
    if not 0 < y.sum() < len(y):
        verb = "fails" if cases == FAIL else "meets"
        which = "every" if y.all() else "no"
        raise CompareError(f"{which} one of the {len(y)} runs {verb} the goal ({goal.describe()}): "
                           "there is no box to find; try another goal, or wider ranges")
    trajectory = prim.Trajectory(x, y, factors)
    chosen = trajectory.choose(min_density)
    return Discovery(goal, cases, factors, len(y), int(y.sum()), trajectory,
                     trajectory.box(chosen), trajectory.significant(chosen), min_density,
                     list(notes or []), parameters)


def show_value(name: str, value: float) -> str:
    """A limit as people read it: whole numbers with separators, others to 3 figures, a
    categorical parameter's index with its choice's name."""
    p = PARAMS[name]
    if p.choices and float(value).is_integer() and 0 <= value < len(p.choices):
        return f"{value:g} ({p.choices[int(value)]})"
    if abs(value) >= 1000 or p.integer:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def condition(limit: prim.Limit) -> str:
    """"a > 1", "b < 2" or "1 < c < 2"."""
    low = None if limit.low is None else show_value(limit.name, limit.low)
    high = None if limit.high is None else show_value(limit.name, limit.high)
    if low is not None and high is not None:
        return f"{low} < {limit.name} < {high}"
    return f"{limit.name} > {low}" if low is not None else f"{limit.name} < {high}"


def _quality(b: prim.Box) -> str:
    return f"coverage {b.coverage:.0%}, density {b.density:.0%}, mass {b.mass:.0%}"


def summary(d: Discovery) -> list[str]:
    """What PRIM found, in words: the goal, the cases, the chosen box's significant part and
    its quality, and how it differs from PRIM's box."""
    verb = "fails (goal not met)" if d.cases == FAIL else "succeeds (goal met)"
    lines = [f"Goal: {d.goal.describe()}.",
             f"{d.of_interest} of {d.runs} runs {'fail' if d.cases == FAIL else 'meet'} it "
             f"({d.of_interest / d.runs:.0%}), over {len(d.factors)} varied parameters."]
    b, kept = d.box, d.kept
    if not b.limits:
        lines.append(f"the policy {verb} across the whole of the ranges: no box is denser than "
                     f"all the runs ({_quality(b)})")
        return lines
    prims = (f"PRIM's box (step {b.step} of {len(d.trajectory.steps) - 1}) restricts "
             f"{len(b.limits)} parameter{'s' if len(b.limits) > 1 else ''}: {_quality(b)}")
    if kept.limits:
        where = " and ".join(condition(lim) for lim in kept.limits)
        lines.append(f"the policy {verb} when {where} — {_quality(kept)}")
        if kept.limits != b.limits:
            lines.append(f"({prims}; its limits that are not significant, quasi-p >= "
                         f"{prim.SIGNIFICANT}, are freed)")
    else:
        lines.append(f"no restriction is significant (quasi-p < {prim.SIGNIFICANT}): {prims}, "
                     f"none of them more than the luck of {d.runs} runs over {len(d.factors)} "
                     "parameters; vary fewer (--vary: the top of 'haiti-sim sensitivity') or "
                     "run more --samples")
    if b.density < d.min_density:
        lines.append(f"note: no box reaches a density of {d.min_density:.0%}; PRIM's is the "
                     "densest it found")
    if kept.limits and kept.limits != b.limits and kept.density < d.min_density:
        lines.append(f"note: without its restrictions that are not significant the box's "
                     f"density falls to {kept.density:.0%}: these runs do not describe the "
                     "cases of interest well by a box of these parameters")
    return lines


def trajectory_records(d: Discovery) -> list[dict]:
    """One row per step of PRIM (the trade-off between coverage and density)."""
    return [{"step": k, "phase": s.phase, "coverage": s.coverage, "density": s.density,
             "mass": s.mass, "restricted": s.restricted, "runs": s.points, "cases": s.cases,
             "chosen": k == d.box.step} for k, s in enumerate(d.trajectory.steps)]


def box_records(d: Discovery) -> list[dict]:
    """One row per parameter restricted by PRIM's box (`box` "prim") and by its significant
    part (`box` "significant"): the limits (empty: open) within the range the runs covered, each
    limit's quasi-p-value, and the box's coverage, density and mass."""
    t = d.trajectory
    column = {name: j for j, name in enumerate(d.factors)}
    return [{"box": which, "parameter": lim.name, "role": PARAMS[lim.name].role,
             "low": lim.low, "high": lim.high,
             "range_low": float(t.bottom[column[lim.name]]),
             "range_high": float(t.top[column[lim.name]]),
             "qp_low": lim.qp_low, "qp_high": lim.qp_high, "significant": lim.significant,
             "coverage": box.coverage, "density": box.density, "mass": box.mass}
            for which, box in (("prim", d.box), ("significant", d.kept)) for lim in box.limits]


TRAJECTORY_FIELDS = ["step", "phase", "coverage", "density", "mass", "restricted", "runs",
                     "cases", "chosen"]
BOX_FIELDS = ["box", "parameter", "role", "low", "high", "range_low", "range_high", "qp_low",
              "qp_high", "significant", "coverage", "density", "mass"]


def table(d: Discovery) -> TextTable:
    """PRIM's box's limits, with the range the runs covered, the quasi-p-values and whether
    each restriction is kept in its significant part."""
    def show(name, value):
        return "" if value is None else show_value(name, value)

    def qp(value):
        return "" if value is None else f"{value:.2g}"

    rows = [[r["parameter"], r["role"], show(r["parameter"], r["low"]),
             show(r["parameter"], r["high"]),
             f"{show_value(r['parameter'], r['range_low'])} to "
             f"{show_value(r['parameter'], r['range_high'])}",
             qp(r["qp_low"]), qp(r["qp_high"]), "yes" if r["significant"] else "no"]
            for r in box_records(d) if r["box"] == "prim"]
    kept = {lim.name for lim in d.kept.limits}
    for row in rows:
        row.append("yes" if row[0] in kept else "no")
    return TextTable(f"PRIM's box (step {d.box.step} of {len(d.trajectory.steps) - 1}): "
                     f"{_quality(d.box)}",
                     ["parameter", "role", "above", "below", "range run", "qp low", "qp high",
                      "significant", "kept"], rows, align="llrrrrrll",
                     note="kept: in the box once the restrictions that are not significant are "
                          "freed one by one (its quasi-p-values are computed anew)")
