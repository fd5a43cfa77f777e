"""Dose-response: how the key outcomes move with the values of the levers a sweep varied.

`haiti-sim sweep` runs one scenario over a design of lever values (a grid or a Latin hypercube,
`sim.running.batch.Plan.experiment`, so it is resumable and Dask-capable like any experiment) and
this module reads its results directory: for every point of the design and every key outcome of
`compare.COMPARED`, the median and 90% interval over replicates on a date (by default each run's
last day), flows counted from the branch. It reads the runs through `compare.load` (checked
against their sha256, only the metrics it needs) and the points' values from
`experiments.parquet`, and every statistic is `sim.analysis.stats`'. It returns plain records (the
CSV), `TextTable`s (the command line) and the curves `sim.analysis.report.sweep_html` draws.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sim.analysis import compare, stats
from sim.analysis.compare import COMPARED, CompareError, ScenarioRuns, TextTable
from sim.analysis.stats import Interval
from sim.model.outcomes import Outcome
from sim.running.results import ResultsDir


@dataclass
class Sweep:
    """The points of a sweep (their lever values, by label), the date read, and for every
    outcome and point the interval over replicates (`levels[outcome name][label]`)."""

    method: str  # the design's: "grid" draws lines through its points, "lhs" only the points
    factors: list[str]
    points: dict[str, dict[str, float]]
    origin: dt.date
    at: dt.date | None
    levels: dict[str, dict[str, Interval | None]] = field(default_factory=dict)
    replicates: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    parameters: str = ""  # how the runs treated the calibrated parameters (compare.load)

    def ordered(self) -> list[str]:
        """The point labels sorted by their values, first factor first."""
        return sorted(self.points, key=lambda label: [self.points[label][f]
                                                      for f in self.factors])


def _value_on(s: ScenarioRuns, outcome: Outcome, origin: dt.date,
              at: dt.date | None) -> Interval | None:
    day = len(s.dates) - 1 if at is None else s.day(at)
    return None if day is None else stats.interval(s.outcome(outcome, origin)[:, day])


def dose_response(directory: str | Path, at: dt.date | None = None) -> Sweep:
    """The key outcomes at every point of the sweep in `directory`, on `at` (default: each
    run's last day)."""
    results = ResultsDir(directory)
    scenarios, notes, parameters = compare.load([directory])
    table = results.read_experiments().to_pylist()
    design = results.read_manifest()["plan"]["design"]
    factors = [f["name"] for f in design["factors"]]
    if not factors:
        raise CompareError(f"{directory} holds a batch, not a sweep: no lever was varied")
    points = {}
    for row in table:
        points.setdefault(row["label"], {f: row[f] for f in factors})
    origin = compare.origin(scenarios)
    sweep = Sweep(design["method"], factors, {s.label: points[s.label] for s in scenarios},
                  origin, at, notes=notes, parameters=parameters)
    for outcome in COMPARED:
        sweep.levels[outcome.name] = {s.label: _value_on(s, outcome, origin, at)
                                      for s in scenarios}
    sweep.replicates = {s.label: len(s.replicates) for s in scenarios}
    return sweep


def records(sweep: Sweep) -> list[dict]:
    """One row per point and outcome: the lever values, the median and 90% interval, the
    replicates."""
    rows = []
    for outcome in COMPARED:
        for label in sweep.ordered():
            level = sweep.levels[outcome.name][label]
            rows.append({"label": label, **sweep.points[label], "outcome": outcome.name,
                         "at": sweep.at.isoformat() if sweep.at else "end",
                         "replicates": sweep.replicates[label],
                         "median": None if level is None else level.median,
                         "p05": None if level is None else level.low,
                         "p95": None if level is None else level.high})
    return rows


def curves(sweep: Sweep, outcome: Outcome
           ) -> list[tuple[tuple[tuple[str, float], ...], list[tuple[float, Interval]]]]:
    """The outcome against the first lever: one curve per combination of the other levers'
    values (a grid), as (that combination as (lever, value) pairs, [(value of the first lever,
    interval)] rising). A Latin hypercube has one curve, with no combination."""
    first, others = sweep.factors[0], sweep.factors[1:]
    groups: dict[tuple[tuple[str, float], ...], list[tuple[float, Interval]]] = {}
    for label in sweep.ordered():
        level = sweep.levels[outcome.name][label]
        if level is None:
            continue
        point = sweep.points[label]
        combination = tuple((f, point[f]) for f in others) if sweep.method == "grid" else ()
        groups.setdefault(combination, []).append((point[first], level))
    return [(c, sorted(values, key=lambda v: v[0])) for c, values in groups.items()]


def csv_text(sweep: Sweep) -> str:
    return compare.records_csv(records(sweep))


def tables(sweep: Sweep) -> list[TextTable]:
    """One table per key outcome: a row per point, its lever values and the outcome's median
    [90% interval]."""
    when = f"on {sweep.at}" if sweep.at else "at the end"
    out = []
    for outcome in COMPARED:
        since = f" since {sweep.origin}" if outcome.flow else ""
        rows = [[label, *(f"{sweep.points[label][f]:g}" for f in sweep.factors),
                 str(sweep.replicates[label]),
                 compare.show_interval(sweep.levels[outcome.name][label], outcome)]
                for label in sweep.ordered()]
        out.append(TextTable(f"{outcome.label}{since}, {when}: median [90% interval]",
                             ["point", *sweep.factors, "replicates", "value"], rows,
                             align="l" + "r" * (len(sweep.factors) + 2)))
    few = [label for label, n in sweep.replicates.items() if stats.too_few(n)]
    if few:
        out[-1].note = (f"Fewer than {stats.MIN_REPLICATES} replicates at a point: the ends of "
                        "its 90% interval are the range of its runs.")
    return out
