"""Global sensitivity: which parameters move the key outcomes, and how much, over their ranges.

`haiti-sim sensitivity` runs one scenario over SALib's Morris or Saltelli design
(`sim.running.design.morris`, `saltelli`) as an experiment (`sim.running.batch.Plan.experiment`,
so it is resumable and Dask-capable like any experiment), and this module reads its results
directory: every point's outcomes on the last day of its runs (flows counted from the branch, as
`haiti-sim compare` counts them), averaged over replicates, then SALib's indices of every factor:

- Morris (elementary effects; Morris 1991, Campolongo et al. 2007): `mu_star`, the mean absolute
  change of the outcome when the factor moves one step, scaled to the whole of its range (the
  design works on the unit cube, on the prior's scale), so factors of different units compare;
  `sigma`, the spread of those changes (non-linearity, or interactions with other factors); and
  `mu_star_conf`, the half-width of the bootstrap 90% interval of `mu_star`. A screening method:
  r x (k + 1) runs for k factors ranks them, it does not apportion variance.
- Sobol (Saltelli et al. 2010): `S1`, the share of the outcome's variance a factor explains
  alone; `ST`, the share it is involved in, interactions included; each with the half-width of
  its bootstrap 90% interval (`S1_conf`, `ST_conf`). A factor with ST near 0 can be fixed
  anywhere in its range without changing the outcome.

The level of every interval is `sim.analysis.stats.LEVEL`'s, as everywhere else. The design's
unit points, which the indices need, are made again from the manifest's description
(`design.rebuild`) and checked against the experiments table's values, so a result is never
analysed against another design. `indices` works on any design and outputs, which is how the
tests check the estimators on functions with known indices (a linear function, Ishigami's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.analysis import compare, stats
from sim.analysis.compare import COMPARED, CompareError, TextTable
from sim.model import outcomes
from sim.model.outcomes import Outcome
from sim.model.parameters import PARAMS
from sim.running import design
from sim.running.design import Design
from sim.running.results import ResultsDir

MORRIS, SOBOL = METHODS = ("morris", "sobol")
DESIGNS = {MORRIS: "morris", SOBOL: "saltelli"}  # the method's design in sim.running.design
COLUMNS = {MORRIS: ("mu_star", "mu_star_conf", "sigma"),
           SOBOL: ("S1", "S1_conf", "ST", "ST_conf")}
RANKED_BY = {MORRIS: "mu_star", SOBOL: "ST"}
RESAMPLES = 1000  # bootstrap resamples of every interval
# Defaults of the designs. Morris: 10 trajectories rank 72 uncertainties in 730 runs, about 5
# minutes to 2027 on 2 cores; SALib's 4 levels. Sobol: a base sample of 64 is 64 x (k + 2) runs.
TRAJECTORIES, LEVELS, BASE_SAMPLES = 10, 4, 64
TOP = 15  # parameters a table or chart shows per outcome


@dataclass(frozen=True)
class Index:
    """One factor's indices for one outcome (`values`: `COLUMNS[method]`)."""

    parameter: str
    role: str
    values: dict[str, float]


@dataclass
class Sensitivity:
    """The indices of every factor for every outcome, ranked (`ranked[outcome name]`, most
    influential first), and what they were computed from."""

    method: str
    outcomes: list[Outcome]
    factors: list[str]
    points: int
    replicates: int
    origin: object  # dt.date: where flows count from
    ranked: dict[str, list[Index]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    parameters: str = ""  # how the runs treated the calibrated parameters (compare.load)


def method_of(d: Design) -> str:
    """The sensitivity method a design serves ("morris" or "sobol")."""
    for method, made_by in DESIGNS.items():
        if d.method == made_by:
            return method
    raise CompareError(f"a {d.method} design has no sensitivity indices: run 'haiti-sim "
                       "sensitivity', whose designs are Morris's and Saltelli's")


def indices(d: Design, y: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """SALib's indices of every factor of `d` for the outputs `y` (one per point, in the
    design's order): `COLUMNS[method]`, each an array over the factors."""
    y = np.asarray(y, dtype=float)
    if y.shape != (len(d.points),) or not np.isfinite(y).all():
        raise ValueError(f"need one finite output per point ({len(d.points)}), got {y.shape}")
    problem = {"num_vars": len(d.factors), "names": [f.name for f in d.factors],
               "bounds": [[0.0, 1.0]] * len(d.factors)}
    method = method_of(d)
    if method == MORRIS:
        from SALib.analyze import morris

        found = morris.analyze(problem, d.unit_points, y, num_resamples=RESAMPLES,
                               conf_level=stats.LEVEL, num_levels=d.settings["levels"],
                               seed=seed)
    else:
        from SALib.analyze import sobol

        if np.ptp(y) == 0:  # no variance to apportion
            nan = np.full(len(d.factors), np.nan)
            return {c: nan for c in COLUMNS[SOBOL]}
        found = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES,
                              conf_level=stats.LEVEL, seed=seed)
    return {c: np.asarray(found[c], dtype=float) for c in COLUMNS[method]}


def rank(d: Design, found: dict[str, np.ndarray]) -> list[Index]:
    """The factors with their indices, most influential first (Morris: by mu_star; Sobol: by
    ST); a factor without an index (NaN) last."""
    method = method_of(d)
    key = found[RANKED_BY[method]]
    order = sorted(range(len(d.factors)),
                   key=lambda i: (not np.isfinite(key[i]), -np.nan_to_num(key[i])))
    return [Index(d.factors[i].name, PARAMS[d.factors[i].name].role,
                  {c: float(found[c][i]) for c in COLUMNS[method]}) for i in order]


def _outputs(directory: str | Path, d: Design, wanted: list[Outcome]
             ) -> tuple[dict[str, np.ndarray], int, object, list[str], str]:
    """Every outcome's value per point (the mean over its replicates, on its runs' last day),
    the replicates per point, the origin of flows, notes and how the parameters were drawn."""
    results = ResultsDir(directory)
    table = results.read_experiments()
    sample_of = dict(zip(table["label"].to_pylist(), table["sample"].to_pylist(), strict=True))
    keep = {m for o in wanted for m in o.metrics}
    scenarios, notes, parameters = compare.load([directory], keep)
    origin = compare.origin(scenarios)
    y = {o.name: np.full(len(d.points), np.nan) for o in wanted}
    for s in scenarios:
        for o in wanted:
            y[o.name][sample_of[s.label]] = np.nanmean(s.outcome(o, origin)[:, -1])
    missing = int(np.isnan(y[wanted[0].name]).sum())
    if missing:
        raise CompareError(f"{missing} of the design's {len(d.points)} points have no finished "
                           "run, and the indices need every point: complete them with "
                           f"haiti-sim sensitivity ... --resume --out {directory}")
    replicates = min(len(s.replicates) for s in scenarios)
    return y, replicates, origin, notes, parameters


def _check_values(directory: str | Path, d: Design) -> None:
    """Refuse an experiments table whose values are not the rebuilt design's."""
    table = ResultsDir(directory).read_experiments()
    first = {}
    for row in table.select(["sample", *(f.name for f in d.factors)]).to_pylist():
        first.setdefault(row.pop("sample"), row)
    for k, point in enumerate(d.points):
        if not all(np.isclose(first.get(k, {}).get(n, np.nan), v) for n, v in point.items()):
            raise CompareError(f"{directory}: the design made again from its manifest differs "
                               f"from the values that ran (point {k}); was it run by another "
                               "version of SALib? Run the sensitivity again into a new --out")


def analyse(directory: str | Path, names: list[str] | None = None, seed: int = 0
            ) -> Sensitivity:
    """The sensitivity indices of the outcomes `names` (default: the key outcomes of
    `compare.COMPARED`) on the last day of the runs in `directory`."""
    manifest = ResultsDir(directory).read_manifest()
    d = design.rebuild(manifest["plan"]["design"])
    method_of(d)  # refuses a design without indices before anything is read
    _check_values(directory, d)
    wanted = [outcomes.get(n) for n in names] if names else list(COMPARED)
    y, replicates, origin, notes, parameters = _outputs(directory, d, wanted)
    return of_outputs(d, y, wanted, replicates, origin, seed, notes, parameters)


def point_means(per_point: list[list[tuple[float, ...]]], wanted: list[Outcome]
                ) -> dict[str, np.ndarray]:
    """Every outcome's value per point from runs held in memory: `per_point[k][i]` is replicate
    i of point k reduced by `LastDay`; the mean over replicates, as `_outputs` takes it from a
    directory."""
    return {o.name: np.array([np.nanmean([run[j] for run in runs]) for runs in per_point])
            for j, o in enumerate(wanted)}


def of_outputs(d: Design, y: dict[str, np.ndarray], wanted: list[Outcome], replicates: int,
               origin, seed: int = 0, notes: list[str] | None = None, parameters: str = ""
               ) -> Sensitivity:
    """The indices of the outcomes `wanted` from their values per point of `d` (`y[name]`, in
    the design's order): what `analyse` computes once it has read a directory, and what the app
    computes from runs it holds in memory."""
    method = method_of(d)
    result = Sensitivity(method, wanted, [f.name for f in d.factors], len(d.points), replicates,
                         origin, notes=list(notes or []), parameters=parameters)
    for o in wanted:
        found = indices(d, y[o.name], seed)
        result.ranked[o.name] = rank(d, found)
        if np.ptp(y[o.name]) == 0:
            result.notes.append(f"{o.name} is the same at every point: no factor moves it "
                                "over the design")
    return result


@dataclass(frozen=True)
class LastDay:
    """The outcomes `names` of one run on its last day, flows counted from `origin`: what a run
    is reduced to in the worker that ran it when the runs stay in memory (the app), the value
    `_outputs` reads from a results directory."""

    names: tuple[str, ...]
    origin: object  # dt.date

    def __call__(self, out) -> tuple[float, ...]:
        dates = np.datetime64(out.start, "D") + np.arange(len(out.values))
        values = dict(zip(out.metrics, out.values.T, strict=True))
        wanted = [outcomes.get(n) for n in self.names]
        runs = compare.scenario_runs(out.scenario, out.scenario, "memory", None, 1,
                                     [(out.replicate, out.seed, dates, values,
                                       out.owner_is_gang)],
                                     keep={m for o in wanted for m in o.metrics})
        return tuple(float(runs.outcome(o, self.origin)[0, -1]) for o in wanted)


def records(s: Sensitivity) -> list[dict]:
    """One row per outcome and factor, most influential first within each outcome."""
    return [{"outcome": name, "parameter": i.parameter, "role": i.role, "rank": k + 1,
             **i.values} for name, ranked in s.ranked.items() for k, i in enumerate(ranked)]


def csv_text(s: Sensitivity) -> str:
    return compare.records_csv(records(s))


def show_index(value: float, o: Outcome, method: str,
               unit: compare.Unit | None = None) -> str:
    """A Morris index in the outcome's units (a change of a share in percentage points; a count
    or money in `unit`, which an index and its +- share: `compare.money_unit`); a Sobol index
    as a share of the variance."""
    if not np.isfinite(value):
        return "-"
    if method == SOBOL:
        return f"{value:.2f}"
    if o.display == outcomes.PERCENT:
        return f"{value * 100:.1f} pp"
    return compare.show_value(value, o, unit=unit)


def tables(s: Sensitivity, top: int = TOP) -> list[TextTable]:
    """One table per outcome: its `top` most influential factors and their indices (+- the
    half-width of the 90% interval)."""
    since = {o.name: f" since {s.origin}" if o.flow else "" for o in s.outcomes}
    out = []
    for o in s.outcomes:
        rows = []
        for k, i in enumerate(s.ranked[o.name][:top]):
            v = i.values
            if s.method == MORRIS:
                unit = compare.money_unit([v["mu_star"], v["mu_star_conf"], v["sigma"]])
                cells = [f"{show_index(v['mu_star'], o, MORRIS, unit)} +- "
                         f"{show_index(v['mu_star_conf'], o, MORRIS, unit)}",
                         show_index(v["sigma"], o, MORRIS, unit)]
            else:
                cells = [f"{show_index(v['ST'], o, SOBOL)} +- {show_index(v['ST_conf'], o, SOBOL)}",
                         f"{show_index(v['S1'], o, SOBOL)} +- {show_index(v['S1_conf'], o, SOBOL)}"]
            rows.append([str(k + 1), i.parameter, i.role, *cells])
        headers = (["rank", "parameter", "role", "mu* (90% interval)", "sigma"]
                   if s.method == MORRIS else
                   ["rank", "parameter", "role", "ST (90% interval)", "S1 (90% interval)"])
        out.append(TextTable(f"{o.label}{since[o.name]}, at the end: the {min(top, len(rows))} "
                             f"most influential of {len(s.factors)} parameters", headers, rows,
                             align="rllrr"))
    out[-1].note = (
        "mu*: the mean absolute change of the outcome when a parameter moves across its range "
        "(Morris); sigma: how much that change varies (non-linearity, interactions)."
        if s.method == MORRIS else
        "ST: the share of the outcome's variance a parameter is involved in, interactions "
        "included; S1: the share it explains alone (Sobol).")
    return out
