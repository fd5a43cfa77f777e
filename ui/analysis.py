"""What the app shows of a job's runs: the headline numbers with their paired differences, the
per-department and per-road tables, the maps' monthly frames, and the comparison tables, CSV and
HTML report of `haiti-sim compare`.

Nothing is computed here that the command line computes: labels, units, directions and formats
are the outcome catalogue's (`sim.model.outcomes`), every median, interval, paired difference and
probability is `sim.analysis.stats`' (through `sim.analysis.compare` where a scenario's runs are
involved), and the comparison tables, CSV and report are made by `sim.analysis.compare` and
`sim.analysis.report` themselves, so the app and the command line never disagree. This module
only turns the runner's results into `compare.ScenarioRuns` and lays the numbers out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import numpy as np

from sim.analysis import compare, report, stats
from sim.analysis.compare import COMPARED, ScenarioRuns, show_interval, show_probability
from sim.analysis.goals import Goal
from sim.model import geography, outcomes
from sim.running.results import RunOutput
from ui.runner import Job, snapshot_dates


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


def _as_runs(done: list[tuple[int, RunOutput]]):
    """The app's results as `compare.scenario_runs` takes them."""
    for i, run in done:
        dates = np.datetime64(run.start, "D") + np.arange(len(run.values))
        yield i, run.seed, dates, dict(zip(run.metrics, run.values.T, strict=True)), (
            run.owner_is_gang)


# Outcomes whose level the model misses in the record it was fitted to (docs/VALIDATION.md): their
# boxes say so, so a reader compares them between scenarios instead of reading them as forecasts.
INDICATIVE = {
    "displaced": "The model misses the surge of 2024 in the record it was fitted to (IOM's "
                 "1,041,000 displaced at its end lies above the band; docs/VALIDATION.md): read "
                 "the level as indicative and compare it between scenarios.",
}


@dataclass
class Headline:
    label: str
    value: str
    delta: str | None
    help: str
    better: str  # the outcome's good direction: outcomes.LOWER, HIGHER or NEUTRAL
    clear: bool = False  # the difference's 90% interval excludes zero: only then coloured
    interval: str = ""  # the value's 90% interval, shown under it


def headline(cur: ScenarioRuns, ref: ScenarioRuns | None, origin: dt.date) -> list[Headline]:
    """Each key outcome at the end (flows summed from `origin`), and its paired difference to the
    reference on the same date. Money and counts are in one unit in a box, its value, interval
    and difference side by side: money in millions, as the charts' axes ("$2,500 M" beside
    "-$0.53 M"), a count in the unit its largest amount there reaches ("1.61 M" beside
    "+0.012 M")."""
    out = []
    for o in COMPARED:
        level, diff = compare.at_date(cur, ref, o, origin, cur.end)
        unit = compare.MILLIONS if o.display == outcomes.USD else compare.money_unit(
            [v for x in (level, diff) if x is not None for v in (x.median, x.low, x.high)])

        def show(value, signed=False, o=o, unit=unit):
            return compare.show_value(value, o, signed, unit)
        since = f" since {origin}" if o.flow else f" on {cur.end}"
        help_ = "" if level is None else (
            f"Median over {level.n} replicates{since}; 90% interval {show(level.low)} to "
            f"{show(level.high)}.")
        delta = None if diff is None else (
            f"{show(diff.median, True)} [{show(diff.low, True)} to {show(diff.high, True)}]")
        if diff is not None:
            help_ += (f" Against {ref.name}: median {show(diff.median, True)}, 90% interval "
                      f"{show(diff.low, True)} to {show(diff.high, True)} (in brackets), "
                      f"paired over {diff.n} replicates (same seeds and draws); coloured only "
                      "when the interval excludes zero.")
        clear = diff is not None and (diff.low > 0 or diff.high < 0)
        interval = "" if level is None else (
            f"90% interval {show(level.low)} to {show(level.high)}")
        if o.name in INDICATIVE:
            help_ += " " + INDICATIVE[o.name]
            interval += " (level indicative: see ?)" if interval else ""
        out.append(Headline(o.label, "-" if level is None else show(level.median), delta,
                            help_, o.better, clear, interval))
    return out


def department_rows(cur: ScenarioRuns, ref: ScenarioRuns | None, origin: dt.date) -> list[dict]:
    """Share of each department's residents under gang control: at the origin, at the end, and
    against the reference (paired), median [90% interval]."""
    geo = geography.load()
    rows = []
    for k, dept in enumerate(geo.department_name):
        o = outcomes.DEPARTMENT_SHARE.member(dept)
        level, diff = compare.at_date(cur, ref, o, origin, cur.end)
        row = {"department": str(dept),
               "population": f"{geo.population[geo.department == k].sum():,.0f}",
               f"at {origin}": show_interval(compare.at_date(cur, None, o, origin, origin)[0], o),
               f"at {cur.end}": show_interval(level, o)}
        if ref is not None and ref is not cur:
            row[f"{ref.label} at {cur.end}"] = show_interval(
                compare.at_date(ref, None, o, origin, cur.end)[0], o)
            if diff is not None:
                row["difference"] = show_interval(diff, o, signed=True)
        rows.append(row)
    return rows


def road_rows(cur: ScenarioRuns, ref: ScenarioRuns | None) -> list[dict]:
    """Per national road: the chance it is open at the end (no cell gang-held), with its 90%
    interval, and the share of its cells gang-held, median [90% interval] over replicates."""
    rows = []
    for road in geography.ROAD_NAMES:
        cut = outcomes.ROAD_CUT.member(road).name
        share = outcomes.ROAD_GANG_SHARE.member(road)
        row = {"road": road,
               "open at the end": show_probability(stats.probability(cur.metrics[cut][:, -1] == 0)),
               "gang-held share of its cells": show_interval(
                   stats.interval(cur.metrics[share.name][:, -1]), share)}
        if ref is not None and ref is not cur:
            day = ref.day(cur.end)
            if day is not None:
                row[f"open at the end: {ref.name}"] = show_probability(
                    stats.probability(ref.metrics[cut][:, day] == 0))
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------ chances
def threshold_unit(o: outcomes.Outcome) -> tuple[float, str]:
    """How a goal's threshold is typed for outcome `o`: (model units per unit typed, the unit's
    name): shares in percent, money in millions."""
    if o.display == outcomes.PERCENT:
        return 0.01, "%"
    if o.display == outcomes.USD:
        return 1e6, "million USD"
    return 1.0, o.unit


WANTED_HALF_WIDTH = 0.05  # a chance is "known" to +-5 points; wider intervals are flagged


def chance_rows(runs: list[ScenarioRuns], goal: Goal, origin: dt.date) -> list[dict]:
    """The chance that each scenario's runs meet `goal` (`sim.analysis.goals`: at the date,
    sustained over a window or ever since `origin`), with its 90% Wilson interval, and how many
    replicates would know it to +-5 points where these are too few."""
    rows = []
    for r in runs:
        met = goal.met(r.outcome(goal.outcome, origin), r.dates, origin)
        chance = stats.probability(met)
        half = (chance.high - chance.low) / 2
        rows.append({"scenario": r.name, "chance [90% interval]": show_probability(chance),
                     "replicates": chance.n,
                     "precision": f"±{half * 100:.0f} points" + (
                         f" (±5 needs about {stats.replicates_for(chance.p, 0.05):,})"
                         if half > WANTED_HALF_WIDTH else "")})
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
    commune = stats.median(np.stack([r.commune_share for r in runs]))
    held = [r.held_maps() for r in runs]
    cells = stats.share_of_replicates(np.stack(held))
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

