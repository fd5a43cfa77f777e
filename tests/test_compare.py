"""Comparing scenarios: the statistics against numpy on the stored runs, the pairing, the
probabilities, and the self-contained HTML report and CSV."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from sim.analysis import compare, report, sensitivity, stats
from sim.model import geography, outcomes
from sim.running import batch, engine
from sim.running.results import ResultsDir, RunOutput

HISTORY = Path(__file__).resolve().parents[1] / "scenarios" / "history.yaml"
BRANCH, END = dt.date(2023, 3, 1), dt.date(2023, 5, 31)
DATE = dt.date(2023, 4, 30)
LIMITS = [f"troops_limited_by.{c}" for c in outcomes.TROOP_LIMITS]


def write_policy(directory: Path, label: str, **parameters) -> str:
    path = directory / f"{label}.yaml"
    path.write_text("\n".join([f"name: Test policy {label}", f"base: {HISTORY}",
                               f"branch: {BRANCH}", f"end: {END}", "parameters:"]
                              + [f"  {k}: {v}" for k, v in parameters.items()]) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("compare")
    files = [write_policy(tmp, "base", arms_interdiction=0.1),
             write_policy(tmp, "police", police_intake_per_year=8000, police_firepower=3)]
    batch.run_batch(batch.Plan.from_files(files, 4), tmp / "out", workers=1)
    return tmp / "out"


@pytest.fixture(scope="module")
def comparison(results) -> compare.Comparison:
    return compare.compare([results], reference="base", dates=[DATE], threshold=0.7)


def stored(results: Path, label: str, metric: str) -> np.ndarray:
    """Replicates x days of one metric, read straight from the run files."""
    r = ResultsDir(results)
    return np.array([r.read_run(label, i)[1][metric] for i in range(4)])


def record(c: compare.Comparison, outcome: str, scenario: str, at: str) -> dict:
    [found] = [r for r in c.records
               if (r["outcome"], r["scenario"], r["at"]) == (outcome, scenario, at)]
    return found


def test_levels_and_paired_differences_match_numpy(results, comparison):
    day = (DATE - dt.date(2023, 1, 1)).days
    base = stored(results, "base", "capital_gang_share_area")
    police = stored(results, "police", "capital_gang_share_area")
    r = record(comparison, "capital_gang_share_area", "police", DATE.isoformat())
    assert r["replicates"] == 4
    assert r["median"] == pytest.approx(np.median(police[:, day]))
    assert (r["p05"], r["p95"]) == pytest.approx(tuple(np.percentile(police[:, day], [5, 95])))
    diff = police[:, day] - base[:, day]
    assert r["diff_median"] == pytest.approx(np.median(diff))
    assert (r["diff_p05"], r["diff_p95"]) == pytest.approx(tuple(np.percentile(diff, [5, 95])))
    assert record(comparison, "capital_gang_share_area", "base", "end")["diff_median"] is None


def test_flows_accumulate_from_the_branch(results, comparison):
    killed = stored(results, "police", "killed")
    since = (BRANCH - dt.date(2023, 1, 1)).days
    r = record(comparison, "killed", "police", "end")
    assert comparison.origin == BRANCH
    assert r["median"] == pytest.approx(np.median(killed[:, since:].sum(axis=1)))
    spent = stored(results, "base", "spent_mission_usd") + stored(results, "base",
                                                                  "spent_police_usd")
    r = record(comparison, "spent_usd", "base", "end")
    assert r["median"] == pytest.approx(np.median(spent[:, since:].sum(axis=1)))


def test_probabilities(results, comparison):
    capital = stored(results, "police", "capital_gang_share_area")
    since, day = (BRANCH - dt.date(2023, 1, 1)).days, (DATE - dt.date(2023, 1, 1)).days
    expected = np.mean(capital[:, since:day + 1].min(axis=1) < 0.7)
    r = record(comparison, "capital_below_0.7", "police", DATE.isoformat())
    assert r["probability"] == pytest.approx(expected)
    low, high = stats.wilson(round(expected * 4), 4)
    assert (r["probability_low"], r["probability_high"]) == pytest.approx((low, high))
    assert r["probability_low"] <= r["probability"] <= r["probability_high"]
    rn1 = stored(results, "base", "road_cut.RN1")
    assert record(comparison, "road_open.RN1", "base", "end")["probability"] == pytest.approx(
        np.mean(rn1[:, -1] == 0))


def test_tables_show_every_scenario_outcome_and_date(comparison):
    tables = compare.tables(comparison)
    text = "\n".join(t.render() for t in tables)
    for outcome in compare.COMPARED:
        assert outcome.label in text
    assert DATE.isoformat() in text and "vs base" in text and "RN1" in text
    assert "less than 70%" in text
    # every chance is shown with its interval, as "34% [22-48%]"
    for row in tables[-1].rows + tables[-2].rows:
        assert all(re.fullmatch(r"\d+% \[\d+-\d+%\]|-", cell) for cell in row[1:]), row
    assert "Fewer than 20 replicates" in compare.header(comparison)  # 4 replicates each


def test_html_report_is_self_contained(tmp_path, comparison):
    path = tmp_path / "report.html"
    report.write_html(comparison, path)
    page = path.read_text()
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|<script|<link|<img|src=|@import",
                         page)
    assert page.count("<svg") >= 2 * len(compare.COMPARED) + 2 * len(comparison.scenarios)
    for s in comparison.scenarios:
        assert s.label in page
    assert "Gang-held share of Port-au-Prince (area)" in page


def test_report_maps_carry_boundaries_place_names_and_the_attribution(comparison):
    page = report.render(comparison)
    credit = report.boundary_attribution()
    assert "OCHA / CNIGS" in credit
    assert page.count(f"<figcaption class=note>{credit}</figcaption>") == 2 * len(
        comparison.scenarios)  # under each map
    # the boundaries are drawn once per frame and reused by every scenario's map
    country = re.search(r'<g id="map-country"><path d="([^"]+)"[^>]*/><path d="([^"]+)"', page)
    communes, departments = (d.count("M") for d in country.groups())
    assert communes >= len(report.boundaries("communes")) and departments >= 10
    assert page.count('<use href="#map-country"/>') == len(comparison.scenarios)
    for town in ("Port-au-Prince", "Cap-Haïtien", "Gonaïves", "Saint-Marc", "Les Cayes",
                 "Jacmel", "Jérémie"):
        assert f">{town}</text>" in page
    # the time series span the page's width
    assert "svg.chart{width:100%" in page and page.count("<svg class=chart") >= len(
        compare.COMPARED)


def test_place_names_are_the_most_populous_that_do_not_overlap():
    geo = geography.load()
    extent = (-74.5, -71.6, 18.0, 20.1)
    font = 10
    labels = report.place_labels(geo, extent, 170, font)  # the report's whole-country scale
    names = [n for n, _, _ in labels]
    assert names[0] == "Port-au-Prince"  # the most populous commune
    assert "Pétion-Ville" not in names and "Carrefour" not in names  # under its name here
    assert "Saint-Marc" in names and "Pont-Sondé" not in names  # one commune, the larger town
    aspect = np.cos(np.radians(19.05))
    for (a, xa, ya), (b, xb, yb) in itertools.combinations(labels, 2):
        apart_px = abs(xa - xb) * aspect * 170
        assert apart_px >= 0.3 * font * (len(a) + len(b)) or abs(ya - yb) * 170 >= font, (a, b)
    # closer in, the suburbs have room for their names
    metro = report.place_labels(geo, (-72.45, -72.2, 18.45, 18.62), 1000, font)
    assert {"Port-au-Prince", "Pétion-Ville", "Cité Soleil"} <= {n for n, _, _ in metro}


def test_csv_holds_every_record(tmp_path, comparison):
    path = tmp_path / "summary.csv"
    compare.write_csv(comparison, path)
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(comparison.records)
    assert {"scenario", "outcome", "date", "median", "p05", "p95", "diff_median",
            "probability", "probability_low", "probability_high"} <= set(rows[0])


def test_default_dates_and_user_errors(results):
    c = compare.compare([results])
    assert c.reference.label == "base" and c.dates == []  # the runs end before any 31 Dec
    with pytest.raises(compare.CompareError, match="must name one scenario of: base, police"):
        compare.compare([results], reference="nope")
    with pytest.raises(compare.CompareError, match="between 0 and 1"):
        compare.compare([results], threshold=50)


def test_same_label_in_two_directories_is_qualified(tmp_path, results):
    import shutil

    shutil.copytree(results, tmp_path / "again")
    c = compare.compare([results, tmp_path / "again"], reference="out/base")
    assert [s.label for s in c.scenarios] == ["out/base", "out/police", "again/base",
                                              "again/police"]
    r = record(c, "displaced", "again/base", "end")
    assert r["diff_median"] == r["diff_p05"] == r["diff_p95"] == 0


def test_runs_held_in_memory_compare_exactly_as_stored_ones(results, comparison):
    """The app compares runs it holds in memory; it must agree with `haiti-sim compare`."""
    plan = batch.Plan.from_files([str(Path(results).parent / f"{label}.yaml")
                                  for label in ("base", "police")], 4)
    scenarios = []
    for label, sc in plan.scenarios:
        outputs = [o for i in range(4)
                   for o in engine.run(plan.scenarios, plan.seed(i), replicate=i,
                                       ensemble=plan.ensemble)
                   if o.scenario == label]
        scenarios.append(compare.scenario_runs(
            label, sc.name, "memory", sc.branch, len(outputs),
            ((o.replicate, o.seed, np.datetime64(o.start, "D") + np.arange(len(o.values)),
              dict(zip(o.metrics, o.values.T, strict=True)), o.owner_is_gang)
             for o in reversed(outputs))))  # in any order
    in_memory = compare.compare_runs(scenarios, "base", [DATE], 0.7)
    assert in_memory.records == comparison.records
    assert compare.csv_text(in_memory) == compare.csv_text(comparison)


def test_compare_refuses_a_damaged_file_by_name_without_reading_it(results, tmp_path,
                                                                   monkeypatch):
    import shutil

    rng = np.random.default_rng(9)
    for k, damage in enumerate(["flip", "truncate", "empty"]):
        copy = tmp_path / f"copy{k}"
        shutil.copytree(results, copy)
        path = sorted([*copy.glob("series/*/*.parquet"), *copy.glob("maps/*/*.parquet")])[
            int(rng.integers(16))]
        data = bytearray(path.read_bytes())
        if damage == "flip":
            data[int(rng.integers(len(data)))] ^= 0xFF
        path.write_bytes(bytes(data[:len(data) // 2] if damage == "truncate"
                               else b"" if damage == "empty" else data))
        with pytest.raises(compare.CompareError) as refused:
            compare.compare([copy], reference="base")
        message = str(refused.value)
        assert message.startswith(str(path)) and "\n" not in message and "--resume" in message
    # Arrays are sized from the manifest's start and end: a series whose dates lie outside
    # them (its checksum recorded, as if written so) is refused, never allocated to its span.
    import json

    from sim.running import results as results_module

    copy = tmp_path / "far"
    shutil.copytree(results, copy)
    r = ResultsDir(copy)
    dates, values = r.read_run("base", 0)
    assert dates[0] == np.datetime64("2023-01-01") and dates[-1] == np.datetime64(END)
    assert all(len(v) == len(dates) for v in values.values())
    table = results_module.SERIES_SCHEMA.empty_table().from_pylist([
        {"scenario": "base", "replicate": 0, "date": dt.date(9999, 12, 31),
         "metric": "killed", "value": 1.0}], schema=results_module.SERIES_SCHEMA)
    files = {"series": results_module.write_parquet(table, r.series_path("base", 0))}
    records = [json.loads(line) for line in r.journal_path.read_text().splitlines()]
    for rec in records:
        if (rec["scenario"], rec["replicate"]) == ("base", 0):
            rec["files"].update(files)
    r.write_journal(records)
    with pytest.raises(compare.CompareError, match="dates outside 2023-01-01 to 2023-05-31"):
        compare.compare([copy], reference="base")


def _steady(label: str, per_day: float, metric: str = "spent_mission_usd",
            start: str = "2026-01-01", days: int = 100) -> compare.ScenarioRuns:
    """Four replicates of a scenario whose `metric` is `per_day` (plus the replicate's number)
    every day and that records nothing else: tables of known amounts."""
    dates = np.datetime64(start, "D") + np.arange(days)
    quiet = {m: np.zeros(days) for o in compare.COMPARED for m in o.metrics}
    return compare.scenario_runs(label, label, "memory", None, 4, (
        (i, i, dates, {**quiet, metric: np.full(days, per_day + i)},
         np.zeros(3, bool)) for i in range(4)))


def test_money_in_a_column_of_a_table_is_in_one_unit():
    """$2.5 bn spent and a difference of -$529,679 to it: both in billions ("-$0.001 bn"),
    never "$2.50 bn" beside "-$529,679", which hides that the difference is tiny."""
    c = compare.compare_runs([_steady("big", 25e6), _steady("less", 25e6 - 5_296.79)])
    [money] = [t for t in compare.tables(c) if t.title.startswith("Money spent")]
    units = [{m or "$" for cell in column for m in re.findall(r"\$[\d,.]+(?: (bn|M))?", cell)}
             for column in list(zip(*money.rows, strict=True))[1:]]
    assert units == [{"bn"}]
    assert money.rows[2][0] == "  vs big" and money.rows[2][1].startswith("-$0.001 bn [")
    assert compare.show_money(529_679, compare.money_unit([529_679])) == "$529,679"
    assert compare.money_unit([None, np.nan, -3e6, 2e5]) == compare.MILLIONS


def test_a_count_and_its_interval_are_in_one_unit():
    """A count reads "1.62 M [0.84 M, 1.98 M]", never "1.62 M [835,549, 1.98 M]": a cell, a
    table's column (levels and differences) and an axis are in one unit, as money is."""
    displaced = outcomes.get("displaced")
    assert compare.show_interval(stats.Interval(1.62e6, 835_549, 1.98e6, 20), displaced) == (
        "1.62 M [0.84 M, 1.98 M]")
    assert compare.show_interval(stats.Interval(12_000, -3_500, 40_000, 20), displaced,
                                 signed=True) == "+12,000 [-3,500, +40,000]"
    c = compare.compare_runs([_steady("base", 1.6e6, "displaced"),
                              _steady("more", 1.612e6, "displaced")])
    [table] = [t for t in compare.tables(c) if t.title.startswith("Displaced")]
    assert [row[1] for row in table.rows] == [
        "1.60 M [1.60 M, 1.60 M]", "1.61 M [1.61 M, 1.61 M]", "+0.012 M [+0.012 M, +0.012 M]"]
    label = report._axis_labels([0, 5e5, 1e6, 1.5e6], outcomes.COUNT)
    assert [label(v) for v in (0, 5e5, 1.5e6)] == ["0 M", "0.50 M", "1.50 M"]
    bars = report.sensitivity_html(_morris(), "What matters", 2)  # mu* of 1.2 M and 0.4 M
    assert ">0.50 M</text>" in bars and ">1.50 M</text>" in bars and ">500,000<" not in bars


def _morris() -> sensitivity.Sensitivity:
    """Morris indices of the displaced for two parameters: mu* 1.2 M and 0.4 M (+- a quarter)."""
    ranked = [sensitivity.Index(name, "uncertainty", {"mu_star": mu, "mu_star_conf": mu / 4,
                                                      "sigma": mu / 2})
              for name, mu in (("gang_cash_reserve_months", 1.2e6), ("funding_mission_us", 4e5))]
    return sensitivity.Sensitivity(sensitivity.MORRIS, [outcomes.get("displaced")],
                                   [i.parameter for i in ranked], 6, 1, dt.date(2026, 1, 1),
                                   {"displaced": ranked})


def _run_of(days: int, troops: np.ndarray, held: dict[str, np.ndarray]) -> RunOutput:
    """One run from 2023-01-01 that records the yearly summary's metrics, all zero but the
    troops and which constraint holds them."""
    names = [m for o in compare.YEARLY for m in o.metrics] + list(LIMITS)
    values = np.zeros((days, len(names)))
    values[:, names.index("troops")] = troops
    for c, series in held.items():
        values[:, names.index(f"troops_limited_by.{c}")] = series
    return RunOutput("history", 0, 1, dt.date(2023, 1, 1), tuple(names), values)


def test_no_mission_is_not_a_target_holding_troops():
    """Before a mission arrives (the record's 2023 to mid-2024) there are no troops and a target
    of zero, which the model records as the target holding them: the summary says "no mission"
    there and shares the constraints out over the days with a mission, so the target is not
    read as holding a force back for 100% of a year without one."""
    days = 731  # 2023 and 2024
    day = np.arange(days)
    arrival = (dt.date(2024, 7, 1) - dt.date(2023, 1, 1)).days
    troops = np.where(day >= arrival, 100.0, 0.0)
    pace = ((day >= arrival) & (day < arrival + 31)).astype(float)  # arriving in July
    zero = np.zeros(days)
    run = _run_of(days, troops, {"target": 1.0 - pace, "ceiling": zero, "money": zero,
                                 "pace": pace})
    rows = [row for row in compare.yearly_table(run, "history").rows
            if row[0].startswith("Troops held by the")]
    held = {row[0].split()[4]: row[1:] for row in rows}  # 2023, 2024, the whole run
    assert held["target"] == ["no mission", "83%", "83%"]
    assert held["pace"] == ["no mission", "17%", "17%"]
    assert held["money"] == held["ceiling"] == ["no mission", "0%", "0%"]
    assert all(row[0].endswith("(share of the days with a mission)") for row in rows)
    # over replicates: one run with a mission its money holds, one with no mission
    dates = np.datetime64("2023-01-01", "D") + day
    only = {c: {n: np.ones(days) if n.endswith(c) else zero for n in LIMITS}
            for c in ("money", "target")}
    runs = compare.scenario_runs("two", "two", "memory", None, 2, [
        (0, 0, dates, {"troops": np.full(days, 50.0), **only["money"]}, np.zeros(3, bool)),
        (1, 1, dates, {"troops": zero, **only["target"]}, np.zeros(3, bool))],
        keep=["troops", *LIMITS])
    _, shares = compare.troop_limits(runs)
    assert list(shares) == ["target", "ceiling", "money", "pace", compare.NO_MISSION]
    assert np.allclose(shares["money"], 0.5) and np.allclose(shares[compare.NO_MISSION], 0.5)
    assert np.allclose(shares["target"], 0.0)


def test_charts_call_scenarios_by_name_with_the_label_as_tooltip(comparison):
    """Legends and headings read the scenarios' names ("Test policy police"), not their labels
    (file stems, which the tables and --reference use); two of one name keep their labels."""
    page = report.render(comparison)
    for s in comparison.scenarios:
        reference = " (reference)" if s is comparison.reference else ""
        assert re.search(rf'<span title="{s.label}"><span class=swatch [^>]*></span>'
                         rf"{s.name}{re.escape(reference)}</span>", page)
        assert f"<h3>{s.name}: gang-held at the end" in page
    assert "<h2>Difference to Test policy base, paired by replicate</h2>" in page
    assert not re.search(r"</span>(base|police)( \(reference\))?</span>", page)
    assert compare.legend_names({"out/base": "Status quo", "again/base": "Status quo",
                                 "gsf": "GSF", "x": ""}) == {
        "out/base": "Status quo (out/base)", "again/base": "Status quo (again/base)",
        "gsf": "GSF", "x": "x"}


def test_report_charts_name_parameters_by_their_labels():
    """The sensitivity bars (and every chart of the reports naming a parameter) read its label,
    with the name that --set and --vary take as a tooltip."""
    page = report.sensitivity_html(_morris(), "What matters", 2)
    assert "<title>gang_cash_reserve_months</title>Gang cash reserve months</text>" in page
    assert "<title>funding_mission_us</title>Funding mission US</text>" in page
    assert not re.search(r">(gang_cash_reserve_months|funding_mission_us)</text>", page)


def test_observed_figures_are_the_fitted_records_stocks_on_the_days_run(comparison,
                                                                        monkeypatch):
    from sim.analysis import targets

    capital = compare.CAPITAL
    shown = compare.observed(comparison.scenarios, capital)  # runs of 2023-01-01 to 05-31
    assert [t.when for t in shown] == [dt.date(2023, 1, 21), dt.date(2023, 5, 18)]
    assert compare.observed_name(shown) == "observed (UN)"
    assert compare.observed(comparison.scenarios, compare.COMPARED[3]) == []  # killed: a flow
    future = _steady("future", 1.0)  # 2026 only
    assert compare.observed([future], capital) == []
    # a figure after the fitted record (2024) is out of sample: never drawn as calibration data
    later = _steady("later", 1.0, start="2023-01-01", days=3 * 365)
    late = dataclasses.replace(targets.STOCKS[0], when=dt.date(2025, 6, 1))
    monkeypatch.setattr(targets, "STOCKS", (*targets.STOCKS, late))
    assert late not in compare.observed([later], capital)
    assert len(compare.observed([later], capital)) == 5


def test_report_draws_the_observed_figures_only_where_the_runs_cover_the_record(comparison):
    page = report.render(comparison)
    first = compare.observed(comparison.scenarios, compare.CAPITAL)[0]
    assert f"<title>{first.when}: {first.shown} ({first.source})</title>" in page
    assert "observed (UN)</span>" in page
    future = report.render(compare.compare_runs([_steady("a", 1.0), _steady("b", 2.0)]))
    assert "observed (" not in future
