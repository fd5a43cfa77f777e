"""The key outcomes of runs and how scenarios compare on them across replicates.

Which outcomes are key is chosen here (`COMPARED` for `haiti-sim compare`, `YEARLY` for the
per-year summary of `haiti-sim run`); their labels, units and formats are the catalogue's
(`sim.model.outcomes`) and every statistic is `sim.analysis.stats`'. A comparison reads results
directories run by run (keeping only the metrics it needs), then gives for every scenario and
outcome, at chosen dates and at the end: the median and 90% interval over replicates; the
difference to a reference scenario paired by replicate; and probabilities of events with their
Wilson intervals. Cumulative outcomes (killed, money spent) count from the comparison's origin:
the earliest branch date among the scenarios.

Results are returned as plain records (for the CSV) and as `TextTable`s that the command line
prints and `sim.analysis.report` renders as HTML, so both show the same numbers; the app draws
the same `band`s and `paired_band`s as the report, whose lines both call by the scenarios' names
(`legend_names`). Money and counts read side by side (a cell's median and interval, a table's
column, a row of the yearly summary, an axis, an app's headline box) are in one unit
(`money_unit`, `show_value`: this module holds the formatter the report and the app use).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.analysis import stats
from sim.analysis.stats import Interval, Probability
from sim.model import outcomes
from sim.model.outcomes import Outcome
from sim.running import ensemble
from sim.running.results import ResultsDir, ResultsError, RunOutput

CAPITAL = outcomes.get("capital_gang_share_area")  # whose fall below a threshold has a chance
COMPARED = tuple(map(outcomes.get, (
    "capital_gang_share_area", "gang_controlled_share_national", "displaced", "killed", "troops",
    "spent_usd")))
YEARLY = tuple(map(outcomes.get, (
    "capital_gang_share_area", "capital_gang_share_population", "gang_controlled_population",
    "displaced", "killed", "kidnappings", "troops", "spent_usd", "roads_cut")))
ROAD_PREFIX = outcomes.ROAD_CUT.prefix + "."
LIMIT_PREFIX = outcomes.TROOPS_LIMIT.prefix + "."
LIMITS = outcomes.TROOPS_LIMIT.names(outcomes.TROOP_LIMITS)
NO_MISSION = "no mission"  # neither troops nor a target: nothing for a constraint to hold
WEEK_DAYS = 7  # time series are drawn weekly: the eye cannot see daily points in a chart


class CompareError(ValueError):
    """Results that cannot be compared as asked; `str()` is the message for the user."""


@dataclass
class TextTable:
    """A table of formatted cells, rendered as text by the command line and as HTML by reports."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""
    align: str = ""  # "l" or "r" per column; default: the first left, numbers right

    def render(self) -> str:
        cells = [self.headers, *self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]
        align = self.align or "l" + "r" * (len(self.headers) - 1)
        lines = [self.title] + ["  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                                          for c, w, a in zip(row, widths, align, strict=True))
                                .rstrip() for row in cells]
        return "\n".join(lines + ([self.note] if self.note else []))


# Money and counts are shown in one unit wherever amounts are read side by side (a cell's median
# and its interval, a table's column or row, a headline box, an axis): the largest unit its
# largest amount reaches, so "$2.50 bn" stands beside "-$0.001 bn", never beside "-$529,679",
# which hid that the difference is tiny, and a count reads "1.62 M [0.84 M, 1.98 M]", never
# "1.62 M [835,549, 1.98 M]".
BILLIONS, MILLIONS, ONES = (1e9, "bn"), (1e6, "M"), (1.0, "")
Unit = tuple[float, str]


def money_unit(values: Iterable[float | None]) -> Unit:
    """The unit for amounts read together, of money or of a count (named for money, its first
    use): billions if the largest magnitude reaches one, else millions if it reaches one, else
    ones."""
    top = max((abs(v) for v in values if v is not None and np.isfinite(v)), default=0.0)
    return next((u for u in (BILLIONS, MILLIONS) if top >= u[0]), ONES)


def _scaled(value: float | None, unit: Unit, signed: bool, symbol: str) -> str:
    """An amount in `unit` with the decimals its size there needs: the one formatter of money
    and counts."""
    if value is None or not np.isfinite(value):
        return "-"
    scale, name = unit
    x = abs(value) / scale
    digits = 0 if not name or x == 0 or x >= 100 else 1 if x >= 10 else 2 if x >= 0.1 else 3
    sign = "-" if value < 0 else ("+" if signed else "")
    return f"{sign}{symbol}{x:,.{digits}f}" + (f" {name}" if name else "")


def show_money(value: float | None, unit: Unit, signed: bool = False) -> str:
    """An amount of money in `unit`: "$2.50 bn", "$34.5 M", "-$0.53 M", "$529,679"."""
    return _scaled(value, unit, signed, "$")


def show_count(value: float | None, unit: Unit, signed: bool = False) -> str:
    """A count in `unit`: "1.62 M", "0.84 M", "+12.5 M", "835,549"."""
    return _scaled(value, unit, signed, "")


def show_value(value: float | None, outcome: Outcome, signed: bool = False,
               unit: Unit | None = None) -> str:
    """A value in the outcome's format; money and counts in `unit` (default: the value's
    own)."""
    if outcome.display == outcomes.PERCENT:
        return outcome.show(value, signed)
    show = show_money if outcome.display == outcomes.USD else show_count
    return show(value, unit or money_unit([value]), signed)


def show_interval(level: Interval | None, outcome: Outcome, signed: bool = False,
                  unit: Unit | None = None) -> str:
    """"median [low, high]" in the outcome's format; a difference (`signed`) with its sign;
    money and counts in `unit`, by default the one its three amounts share."""
    if level is None:
        return "-"
    ends = (level.median, level.low, level.high)
    unit = unit or money_unit(ends)
    median, low, high = (show_value(v, outcome, signed, unit) for v in ends)
    return f"{median} [{low}, {high}]"


def show_probability(p: Probability | None) -> str:
    """"34% [22-48%]": the chance and its 90% interval."""
    return "-" if p is None else f"{p.p:.0%} [{p.low * 100:.0f}-{p.high * 100:.0f}%]"


def _sum_metrics(metrics: dict[str, np.ndarray], outcome: Outcome) -> np.ndarray:
    return sum(metrics[m] for m in outcome.metrics)


# ---------------------------------------------------------------------------- one run
def no_mission(metrics: dict[str, np.ndarray]) -> np.ndarray:
    """Where (days, or replicates x days) there is no mission: no troops, and the target
    recorded as what holds them. `sim.model.mission` records the target when it is the least of
    target, ceiling and money, and troops short of it as held by the pace, so that means a
    target of zero. Counted as the target holding a force back, such days read "held by the
    target: 100%" in the years before a mission arrives or after it has left; a ceiling or
    money that keeps a pledged force at zero is a mission held back, and counts as one."""
    return (metrics["troops"] == 0) & (metrics[f"{LIMIT_PREFIX}target"] == 1)


def _share_of_days(held: np.ndarray, days: np.ndarray) -> str:
    return f"{held[days].mean():.0%}" if days.any() else NO_MISSION


def yearly_table(run: RunOutput, title: str) -> TextTable:
    """`haiti-sim run`'s summary: stocks at the end of each year, flows summed over each year,
    and at the end of the run (stocks) or over the whole run (flows)."""
    metrics = {name: run.values[:, i] for i, name in enumerate(run.metrics)}
    dates = np.datetime64(run.start, "D") + np.arange(len(run.values))
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    columns = sorted(set(years.tolist()))
    rows = []
    for outcome in YEARLY:
        series = _sum_metrics(metrics, outcome)
        cells = [series[years == y].sum() if outcome.flow else series[years == y][-1]
                 for y in columns]
        cells.append(series.sum() if outcome.flow else series[-1])
        unit = money_unit(cells)  # a row is one measure: its amounts in one unit
        rows.append([outcome.label + (" (in the year)" if outcome.flow else "")]
                    + [show_value(v, outcome, unit=unit) for v in cells])
    if all(n in metrics for n in LIMITS):  # why the troops are what they are
        mission = ~no_mission(metrics)
        for c, name in zip(outcomes.TROOP_LIMITS, LIMITS, strict=True):
            held = metrics[name]
            rows.append([f"Troops held by the {c} (share of the days with a mission)"]
                        + [_share_of_days(held, mission & (years == y)) for y in columns]
                        + [_share_of_days(held, mission)])
    last = dates[-1].astype(dt.date)
    headers = ["", *(str(y) for y in columns), "end / total"]
    if last != dt.date(last.year, 12, 31):
        headers[-2] = f"{last.year} (to {last:%d %b})"
    return TextTable(title, headers, rows, "Stocks at the end of each year; flows summed over it.")


# ---------------------------------------------------------------------------- many runs
@dataclass
class ScenarioRuns:
    """The finished replicates of one scenario: the metrics a comparison needs, as arrays of
    replicates x days, and the share of replicates in which each cell is gang-held at the end."""

    label: str
    name: str
    source: str  # where the runs come from: a results directory, or the app
    branch: dt.date | None
    dates: np.ndarray  # datetime64[D]
    replicates: np.ndarray
    seeds: np.ndarray
    metrics: dict[str, np.ndarray]
    gang_held_share: np.ndarray

    def day(self, date: dt.date) -> int | None:
        """Index of `date` in this scenario's days, or None if it was not simulated."""
        i = int((np.datetime64(date, "D") - self.dates[0]).astype(int))
        return i if 0 <= i < len(self.dates) else None

    @property
    def end(self) -> dt.date:
        return self.dates[-1].astype(dt.date)

    def outcome(self, outcome: Outcome, origin: dt.date) -> np.ndarray:
        """Replicates x days of an outcome; flows accumulate from `origin` (NaN before it)."""
        values = _sum_metrics(self.metrics, outcome)
        if not outcome.flow:
            return values
        first = max(int((np.datetime64(origin, "D") - self.dates[0]).astype(int)), 0)
        total = np.full(values.shape, np.nan)
        total[:, first:] = np.cumsum(values[:, first:], axis=1)
        return total


def legend_names(names: dict[str, str]) -> dict[str, str]:
    """What a chart calls each scenario, from {label: name}: its name (the file's `name:`),
    which people read, rather than its label (a file stem, which tables and --reference use);
    qualified with the label where two share a name (one file from two batches, two runs of one
    file), so no two lines of a legend read alike."""
    named = {label: name or label for label, name in names.items()}
    shared = list(named.values())
    return {label: name if shared.count(name) == 1 else f"{name} ({label})"
            for label, name in named.items()}


def _wanted(names: list[str]) -> set[str]:
    return {m for o in COMPARED for m in o.metrics} | {
        n for n in names if n.startswith((ROAD_PREFIX, LIMIT_PREFIX))}


def scenario_runs(label: str, name: str, source: str, branch: dt.date | None, count: int,
                  runs: Iterable[tuple[int, int, np.ndarray, dict[str, np.ndarray], np.ndarray]],
                  keep: Collection[str] | None = None) -> ScenarioRuns:
    """Assemble a scenario's `count` runs, given one at a time as (replicate, seed, dates,
    {metric: values by day}, end map of gang-held cells), from disk or from memory.

    Only the metrics in `keep` are kept, by default those a comparison needs, so memory grows
    with replicates x days x a dozen metrics, not with everything the model records."""
    metrics: dict[str, np.ndarray] = {}
    replicates, seeds = np.empty(count, np.int64), np.empty(count, np.int64)
    held = dates = None
    for k, (replicate, seed, dates, values, owner) in enumerate(runs):
        replicates[k], seeds[k] = replicate, seed
        for metric in _wanted(list(values)) if keep is None else keep:
            metrics.setdefault(metric, np.empty((count, len(dates))))[k] = values[metric]
        held = owner.astype(float) if held is None else held + owner
    order = np.argsort(replicates, kind="stable")
    return ScenarioRuns(label, name, source, branch, dates, replicates[order], seeds[order],
                        {m: v[order] for m, v in metrics.items()}, held / count)


def _load_scenario(results: ResultsDir, described: dict, runs: list[dict],
                   label: str, keep: Collection[str] | None) -> ScenarioRuns:
    branch = described["branch"]
    return scenario_runs(
        label, described["name"], str(results.path),
        dt.date.fromisoformat(branch) if branch else None, len(runs),
        ((r["replicate"], r["seed"], *results.read_run(r["scenario"], r["replicate"], keep),
          results.read_map(r["scenario"], r["replicate"])) for r in runs), keep)


def load(directories: list[str | Path], keep: Collection[str] | None = None
         ) -> tuple[list[ScenarioRuns], list[str], str]:
    """The finished runs of every scenario in the results directories, notes for the user
    (scenarios with no finished run, directories run under different parameter draws) and how
    the runs treated the calibrated parameters (`ensemble.summary`). A label found in two
    directories is qualified with the directory's name, so the same scenario from two batches
    can be compared. `keep` names the metrics to keep (default: those a comparison needs)."""
    found: list[tuple[ResultsDir, dict, list[dict]]] = []
    modes: list[dict] = []
    for directory in directories:
        results = ResultsDir(directory)
        try:
            manifest = results.read_manifest()
            done = sorted(results.done_runs(), key=lambda r: (r["replicate"], r["scenario"]))
        except FileNotFoundError:
            raise CompareError(f"{directory} holds no results (no manifest.json); give "
                               "directories written by 'haiti-sim run' or 'haiti-sim batch'"
                               ) from None
        except ResultsError as exc:
            raise CompareError(str(exc)) from None
        modes.append(manifest["plan"].get("ensemble", ensemble.POINT))
        for described in manifest["plan"]["scenarios"]:
            found.append((results, described, [r for r in done
                                               if r["scenario"] == described["label"]]))
    labels = [d["label"] for _, d, _ in found]
    scenarios, notes = [], []
    parameters = ensemble.summary(modes[0])
    if any(m != modes[0] for m in modes):
        parameters = "; ".join(f"{d}: {ensemble.summary(m)}"
                               for d, m in zip(directories, modes, strict=True))
        notes.append("the directories ran under different parameter draws, so scenarios of "
                     "different directories are not paired by parameter draw, only by seed")
    for results, described, runs in found:
        label = described["label"]
        if labels.count(label) > 1:
            label = f"{results.path.name}/{label}"
        if not runs:
            notes.append(f"{label}: no finished run in {results.path}; left out")
            continue
        try:  # every file is checked against its recorded sha256 before it is read
            scenarios.append(_load_scenario(results, described, runs, label, keep))
        except ResultsError as exc:
            raise CompareError(str(exc)) from None
    if not scenarios:
        raise CompareError("no finished run to compare in " + ", ".join(map(str, directories)))
    return scenarios, notes, parameters


@dataclass
class Comparison:
    """Scenarios compared with a reference at dates; `records` are the numbers behind `tables`."""

    scenarios: list[ScenarioRuns]
    reference: ScenarioRuns
    origin: dt.date
    dates: list[dt.date]
    threshold: float
    notes: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    parameters: str = ""  # how the runs treated the calibrated parameters, if known

    @property
    def roads(self) -> list[str]:
        return sorted(m.removeprefix(ROAD_PREFIX) for m in self.reference.metrics
                      if m.startswith(ROAD_PREFIX))

    def at(self, s: ScenarioRuns) -> list[tuple[str, dt.date]]:
        """The (column label, date) pairs reported for scenario `s`: chosen dates, then its end."""
        return [(d.isoformat(), d) for d in self.dates] + [("end", s.end)]


def at_date(s: ScenarioRuns, ref: ScenarioRuns | None, outcome: Outcome, origin: dt.date,
            date: dt.date) -> tuple[Interval | None, Interval | None]:
    """An outcome of `s` on `date` over replicates, and its difference to `ref` on the same date
    paired by replicate (None where a scenario did not simulate the date, or `ref` is `s`)."""
    day = s.day(date)
    if day is None:
        return None, None
    values = s.outcome(outcome, origin)[:, day]
    ref_day = None if ref is None or ref is s else ref.day(date)
    if ref_day is None:
        return stats.interval(values), None
    return stats.interval(values), stats.interval(stats.paired_differences(
        values, s.replicates, ref.outcome(outcome, origin)[:, ref_day], ref.replicates))


def _weekly(first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """Every WEEK_DAYS-th date from `first`, and `last`."""
    days = int((last - first).astype(int))
    return first + np.unique(np.append(np.arange(0, days + 1, WEEK_DAYS), days))


def band(s: ScenarioRuns, outcome: Outcome, origin: dt.date):
    """(dates, median, low, high) of an outcome over replicates, weekly and on the last day."""
    dates = _weekly(s.dates[0], s.dates[-1])
    values = s.outcome(outcome, origin)[:, (dates - s.dates[0]).astype(int)]
    return dates, *stats.bands(values)


def observed(runs: Iterable[ScenarioRuns], outcome: Outcome) -> list:
    """The record's figures of `outcome` on days some of `runs` simulated, to draw over their
    bands: the stocks of `sim.analysis.targets` (`Target`s: date, value, figure as the source
    gives it, source), the figures the calibration is fitted to and so only those through its
    last date (2024): a later figure is out of sample and must not pass for calibration data.
    Flows (the killed and kidnapped per quarter) are left out: the charts show totals since
    the origin, which a quarter's count is not."""
    from sim.analysis import targets  # scipy, which the command line's start does without

    runs = list(runs)
    return [t for t in targets.STOCKS if t.metric == outcome.name
            and t.when <= targets.LAST_DATE and any(r.day(t.when) is not None for r in runs)]


def missed(s: ScenarioRuns, outcome: Outcome, origin: dt.date, observed: list) -> list[bool]:
    """For each of `observed` (`observed`'s figures), whether the 90% interval of `s` on the
    figure's own day misses it: `targets.met`, the test of the documentation's coverage (the
    weekly band a chart draws may not hold that day)."""
    from sim.analysis import targets

    out = []
    for t in observed:
        level, _ = at_date(s, None, outcome, origin, t.when)
        out.append(level is not None and not targets.met(t, level.low, level.high))
    return out


def observed_name(points: list) -> str:
    """The legend entry of observed figures: "observed (UN, BINUH, OHCHR)", the organisation
    each source names first (each point's full source is in its hover text)."""
    first = dict.fromkeys(re.split(r"[\s,(]", t.source, maxsplit=1)[0] for t in points)
    return f"observed ({', '.join(first)})"


def troop_limits(s: ScenarioRuns) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """(dates, {constraint: share of replicates it holds the troops in}), weekly from the
    branch (the start without one): which of the target, the ceiling, the money and the pace
    keeps the mission's troops where they are, and last the share of replicates with no
    mission (`no_mission`), so the shares add up to one on every date. None for runs that did
    not record it."""
    if any(n not in s.metrics for n in (*LIMITS, "troops")):
        return None
    first = s.dates[0] if s.branch is None else max(s.dates[0], np.datetime64(s.branch, "D"))
    dates = _weekly(first, s.dates[-1])
    days = (dates - s.dates[0]).astype(int)
    absent = no_mission(s.metrics)[:, days]
    shares = {c: (s.metrics[n][:, days] * ~absent).mean(0)
              for c, n in zip(outcomes.TROOP_LIMITS, LIMITS, strict=True)}
    return dates, shares | {NO_MISSION: absent.mean(0)}


def paired_band(s: ScenarioRuns, ref: ScenarioRuns, outcome: Outcome, origin: dt.date):
    """(dates, median, low, high) of the paired difference to `ref`, weekly over the days both
    simulated from the origin on (before it, a branch's history is the reference's); None if
    there are no such days or no common replicate."""
    first = max(s.dates[0], ref.dates[0], np.datetime64(origin, "D"))
    last = min(s.dates[-1], ref.dates[-1])
    if last < first or not len(stats.pair(s.replicates, ref.replicates)[0]):
        return None
    dates = _weekly(first, last)
    diff = stats.paired_differences(
        s.outcome(outcome, origin)[:, (dates - s.dates[0]).astype(int)], s.replicates,
        ref.outcome(outcome, origin)[:, (dates - ref.dates[0]).astype(int)], ref.replicates)
    return dates, *stats.bands(diff)


def origin(scenarios: list[ScenarioRuns]) -> dt.date:
    """Where cumulative outcomes count from: the earliest branch, else the earliest start."""
    branches = [s.branch for s in scenarios if s.branch is not None]
    return min(branches) if branches else min(s.dates[0].astype(dt.date) for s in scenarios)


def default_dates(scenarios: list[ScenarioRuns], origin: dt.date) -> list[dt.date]:
    """The 31 December of every year from the origin to before the last scenario's end."""
    last = max(s.end for s in scenarios)
    return [dt.date(y, 12, 31) for y in range(origin.year, last.year + 1)
            if origin <= dt.date(y, 12, 31) < last]


def compare(directories: list[str | Path], reference: str | None = None,
            dates: list[dt.date] | None = None, threshold: float = 0.5) -> Comparison:
    """Compare the finished runs in `directories` with the `reference` scenario (default: the
    first) at `dates` (default: each 31 December from the origin) and at each scenario's end;
    `threshold` is the gang-held share of the capital whose crossing is given a probability."""
    if not 0 < threshold < 1:
        raise CompareError(f"--threshold is a share of the capital between 0 and 1, "
                           f"got {threshold}")
    scenarios, notes, parameters = load(directories)
    comparison = compare_runs(scenarios, reference, dates, threshold, notes)
    comparison.parameters = parameters
    return comparison


def compare_runs(scenarios: list[ScenarioRuns], reference: str | None = None,
                 dates: list[dt.date] | None = None, threshold: float = 0.5,
                 notes: list[str] | None = None) -> Comparison:
    """`compare` of scenarios already in memory (`scenario_runs`), as the app holds them."""
    notes = list(notes or [])
    labels = [s.label for s in scenarios]
    if reference is None:
        ref = scenarios[0]
    else:
        matches = [s for s in scenarios if reference in (s.label, s.label.split("/")[-1])]
        if len(matches) != 1:
            raise CompareError(f"--reference '{reference}' must name one scenario of: "
                               + ", ".join(labels))
        ref = matches[0]
    start = origin(scenarios)
    comparison = Comparison(scenarios, ref, start, sorted(dates or default_dates(scenarios,
                                                                                start)),
                            threshold, notes)
    for s in scenarios:
        mine, theirs = stats.pair(s.replicates, ref.replicates)
        if s is not ref and not np.array_equal(s.seeds[mine], ref.seeds[theirs]):
            notes.append(f"{s.label}: its replicates ran with other seeds than {ref.label}'s, "
                         "so differences are not paired by common random numbers")
    comparison.records = _distribution_records(comparison) + _probability_records(comparison)
    return comparison


def _record(kind: str, key: str, s: ScenarioRuns, at: str, date: dt.date, replicates: int,
            level: Interval | None = None, diff: Interval | None = None,
            p: Probability | None = None) -> dict:
    """One row of the CSV; every kind has every column, empty where it does not apply."""
    def ends(x):
        return (None, None, None) if x is None else (x.median, x.low, x.high)

    return dict(zip(
        ("kind", "outcome", "scenario", "at", "date", "replicates", "median", "p05", "p95",
         "diff_median", "diff_p05", "diff_p95", "probability", "probability_low",
         "probability_high"),
        (kind, key, s.label, at, date.isoformat(), replicates, *ends(level), *ends(diff),
         *((None, None, None) if p is None else (p.p, p.low, p.high))), strict=True))


def _distribution_records(c: Comparison) -> list[dict]:
    records = []
    for outcome in COMPARED:
        for s in c.scenarios:
            for at, date in c.at(s):
                # paired with the reference on the same date, even at "end"
                level, diff = at_date(s, c.reference, outcome, c.origin, date)
                records.append(_record("distribution", outcome.name, s, at, date,
                                       0 if s.day(date) is None else len(s.replicates),
                                       level, diff))
    return records


def _probability_records(c: Comparison) -> list[dict]:
    records = []
    for s in c.scenarios:
        capital = s.outcome(CAPITAL, c.origin)
        first = s.day(c.origin) if s.day(c.origin) is not None else 0
        for at, date in c.at(s):
            day = s.day(date)
            p = None
            if day is not None and day >= first and c.origin <= date:
                p = stats.probability(capital[:, first:day + 1].min(axis=1) < c.threshold)
            records.append(_record("probability", f"capital_below_{c.threshold:g}", s, at, date,
                                   len(s.replicates), p=p))
        for road in c.roads:
            cut = s.metrics.get(ROAD_PREFIX + road)
            records.append(_record("probability", f"road_open.{road}", s, "end", s.end,
                                   len(s.replicates),
                                   p=None if cut is None else stats.probability(cut[:, -1] == 0)))
    return records


def _columns(c: Comparison) -> list[str]:
    return [d.isoformat() for d in c.dates] + ["end"]


def tables(c: Comparison) -> list[TextTable]:
    """The comparison as tables: one per outcome, then the probabilities."""
    by_key = {(r["outcome"], r["scenario"], r["at"]): r for r in c.records}
    columns = _columns(c)
    ends = sorted({s.end.isoformat() for s in c.scenarios})
    headers = ["scenario", *columns[:-1], f"end ({', '.join(ends)})"]
    out = []
    for outcome in COMPARED:
        cells_of = {s.label: [by_key.get((outcome.name, s.label, at)) for at in columns]
                    for s in c.scenarios}
        # a column is one outcome on one date: its levels and differences share a unit
        units = [money_unit(_amounts(column)) for column in zip(*cells_of.values(), strict=True)]
        rows = []
        for s in c.scenarios:
            cells = cells_of[s.label]
            rows.append([s.label] + [_interval_cell(r, "", outcome, unit=u)
                                     for r, u in zip(cells, units, strict=True)])
            if s is not c.reference:
                rows.append([f"  vs {c.reference.label}"]
                            + [_interval_cell(r, "diff_", outcome, True, u)
                               for r, u in zip(cells, units, strict=True)])
        since = f" since {c.origin}" if outcome.flow else ""
        out.append(TextTable(f"{outcome.label}{since}: median [90% interval]", headers, rows))
    below = f"capital_below_{c.threshold:g}"
    out.append(TextTable(
        f"Chance that gangs hold less than {c.threshold:.0%} of Port-au-Prince on some day "
        f"between {c.origin} and the date: share of replicates [90% interval]", headers,
        [[s.label] + [_percent(by_key.get((below, s.label, at))) for at in columns]
         for s in c.scenarios]))
    out.append(TextTable(
        "Chance that each national road is open at the end (no cell of it gang-held): share "
        "of replicates [90% interval]",
        ["scenario", *c.roads],
        [[s.label] + [_percent(by_key.get((f"road_open.{r}", s.label, "end"))) for r in c.roads]
         for s in c.scenarios]))
    return out


def _amounts(records) -> list[float]:
    """Every median and interval end, of levels and differences, in `records`."""
    return [r[k] for r in records if r is not None
            for k in ("median", "p05", "p95", "diff_median", "diff_p05", "diff_p95")
            if r[k] is not None]


def _interval_cell(record: dict | None, prefix: str, outcome: Outcome, signed: bool = False,
                   unit: Unit | None = None) -> str:
    if record is None or record[prefix + "median"] is None:
        return "-"
    return show_interval(Interval(record[prefix + "median"], record[prefix + "p05"],
                                  record[prefix + "p95"], record["replicates"]), outcome, signed,
                         unit)


def _percent(record: dict | None) -> str:
    if record is None or record["probability"] is None:
        return "-"
    return show_probability(Probability(record["probability"], record["probability_low"],
                                        record["probability_high"], record["replicates"]))


def precision_note(scenarios: list[ScenarioRuns]) -> str:
    """A warning when some scenario has too few replicates for the intervals shown, else ""."""
    few = [s.label for s in scenarios if stats.too_few(len(s.replicates))]
    if not few:
        return ""
    return (f"Fewer than {stats.MIN_REPLICATES} replicates ({', '.join(few)}): the ends of a 90% "
            "interval rest on the most extreme runs, so read it as their range, not as a "
            "precise spread.")


def header(c: Comparison) -> str:
    counts = ", ".join(f"{s.label} {len(s.replicates)}" for s in c.scenarios)
    note = precision_note(c.scenarios)
    return (f"Replicates: {counts}. Reference: {c.reference.label}; differences are paired by "
            f"replicate; chances with their 90% Wilson interval.\nCumulative outcomes count "
            f"from {c.origin}." + (f"\nParameters: {c.parameters}." if c.parameters else "")
            + (f"\n{note}" if note else ""))


def records_csv(rows: list[dict], fields: list[str] | None = None) -> str:
    """Records as CSV text, one row each, the columns `fields` (default: the first row's keys):
    every analysis's CSV file."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=fields or list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_text(c: Comparison) -> str:
    """The comparison's records as CSV, one row per scenario, outcome and date."""
    return records_csv(c.records)


def write_csv(c: Comparison, path: str | Path) -> None:
    Path(path).write_text(csv_text(c), newline="")
