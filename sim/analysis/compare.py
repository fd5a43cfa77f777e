"""The key outcomes of runs and how scenarios compare on them across replicates.

Outcomes are declared once (`Outcome`) and serve the per-year summary of `haiti-sim run` and the
comparison of `haiti-sim compare`. A comparison reads results directories run by run (keeping only
the metrics it needs), then gives for every scenario and outcome, at chosen dates and at the end:
the median and 90% interval over replicates; the difference to a reference scenario paired by
replicate (replicate i of every scenario of a batch shares its random numbers, so the paired
difference isolates the policy's effect and its interval is far narrower than the gap between two
unpaired intervals); and probabilities of events. Cumulative outcomes (killed, money spent) count
from the comparison's origin: the earliest branch date among the scenarios.

Results are returned as plain records (for the CSV) and as `TextTable`s that the command line
prints and `sim.analysis.report` renders as HTML, so both show the same numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.running.results import ResultsDir, RunOutput

INTERVAL = (5.0, 95.0)  # percentiles of the 90% interval


@dataclass(frozen=True)
class Outcome:
    """A key outcome: the sum of one or more recorded metrics. A flow (daily amounts) is reported
    as a sum over a period; a stock (end-of-day state) as its value on a date."""

    key: str
    label: str
    metrics: tuple[str, ...]
    unit: str  # share, people, troops, usd, roads
    flow: bool = False


CAPITAL_AREA = Outcome("capital_gang_share", "Gang-held share of Port-au-Prince (area)",
                       ("capital_gang_share_area",), "share")
CAPITAL_POPULATION = Outcome("capital_gang_share_population",
                             "Gang-held share of Port-au-Prince (residents)",
                             ("capital_gang_share_population",), "share")
NATIONAL = Outcome("national_gang_share", "Share of Haitians living under gang control",
                   ("gang_controlled_share_national",), "share")
PEOPLE_UNDER_GANGS = Outcome("gang_controlled_population", "People living under gang control",
                             ("gang_controlled_population",), "people")
DISPLACED = Outcome("displaced", "Displaced people", ("displaced",), "people")
KILLED = Outcome("killed", "People killed", ("killed",), "people", flow=True)
KIDNAPPINGS = Outcome("kidnappings", "Kidnappings", ("kidnappings",), "people", flow=True)
TROOPS = Outcome("troops", "Troops of the international mission", ("troops",), "troops")
SPENT = Outcome("spent_usd", "Money spent on the mission and police pay",
                ("spent_mission_usd", "spent_police_usd"), "usd", flow=True)
ROADS_CUT = Outcome("roads_cut", "National roads cut by gangs", ("roads_cut",), "roads")

COMPARED = (CAPITAL_AREA, NATIONAL, DISPLACED, KILLED, TROOPS, SPENT)
YEARLY = (CAPITAL_AREA, CAPITAL_POPULATION, PEOPLE_UNDER_GANGS, DISPLACED, KILLED, KIDNAPPINGS,
          TROOPS, SPENT, ROADS_CUT)
ROAD_PREFIX = "road_cut."


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


def _human(value: float) -> str:
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.2f} bn"
    if size >= 1e6:
        return f"{value / 1e6:.2f} M"
    return f"{value:,.0f}"


def fmt(value: float | None, unit: str, signed: bool = False) -> str:
    """A value in its unit for people to read; a difference (`signed`) of shares is in points."""
    if value is None or not np.isfinite(value):
        return "-"
    if unit == "share":
        return f"{value * 100:+.1f} pp" if signed else f"{value * 100:.1f}%"
    sign = "-" if value < 0 else ("+" if signed else "")
    return f"{sign}{'$' if unit == 'usd' else ''}{_human(abs(value))}"


def _sum_metrics(metrics: dict[str, np.ndarray], outcome: Outcome) -> np.ndarray:
    return sum(metrics[m] for m in outcome.metrics)


# ---------------------------------------------------------------------------- one run
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
        rows.append([outcome.label + (" (in the year)" if outcome.flow else "")]
                    + [fmt(v, outcome.unit) for v in cells])
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


def _wanted(names: list[str]) -> set[str]:
    return {m for o in COMPARED for m in o.metrics} | {n for n in names
                                                       if n.startswith(ROAD_PREFIX)}


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
                   label: str) -> ScenarioRuns:
    branch = described["branch"]
    return scenario_runs(
        label, described["name"], str(results.path),
        dt.date.fromisoformat(branch) if branch else None, len(runs),
        ((r["replicate"], r["seed"], *results.read_run(r["scenario"], r["replicate"]),
          results.read_map(r["scenario"], r["replicate"])) for r in runs))


def load(directories: list[str | Path]) -> tuple[list[ScenarioRuns], list[str]]:
    """The finished runs of every scenario in the results directories, and notes for the user
    (scenarios with no finished run). A label found in two directories is qualified with the
    directory's name, so the same scenario from two batches can be compared."""
    found: list[tuple[ResultsDir, dict, list[dict]]] = []
    for directory in directories:
        results = ResultsDir(directory)
        try:
            manifest = results.read_manifest()
        except FileNotFoundError:
            raise CompareError(f"{directory} holds no results (no manifest.json); give "
                               "directories written by 'haiti-sim run' or 'haiti-sim batch'"
                               ) from None
        done = [r for r in manifest["runs"] if r["status"] == "done"]
        for described in manifest["plan"]["scenarios"]:
            found.append((results, described, [r for r in done
                                               if r["scenario"] == described["label"]]))
    labels = [d["label"] for _, d, _ in found]
    scenarios, notes = [], []
    for results, described, runs in found:
        label = described["label"]
        if labels.count(label) > 1:
            label = f"{results.path.name}/{label}"
        if not runs:
            notes.append(f"{label}: no finished run in {results.path}; left out")
            continue
        scenarios.append(_load_scenario(results, described, runs, label))
    if not scenarios:
        raise CompareError("no finished run to compare in " + ", ".join(map(str, directories)))
    return scenarios, notes


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

    @property
    def roads(self) -> list[str]:
        return sorted(m.removeprefix(ROAD_PREFIX) for m in self.reference.metrics
                      if m.startswith(ROAD_PREFIX))

    def at(self, s: ScenarioRuns) -> list[tuple[str, dt.date]]:
        """The (column label, date) pairs reported for scenario `s`: chosen dates, then its end."""
        return [(d.isoformat(), d) for d in self.dates] + [("end", s.end)]

    def paired(self, s: ScenarioRuns) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the replicates that `s` and the reference both have, in each."""
        _, mine, theirs = np.intersect1d(s.replicates, self.reference.replicates,
                                         return_indices=True)
        return mine, theirs


def interval(values: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Median, 5th and 95th percentiles over replicates; None where undefined."""
    values = values[np.isfinite(values)]
    if not len(values):
        return None, None, None
    low, high = np.percentile(values, INTERVAL)
    return float(np.median(values)), float(low), float(high)


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
    scenarios, notes = load(directories)
    return compare_runs(scenarios, reference, dates, threshold, notes)


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
        mine, theirs = comparison.paired(s)
        if s is not ref and not np.array_equal(s.seeds[mine], ref.seeds[theirs]):
            notes.append(f"{s.label}: its replicates ran with other seeds than {ref.label}'s, "
                         "so differences are not paired by common random numbers")
    comparison.records = _distribution_records(comparison) + _probability_records(comparison)
    return comparison


def _distribution_records(c: Comparison) -> list[dict]:
    records = []
    for outcome in COMPARED:
        ref_values = c.reference.outcome(outcome, c.origin)
        for s in c.scenarios:
            values = s.outcome(outcome, c.origin)
            mine, theirs = c.paired(s)
            for at, date in c.at(s):
                day = s.day(date)
                ref_day = c.reference.day(date)  # paired on the same day, even at "end"
                level = values[:, day] if day is not None else np.array([])
                median, low, high = interval(level)
                diff = (None, None, None)
                if s is not c.reference and day is not None and ref_day is not None:
                    diff = interval(values[mine, day] - ref_values[theirs, ref_day])
                records.append({
                    "kind": "distribution", "outcome": outcome.key, "scenario": s.label,
                    "at": at, "date": date.isoformat(), "replicates": len(level),
                    "median": median, "p05": low, "p95": high, "diff_median": diff[0],
                    "diff_p05": diff[1], "diff_p95": diff[2], "probability": None,
                })
    return records


def _probability_records(c: Comparison) -> list[dict]:
    records = []
    for s in c.scenarios:
        capital = s.outcome(CAPITAL_AREA, c.origin)
        first = s.day(c.origin) if s.day(c.origin) is not None else 0
        for at, date in c.at(s):
            day = s.day(date)
            p = None
            if day is not None and day >= first and c.origin <= date:
                p = float(np.mean(capital[:, first:day + 1].min(axis=1) < c.threshold))
            records.append(_probability(f"capital_below_{c.threshold:g}", s, at, date, p))
        for road in c.roads:
            cut = s.metrics.get(ROAD_PREFIX + road)
            p = None if cut is None else float(np.mean(cut[:, -1] == 0))
            records.append(_probability(f"road_open.{road}", s, "end", s.end, p))
    return records


def _probability(key: str, s: ScenarioRuns, at: str, date: dt.date, p: float | None) -> dict:
    return {"kind": "probability", "outcome": key, "scenario": s.label, "at": at,
            "date": date.isoformat(), "replicates": len(s.replicates), "median": None,
            "p05": None, "p95": None, "diff_median": None, "diff_p05": None, "diff_p95": None,
            "probability": p}


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
        rows = []
        for s in c.scenarios:
            cells = [by_key.get((outcome.key, s.label, at)) for at in columns]
            rows.append([s.label] + [
                "-" if r is None or r["median"] is None else
                f"{fmt(r['median'], outcome.unit)} [{fmt(r['p05'], outcome.unit)}, "
                f"{fmt(r['p95'], outcome.unit)}]" for r in cells])
            if s is not c.reference:
                rows.append([f"  vs {c.reference.label}"] + [
                    "-" if r is None or r["diff_median"] is None else
                    f"{fmt(r['diff_median'], outcome.unit, True)} "
                    f"[{fmt(r['diff_p05'], outcome.unit, True)}, "
                    f"{fmt(r['diff_p95'], outcome.unit, True)}]" for r in cells])
        since = f" since {c.origin}" if outcome.flow else ""
        out.append(TextTable(f"{outcome.label}{since}: median [90% interval]", headers, rows))
    below = f"capital_below_{c.threshold:g}"
    out.append(TextTable(
        f"Chance that gangs hold less than {c.threshold:.0%} of Port-au-Prince on some day "
        f"between {c.origin} and the date", headers,
        [[s.label] + [_percent(by_key.get((below, s.label, at))) for at in columns]
         for s in c.scenarios]))
    out.append(TextTable(
        "Chance that each national road is open at the end (no cell of it gang-held)",
        ["scenario", *c.roads],
        [[s.label] + [_percent(by_key.get((f"road_open.{r}", s.label, "end"))) for r in c.roads]
         for s in c.scenarios]))
    return out


def _percent(record: dict | None) -> str:
    return "-" if record is None or record["probability"] is None else (
        f"{record['probability']:.0%}")


def header(c: Comparison) -> str:
    counts = ", ".join(f"{s.label} {len(s.replicates)}" for s in c.scenarios)
    return (f"Replicates: {counts}. Reference: {c.reference.label}; differences are paired by "
            f"replicate.\nCumulative outcomes count from {c.origin}.")


def csv_text(c: Comparison) -> str:
    """The comparison's records as CSV, one row per scenario, outcome and date."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(c.records[0]))
    writer.writeheader()
    writer.writerows(c.records)
    return out.getvalue()


def write_csv(c: Comparison, path: str | Path) -> None:
    Path(path).write_text(csv_text(c), newline="")
