"""What the app shows of a job's runs: medians and 90% intervals over replicates, paired differences
to the reference, per-department and per-road tables, the maps' monthly frames, and the comparison
tables and HTML report of `haiti-sim compare`.

The outcomes, their labels, units and formatting are `sim.analysis.compare`'s (`COMPARED`, `fmt`),
and the
comparison tables, CSV and report are made by `sim.analysis.compare` and `sim.analysis.report`
themselves, so the
app and the command line never disagree. `comparison` is an adapter: `sim.analysis.compare` reads
results
directories, so the job's runs are written to a temporary one first (requested of sim/: a
`compare` entry point taking in-memory runs would remove the round trip).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import numpy as np

from sim.analysis import compare, report
from sim.analysis.compare import COMPARED, INTERVAL, Outcome, ScenarioRuns, fmt
from sim.model import geography
from ui.runner import Job, RunResult, snapshot_dates

# Lower is better for these outcomes; for troops and money, "better" is a matter of view.
LOWER_IS_BETTER = {"capital_gang_share", "national_gang_share", "displaced", "killed",
                   "kidnappings", "gang_controlled_population", "roads_cut"}
WEEK = 7


def runs_of(job: Job, label: str, name: str | None = None) -> ScenarioRuns | None:
    """The finished replicates of `label` as `sim.analysis.compare` holds them, with every metric
    (None if
    none yet)."""
    done = sorted(job.done(label).items())
    if not done:
        return None
    s = job.scenarios[label]
    return compare.scenario_runs(
        label, name or s.name, "haiti-sim app", s.branch, len(done), _as_runs(done),
        keep=done[0][1].metrics)


def _as_runs(done: list[tuple[int, RunResult]]):
    """The app's results as `compare.scenario_runs` takes them."""
    for i, run in done:
        dates = np.datetime64(run.start, "D") + np.arange(len(run.values))
        yield i, run.seed, dates, dict(zip(run.metrics, run.values.T, strict=True)), (
            run.held()[-1])


def interval(values: np.ndarray) -> tuple[float, float, float] | None:
    """`compare.interval` (median, 5th and 95th percentiles), or None if no value is finite."""
    level = compare.interval(values)
    return None if level[0] is None else level


@dataclass
class Headline:
    label: str
    value: str
    delta: str | None
    help: str
    lower_is_better: bool


def headline(cur: ScenarioRuns, ref: ScenarioRuns | None, origin: dt.date) -> list[Headline]:
    """Each key outcome at the end (flows summed from `origin`), and its paired difference to the
    reference on the same date."""
    out = []
    end = cur.end
    for o in COMPARED:
        values = cur.outcome(o, origin)[:, cur.day(end)]
        level = interval(values)
        since = f" since {origin}" if o.flow else f" on {end}"
        text = "-" if level is None else fmt(level[0], o.unit)
        help_ = (f"Median over {len(values)} replicates{since}; 90% interval "
                 f"{fmt(level[1], o.unit)} to {fmt(level[2], o.unit)}." if level else "")
        delta = None
        if ref is not None and ref is not cur and ref.day(end) is not None:
            mine, theirs = np.intersect1d(cur.replicates, ref.replicates, return_indices=True)[1:]
            if len(mine):
                diff = (cur.outcome(o, origin)[mine, cur.day(end)]
                        - ref.outcome(o, origin)[theirs, ref.day(end)])
                d = interval(diff)
                if d is not None:
                    delta = fmt(d[0], o.unit, signed=True)
                    help_ += (f" Against {ref.name}: {delta}, 90% interval "
                              f"{fmt(d[1], o.unit, True)} to {fmt(d[2], o.unit, True)}, paired "
                              f"over {len(mine)} replicates (same seeds).")
        out.append(Headline(o.label, text, delta, help_, o.key in LOWER_IS_BETTER))
    return out


def metric_outcome(metric: str, flow: bool, unit: str, label: str) -> Outcome:
    return Outcome(metric, label, (metric,), unit, flow)


def band(runs: ScenarioRuns, outcome: Outcome, origin: dt.date, step: int = WEEK):
    """(dates, median, p05, p95) of an outcome over replicates, every `step` days and the last."""
    values = runs.outcome(outcome, origin)
    days = np.unique(np.r_[np.arange(0, values.shape[1], step), values.shape[1] - 1])
    return runs.dates[days], *_stats(values[:, days])


def _stats(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, 5th and 95th percentiles over replicates (rows), NaN where a value is missing
    (cumulative outcomes before their origin)."""
    out = np.full((3, v.shape[1]), np.nan)
    ok = np.isfinite(v).all(axis=0)
    if ok.any():
        out[0, ok] = np.median(v[:, ok], axis=0)
        out[1:, ok] = np.percentile(v[:, ok], INTERVAL, axis=0)
    return out[0], out[1], out[2]


def paired_band(cur: ScenarioRuns, ref: ScenarioRuns, outcome: Outcome, origin: dt.date,
                step: int = WEEK):
    """(dates, median, p05, p95) of the paired difference to the reference, on common dates."""
    mine, theirs = np.intersect1d(cur.replicates, ref.replicates, return_indices=True)[1:]
    first = max(cur.dates[0], ref.dates[0])
    last = min(cur.dates[-1], ref.dates[-1])
    if not len(mine) or last < first:
        return None
    dates = first + np.unique(np.r_[np.arange(0, int((last - first).astype(int)) + 1, step),
                                    int((last - first).astype(int))])
    a = cur.outcome(outcome, origin)[mine][:, (dates - cur.dates[0]).astype(int)]
    b = ref.outcome(outcome, origin)[theirs][:, (dates - ref.dates[0]).astype(int)]
    return dates, *_stats(a - b)


def _at(runs: ScenarioRuns, metric: str, date: dt.date) -> np.ndarray:
    day = runs.day(date)
    return runs.metrics[metric][:, day] if day is not None else np.array([])


def _fmt_interval(values: np.ndarray, unit: str) -> str:
    level = interval(values)
    if level is None:
        return "-"
    return f"{fmt(level[0], unit)} [{fmt(level[1], unit)}, {fmt(level[2], unit)}]"


def department_rows(cur: ScenarioRuns, ref: ScenarioRuns | None, origin: dt.date) -> list[dict]:
    """Share of each department's residents under gang control: at the origin, at the end, and
    against the reference (paired), median [90% interval]."""
    geo = geography.load()
    rows = []
    for k, dept in enumerate(geo.department_name):
        metric = f"gang_population_share.{dept}"
        row = {"department": str(dept),
               "population": f"{geo.population[geo.department == k].sum():,.0f}",
               f"at {origin}": _fmt_interval(_at(cur, metric, origin), "share"),
               f"at {cur.end}": _fmt_interval(_at(cur, metric, cur.end), "share")}
        if ref is not None and ref is not cur:
            mine, theirs = np.intersect1d(cur.replicates, ref.replicates, return_indices=True)[1:]
            row[f"{ref.label} at {cur.end}"] = _fmt_interval(_at(ref, metric, cur.end), "share")
            if ref.day(cur.end) is not None and len(mine):
                diff = _at(cur, metric, cur.end)[mine] - _at(ref, metric, cur.end)[theirs]
                d = interval(diff)
                row["difference"] = (f"{fmt(d[0], 'share', True)} [{fmt(d[1], 'share', True)}, "
                                     f"{fmt(d[2], 'share', True)}]")
        rows.append(row)
    return rows


def road_rows(cur: ScenarioRuns, ref: ScenarioRuns | None) -> list[dict]:
    """Per national road: the chance it is open at the end (no cell gang-held) and the share of
    its cells gang-held, median over replicates."""
    rows = []
    for road in geography.ROAD_NAMES:
        row = {"road": road,
               "open at the end": f"{np.mean(cur.metrics[f'road_cut.{road}'][:, -1] == 0):.0%}",
               "gang-held share of its cells": _fmt_interval(
                   cur.metrics[f"road_gang_share.{road}"][:, -1], "share")}
        if ref is not None and ref is not cur:
            day = ref.day(cur.end)
            if day is not None:
                row[f"open at the end: {ref.name}"] = (
                    f"{np.mean(ref.metrics[f'road_cut.{road}'][:, day] == 0):.0%}")
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------ maps
@dataclass
class MapFrames:
    """Monthly control maps over replicates: communes by the median share of residents under
    gang control, cells by the share of replicates in which a gang holds them."""

    dates: list[dt.date]
    commune_share: np.ndarray  # frames x communes
    cell_share: np.ndarray  # frames x cells
    replicates: int


def map_frames(job: Job, label: str) -> MapFrames | None:
    runs = job.replicates(label)
    if not runs:
        return None
    commune = np.median(np.stack([r.commune_share for r in runs]), axis=0)
    cells = np.mean(np.stack([r.held() for r in runs]), axis=0)
    return MapFrames(snapshot_dates(job.scenarios[label]), commune, cells, len(runs))


# ------------------------------------------------------------------------------ files
def series_csv(job: Job, labels: dict[str, str]) -> bytes:
    """Every finished run's daily outcomes: one row per scenario, replicate and day, one column
    per metric (stocks at the end of the day, flows over the day, as `sim.model.outcomes`
    records)."""
    out = io.StringIO()
    writer = None
    for label, name in labels.items():
        for i, run in sorted(job.done(label).items()):
            if writer is None:
                writer = csv.writer(out)
                writer.writerow(["scenario", "replicate", "seed", "date", *run.metrics])
            dates = np.datetime64(run.start, "D") + np.arange(len(run.values))
            for date, row in zip(dates.astype(str), run.values, strict=True):
                writer.writerow([name, i, run.seed, date, *(f"{v:.6g}" for v in row)])
    return out.getvalue().encode()


def comparison(job: Job, labels: dict[str, str], reference: str | None = None,
               dates: list[dt.date] | None = None) -> compare.Comparison:
    """`haiti-sim compare` of the job's finished runs (`labels`: job label -> file-safe name)."""
    scenarios = []
    for label, name in labels.items():
        done = sorted(job.done(label).items())
        s = job.scenarios[label]
        scenarios.append(compare.scenario_runs(name, s.name, "haiti-sim app", s.branch,
                                               len(done), _as_runs(done)))
    return compare.compare_runs(scenarios, labels.get(reference) if reference else None, dates)


def comparison_csv(c: compare.Comparison) -> bytes:
    return compare.csv_text(c).encode()


def report_html(c: compare.Comparison) -> bytes:
    return report.render(c).encode()

