"""The app's logic through Streamlit's AppTest: the controls come from the parameter table, nothing
runs until Run, runs fill in as replicates finish, uploads and their errors, the saved file runs
unchanged on the command line, the link carries the settings, and the comparison and pages work.

Runs here use a short uploaded policy (branch 2023-03-01, end 2023-05-31: five simulated months)
and two replicates, so each run takes well under a second once the workers are up.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ["HAITI_SIM_APP_PREWARM"] = "0"  # the server's background warm-up would only slow tests

from streamlit.testing.v1 import AppTest  # noqa: E402

from sim.analysis import compare  # noqa: E402
from sim.cli import main as cli  # noqa: E402
from sim.model import outcomes  # noqa: E402
from sim.model import scenario as scenario_file  # noqa: E402
from sim.model.parameters import PARAMS  # noqa: E402
from sim.model.scenario import SEED_MAX, SEED_RANGE  # noqa: E402
from sim.running import engine  # noqa: E402
from ui import analysis, controls, library, maps, runner, state  # noqa: E402
from ui.controls import KEY  # noqa: E402

APP = str(ROOT / "ui" / "app.py")
SHORT = """name: Short test policy
base: history.yaml
branch: 2023-03-01
end: 2023-05-31
seed: 3
parameters:
  arms_interdiction: 0.4
events:
  - date: 2023-04-15
    set: {police_intake_per_year: 2000}
    note: a class graduates
"""
TIMEOUT = 60


def app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at.run()


def no_exception(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def wait(at: AppTest, key: str, timeout: float = 60):
    """The background run in `at.session_state[key]` (a search, a recompute) once it has
    finished, rerunning the page as a browser would poll it; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    run = at.session_state[key]
    while run.running:
        assert time.monotonic() < deadline, f"{key} did not finish in {timeout:g} s"
        time.sleep(0.3)
        no_exception(at.run())
    no_exception(at.run())
    return run


def widget(at: AppTest, key: str):
    for kind in (at.slider, at.selectbox, at.select_slider, at.number_input, at.text_input,
                 at.text_area, at.multiselect, at.date_input, at.radio):
        for w in kind:
            if w.key == key:
                return w
    raise KeyError(key)


def walk(node):
    """Every element under `node`, in the order drawn."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def upload(at: AppTest, name: str, data: bytes, key: str = "uploader") -> AppTest:
    next(u for u in at.get("file_uploader") if u.key == key).upload(name, data)
    return no_exception(at.run())


def wait_for_run(at: AppTest, key: str = "explore_run", timeout: float = 90) -> AppTest:
    """Rerun the page until its job is done, as the browser's polling does."""
    deadline = time.monotonic() + timeout
    while at.session_state[key].job.running:
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.2)
        at.run()
    return no_exception(at.run())


@pytest.fixture
def short_app() -> AppTest:
    at = app(replicates="2")
    return upload(at, "short.yaml", SHORT.encode())


# ------------------------------------------------------------------------------ controls
def test_every_parameter_has_a_control_with_its_unit_and_range():
    at = no_exception(app())
    keys = {w.key for w in [*at.slider, *at.select_slider, *at.selectbox]}
    assert {KEY + name for name in PARAMS} <= keys
    levers = [w for w in [*at.slider, *at.select_slider] if w.key.startswith(KEY)]
    for w in levers:
        p = PARAMS[w.key.removeprefix(KEY)]
        assert p.unit.split()[0] in w.label or "USD" in w.label
        assert p.source in w.help
    # the levers come first, in the order of the parameter table's groups
    drawn = [w.key.removeprefix(KEY) for w in walk(at.sidebar)
             if (getattr(w, "key", None) or "").startswith(KEY)]
    assert all(PARAMS[name].lever for name in drawn[:sum(p.lever for p in PARAMS.values())])


def test_moving_a_lever_changes_the_link_and_the_file_but_runs_nothing():
    at = no_exception(app())
    widget(at, KEY + "arms_interdiction").set_value(0.5)
    no_exception(at.run())
    assert "explore_run" not in at.session_state
    assert at.query_params["arms_interdiction"] == "0.5"
    text = at.session_state["scenario_text"]
    saved = scenario_file.parse_text(text, "saved.yaml")
    assert saved.base == "history.yaml" and saved.parameters["arms_interdiction"] == 0.5


def test_a_number_typed_beside_a_slider_moves_it_and_a_capped_troop_target_is_flagged():
    at = no_exception(app(scenario="gsf_full.yaml"))
    assert not [w for w in at.warning if "ceiling" in w.value]
    next(n for n in at.number_input if n.key == "entry.mission_troops_target").set_value(8000)
    no_exception(at.run())
    assert at.session_state[KEY + "mission_troops_target"] == 8000
    assert at.query_params["mission_troops_target"] == "8000"
    [warning] = [w.value for w in at.warning if "ceiling" in w.value]
    assert "above the authorised ceiling (mission_troop_ceiling, 5,550)" in warning
    widget(at, KEY + "funding_mission_us").set_value(0.0)  # the slider moves the box too
    no_exception(at.run())
    assert next(n for n in at.number_input if n.key == "entry.funding_mission_us").value == 0
    assert any("pay for about" in w.value for w in at.warning)


def test_the_troop_sliders_are_on_a_log_scale_from_a_hundred_to_a_hundred_thousand():
    """Troops reach 100,000 (the force densities the literature discusses), missions have had
    hundreds to thousands: a linear slider moved ~400 troops a pixel. On the log scale 1,000-2,000
    is reached in steps of 50, and 5,550 (the GSF's ceiling, off the grid) is kept as typed."""
    for name in ("mission_troops_target", "mission_troop_ceiling"):
        stops = np.array(controls.display(PARAMS[name]).stops)
        assert stops[0] == 0 and stops[1] == 100 and stops[-1] == 100_000, name
        assert np.all(np.diff(stops[1:]) / stops[1:-1] <= 0.05 + 1e-9), name
        assert np.diff(stops[(stops >= 1000) & (stops <= 2000)]).max() == 50, name
    at = no_exception(app(scenario="gsf_full.yaml"))
    slider = widget(at, KEY + "mission_troop_ceiling")
    assert slider.type == "select_slider" and "log scale" in slider.label
    assert slider.value == 5550 and "5,550" in slider.options  # options as displayed
    target = widget(at, KEY + "mission_troops_target")
    target.set_value(2500)
    no_exception(at.run())
    assert at.query_params["mission_troops_target"] == "2500"
    saved = scenario_file.parse_text(at.session_state["scenario_text"], "saved.yaml")
    assert saved.parameters["mission_troops_target"] == 2500


def test_money_sliders_are_on_a_log_scale_fine_where_typical_values_lie():
    """A donor's range is 0 to US$ 30 B a year: a linear slider moved ~US$ 120 M a pixel. The
    log scale's stops are round values, each at most 5% above the one before, every power of ten
    the same share of the slider, so US$ 10-600 M is reached in steps of US$ 0.5-10 M."""
    money = [p for p in PARAMS.values() if p.unit.startswith("USD") and p.high >= 1e9]
    assert {"funding_mission_us", "funding_police_haiti"} <= {p.name for p in money}
    for p in money:
        stops = np.array(controls.display(p).stops)
        assert stops[0] == p.low / 1e6 and stops[-1] == p.high / 1e6, p.name
        assert np.all(np.diff(stops[1:]) / stops[1:-1] <= 0.05 + 1e-9), p.name
        near = stops[(stops >= 10) & (stops <= 600)]
        steps = np.diff(near)
        assert steps[near[:-1] < 200].max() <= 5 and steps.max() <= 10, p.name
        assert {10, 25, 50, 100, 120, 150, 175, 250, 300, 600} <= set(near), p.name
        per_decade = [np.sum((stops >= 10**k) & (stops < 10**(k + 1))) for k in range(3)]
        assert len(set(per_decade)) == 1, (p.name, per_decade)

    at = no_exception(app())
    slider = widget(at, KEY + "funding_mission_us")
    assert slider.type == "select_slider" and "log scale" in slider.label
    assert "million USD/year" in slider.label and "0 to 60,000" in slider.label
    slider.set_value(250.0)
    no_exception(at.run())
    saved = scenario_file.parse_text(at.session_state["scenario_text"], "saved.yaml")
    assert saved.parameters["funding_mission_us"] == 250e6  # the model's unit, USD
    assert at.query_params["funding_mission_us"] == "250000000"
    assert next(n for n in at.number_input if n.key == "entry.funding_mission_us").value == 250


def test_a_money_value_off_the_sliders_stops_is_kept_and_typed_exactly():
    at = no_exception(app())
    # the file's own value (status_quo: Haiti's police budget, US$ 137 M) lies between two stops
    police = widget(at, KEY + "funding_police_haiti")
    assert police.value == 137 and "137" in police.options
    assert "funding_police_haiti" not in at.session_state["scenario_text"]  # nothing changed
    box = next(n for n in at.number_input if n.key == "entry.funding_mission_canada")
    box.set_value(33.3)  # typed: the slider moves to it
    no_exception(at.run())
    assert widget(at, KEY + "funding_mission_canada").value == 33.3
    saved = scenario_file.parse_text(at.session_state["scenario_text"], "saved.yaml")
    assert saved.parameters["funding_mission_canada"] == pytest.approx(33.3e6)
    widget(at, KEY + "funding_mission_canada").set_value(35.0)  # back on a stop: the odd one goes
    no_exception(at.run())
    assert "33.3" not in widget(at, KEY + "funding_mission_canada").options


def test_the_sidebar_shows_the_main_levers_and_folds_the_rest_by_group():
    at = no_exception(app())
    folded = {}
    for expander in at.sidebar.expander:
        keys = [w.key.removeprefix(KEY) for w in walk(expander)
                if (getattr(w, "key", None) or "").startswith(KEY)]
        if keys:
            folded[expander.label] = keys
    assert not any(e.proto.expanded for e in at.sidebar.expander)
    open_ = [w.key.removeprefix(KEY) for w in walk(at.sidebar)
             if (getattr(w, "key", None) or "").startswith(KEY)]
    open_ = [n for n in open_ if not any(n in keys for keys in folded.values())]
    assert {"mission_troops_target", "funding_mission_us", "funding_mission_others",
            "funding_police_haiti", "police_intake_per_year", "arms_interdiction"} <= set(open_)
    assert len(open_) <= 12 and all(PARAMS[n].lever for n in open_)
    assert sorted(open_) == sorted(n for n, p in PARAMS.items() if p.featured)
    # every other parameter is in one collapsed expander: the other levers, or its group's
    every = [n for keys in folded.values() for n in keys] + open_
    assert sorted(every) == sorted(PARAMS)
    [other] = [label for label in folded if label.startswith("Other levers")]
    assert all(PARAMS[n].lever for n in folded[other])
    for label, names in folded.items():
        if label != other:
            assert len({PARAMS[n].group for n in names}) == 1 and not PARAMS[names[0]].lever
            assert label == f"{PARAMS[names[0]].group.capitalize()} ({len(names)})"
    # a folded lever still works, and keeps its key
    widget(at, KEY + "mission_deploy_troops_per_month").set_value(500)
    no_exception(at.run())
    assert at.query_params["mission_deploy_troops_per_month"] == "500"


def test_seed_shown_is_the_scenarios_own_or_inherited():
    at = no_exception(app(scenario="donor_cut.yaml"))  # no seed of its own: its base's
    assert widget(at, "seed").value == library.load_library("donor_cut.yaml").resolved.seed
    assert "seed:" not in at.session_state["scenario_text"]
    widget(at, "seed").set_value(42)
    no_exception(at.run())
    assert scenario_file.parse_text(at.session_state["scenario_text"], "x.yaml").seed == 42


def test_a_starting_value_set_for_a_policy_holds_from_the_start():
    """Roles, as in a file: a lever changes at the branch, a starting value from the start."""
    at = no_exception(app())
    widget(at, KEY + "police_officers").set_value(20000)
    widget(at, KEY + "arms_interdiction").set_value(0.5)
    no_exception(at.run())
    built = scenario_file.from_text(at.session_state["scenario_text"], "x.yaml",
                                    library.SCENARIOS)
    assert built.parameters["police_officers"] == 20000
    assert [e.value for e in built.events if e.name == "arms_interdiction"
            and e.date == built.branch][-1] == 0.5


# ------------------------------------------------------------------------------ saving
def test_saved_file_round_trips_and_is_what_runs(short_app):
    at = short_app
    widget(at, KEY + "mission_troops_target").set_value(3000)
    widget(at, KEY + "funding_mission_us").set_value(120.0)  # shown in million USD
    no_exception(at.run())
    text = at.session_state["scenario_text"]
    again = scenario_file.from_text(text, "saved.yaml", library.SCENARIOS)
    spec = scenario_file.parse_text(text, "saved.yaml")
    assert spec.parameters["mission_troops_target"] == 3000
    assert spec.parameters["funding_mission_us"] == 120e6
    assert spec.parameters["arms_interdiction"] == 0.4  # the file's own, kept
    assert [(e.date.isoformat(), e.set) for e in spec.events] == [
        ("2023-04-15", {"police_intake_per_year": 2000.0})]
    # the levers of a policy take effect at its branch, as its `parameters:` do in a file
    assert any(e.name == "mission_troops_target" and e.value == 3000 and e.date == again.branch
               for e in again.events)
    at.button(key="run").click()
    no_exception(at.run())
    job = at.session_state["explore_run"].job
    assert engine.run_key(job.scenarios["current"], 3) == engine.run_key(again, 3)


def test_a_saved_file_says_what_changed_or_what_the_user_wrote(short_app):
    """A file saved with other levers must not describe the policy it came from as its own."""
    at = short_app
    unchanged = scenario_file.parse_text(at.session_state["scenario_text"], "saved.yaml")
    widget(at, KEY + "mission_troops_target").set_value(3000)
    no_exception(at.run())
    spec = scenario_file.parse_text(at.session_state["scenario_text"], "saved.yaml")
    assert spec.description.startswith(unchanged.description.strip())
    assert "Changed in the app from" in spec.description
    assert "mission_troops_target 3,000 (was " in spec.description
    widget(at, "save_description").set_value("My own words on this policy.")
    no_exception(at.run())
    spec = scenario_file.parse_text(at.session_state["scenario_text"], "saved.yaml")
    assert spec.description == "My own words on this policy."


def test_saved_file_runs_on_the_command_line(short_app, tmp_path, capsys):
    history = library.SCENARIOS / "history.yaml"
    text = short_app.session_state["scenario_text"].replace("base: history.yaml",
                                                            f"base: {history}")
    path = tmp_path / "saved.yaml"
    path.write_text(text)
    assert cli(["validate", str(path)]) == 0
    assert "OK" in capsys.readouterr().out


# ------------------------------------------------------------------------------ running
def test_run_shows_results_as_replicates_finish_and_offers_downloads(short_app):
    at = short_app
    at.button(key="run").click()
    no_exception(at.run())
    run = at.session_state["explore_run"]
    # a lever moved during the run neither stops it nor starts another
    widget(at, KEY + "arms_interdiction").set_value(0.6)
    no_exception(at.run())
    assert at.session_state["explore_run"] is run and not run.job.stopped
    wait_for_run(at)
    assert run.job.runs_done == 2 and not run.job.errors
    labels = [m.label for m in at.metric]
    assert "Gang-held share of Port-au-Prince (area)" in labels
    assert at.get("plotly_chart"), "no map or chart drawn"
    assert any("settings changed since this run" in i.value for i in at.info)
    # the downloads: their buttons (in their tab), and what each one's data function gives
    at.session_state["results_tab"] = "Downloads"
    no_exception(at.run())
    buttons = {b.key for b in at.get("download_button")}
    assert {"save", "dl.ran_yaml", "dl.series", "dl.compare", "dl.report"} <= buttons
    names = {label: run.names[label] for label in run.job.labels}
    series = analysis.series_csv(run.job, names).decode().splitlines()
    assert series[0].startswith("scenario,replicate,seed,date,capital_gang_share_area")
    assert len(series) == 1 + 2 * run.job.scenarios["current"].days
    comparison = analysis.comparison(run.job, names)
    summary = analysis.comparison_csv(comparison).decode()
    assert summary.startswith("kind,outcome,scenario") and "capital_below_0.5" in summary
    html = analysis.report_html(comparison).decode()
    assert "<svg" in html and "haiti-sim app" in html and "/tmp/" not in html
    # a chance is shown with its interval; two replicates are flagged as too few
    cur = analysis.runs_of(run.job, "current")
    assert all(re.fullmatch(r"\d+% \[\d+-\d+%\]", r["open at the end"])
               for r in analysis.road_rows(cur, None))
    assert any("Fewer than 20 replicates" in c.value for c in at.caption)


def test_chances_of_a_goal_at_a_date_sustained_or_ever_with_their_intervals(short_app):
    at = short_app
    at.button(key="run").click()
    wait_for_run(no_exception(at.run()))
    at.session_state["results_tab"] = "Chances"
    no_exception(at.run())
    # on its first draw the date is the runs' last day (the widget's own default is today)
    assert widget(at, "chance_by").value == dt.date(2023, 5, 31)
    widget(at, "chance_threshold").set_value(90.0)
    no_exception(at.run())
    [table] = at.dataframe
    [row] = table.value.to_dict("records")
    assert re.fullmatch(r"\d+% \[\d+-\d+%\]", row["chance [90% interval]"])
    assert row["replicates"] == 2 and "±5 needs about" in row["precision"]
    assert any("below 90.0% on 2023-05-31" in re.sub(r"\\(.)", r"\1", m.value)
               for m in at.markdown)
    for mode in ("sustained", "ever"):
        next(r for r in at.radio if r.key == "chance_mode").set_value(mode)
        no_exception(at.run())
        assert at.dataframe and not at.error
    next(r for r in at.radio if r.key == "chance_mode").set_value("sustained")
    no_exception(at.run())
    widget(at, "chance_days").set_value(3000)  # a window longer than the run: a message
    no_exception(at.run())
    assert "begins before the run does" in at.error[0].value


def test_the_roads_and_money_tab_charts_what_holds_the_troops(short_app):
    at = short_app
    at.button(key="run").click()
    wait_for_run(no_exception(at.run()))
    run = at.session_state["explore_run"]
    at.session_state["results_tab"] = "Roads and money"
    no_exception(at.run())
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert any(t.startswith("What holds the troops") for t in titles)
    dates, shares = compare.troop_limits(analysis.runs_of(run.job, "current"))
    # 2023 has no mission (no troops, a target of zero): not a target holding troops back
    assert np.allclose(shares["target"], 0.0) and np.allclose(shares[compare.NO_MISSION], 1.0)
    assert list(shares) == ["target", "ceiling", "money", "pace", compare.NO_MISSION]
    assert np.allclose(sum(shares.values()), 1.0)  # one of them on every day


def test_cached_runs_come_back_at_once(short_app):
    at = short_app
    at.button(key="run").click()
    wait_for_run(no_exception(at.run()))
    at.button(key="run").click()
    no_exception(at.run())
    job = at.session_state["explore_run"].job
    assert not job.running and job.from_cache == job.runs_total  # every run was in the cache
    # and the caption says so, not "in 0.0 s"
    assert any("runs loaded from the cache" in c.value for c in at.caption)


def test_reference_is_run_with_the_same_seeds_and_differences_shown(short_app):
    at = short_app
    widget(at, "reference").set_value("history.yaml")
    widget(at, KEY + "arms_interdiction").set_value(0.9)
    no_exception(at.run())
    at.button(key="run").click()
    wait_for_run(no_exception(at.run()))
    job = at.session_state["explore_run"].job
    assert job.labels == ["current", "reference"]
    assert job.scenarios["reference"].end == job.scenarios["current"].end
    assert any(m.proto.delta for m in at.metric)
    # Each difference shows its 90% interval, and only one that excludes zero is coloured.
    from streamlit.proto.Metric_pb2 import Metric

    from ui import analysis

    heads = {h.label: h for h in analysis.headline(
        *[analysis.runs_of(job, label, label) for label in ("current", "reference")],
        job.scenarios["current"].branch or job.scenarios["current"].start)}
    for m in at.metric:
        if not m.proto.delta:
            continue
        h = heads[m.label]
        assert " to " in m.proto.delta and m.proto.delta == h.delta
        if not h.clear:  # an interval that holds zero: grey, whatever the median's sign
            assert m.proto.color == Metric.MetricColor.GRAY, m.label
    # each value's own interval is shown under it, not only in its tooltip
    shown = [c.value for c in at.caption]
    assert all(h.interval in shown for h in heads.values())


def test_a_count_in_a_headline_box_is_in_one_unit():
    """A count's value, interval and difference in a box share a unit ("1.61 M" beside
    "+0.012 M", not "+12,000"); money stays in millions, small counts in ones."""
    dates = np.datetime64("2026-01-01", "D") + np.arange(10)

    def runs(displaced: float) -> compare.ScenarioRuns:
        quiet = {m: np.zeros(10) for o in compare.COMPARED for m in o.metrics}
        return compare.scenario_runs("s", "s", "memory", None, 2, (
            (i, i, dates, {**quiet, "displaced": np.full(10, displaced + i),
                           "killed": np.full(10, 3.0)}, np.zeros(3, bool)) for i in range(2)))

    heads = {h.label: h for h in analysis.headline(runs(1.612e6), runs(1.6e6),
                                                   dt.date(2026, 1, 1))}
    displaced, killed = heads["Displaced people"], heads["People killed"]
    assert (displaced.value, displaced.delta) == ("1.61 M", "+0.012 M [+0.012 M to +0.012 M]")
    # the level the model misses in the record (docs/VALIDATION.md) is flagged in its box
    assert displaced.interval == "90% interval 1.61 M to 1.61 M (level indicative: see ?)"
    assert analysis.INDICATIVE["displaced"] in displaced.help
    assert (killed.value, killed.delta) == ("30", "+0 [+0 to +0]")
    assert killed.interval == "90% interval 30 to 30" and "indicative" not in killed.help


def test_money_in_a_headline_box_is_in_one_unit():
    def show(value, signed=False):
        return compare.show_value(value, outcomes.get("spent_usd"), signed, compare.MILLIONS)

    assert show(2.5e9) == "$2,500 M"
    assert show(-529_679, signed=True) == "-$0.53 M"
    assert show(34.49e6) == "$34.5 M" and show(None) == "-"


def test_a_parameters_money_says_what_it_is_per_and_a_row_shares_a_unit():
    """Compare's table of differing parameters read "$1,410.0 M", "$29.0 M" and "0" side by side,
    with no "/year"."""
    us, cost = PARAMS["funding_mission_us"], PARAMS["mission_cost_usd_per_troop_year"]
    row = [1.41e9, 29e6, 0.0]
    unit = compare.money_unit(row)
    assert [library.format_value(us, v, unit) for v in row] == [
        "$1.41 bn/year", "$0.029 bn/year", "$0 bn/year"]
    assert library.format_value(cost, 240_000) == "$240,000/troop/year"
    assert library.format_value(PARAMS["mission_mandate"], 1) == "suppression"


# ------------------------------------------------------------------------------ uploads
BAD = {
    "not_yaml.yaml": b"name: [unclosed\n",
    "wrong_field.yaml": b"name: x\nstart: 2023-01-01\nend: 2023-12-31\nparamters: {}\n",
    "out_of_range.yaml": b"name: x\nstart: 2023-01-01\nend: 2023-12-31\n"
                         b"parameters: {arms_interdiction: 2}\n",
    "not_a_mapping.yaml": b"- just\n- a list\n",
    "bad_seed.yaml": b"name: x\nstart: 2023-01-01\nend: 2023-12-31\nseed: -1\n",
    "twice.yaml": b"name: x\nstart: 2023-01-01\nend: 2023-12-31\nend: 2024-12-31\n",
    "too_long.yaml": b"name: x\nstart: 2023-01-01\nend: 9999-12-31\n",
    "escape.yaml": b'name: "x\\e[2Jred"\nstart: 2023-01-01\nend: 2023-12-31\n',
}


@pytest.mark.parametrize("name", BAD)
def test_bad_upload_gets_the_command_line_message_and_the_app_keeps_working(name, tmp_path,
                                                                            capsys):
    path = tmp_path / name
    path.write_bytes(BAD[name])
    assert cli(["validate", str(path)]) == 1
    # the command line indents a message's later lines under its file's BAD line
    cli_message = capsys.readouterr().out.removeprefix("BAD ").strip().replace(
        str(path), name).replace("\n    ", "\n")
    at = upload(no_exception(app()), name, BAD[name])
    assert at.session_state["upload_error"] == cli_message
    first_line = cli_message.split("\n")[0].replace("_", "\\_")
    assert len(at.error) == 1 and first_line in at.error[0].value
    assert at.session_state["source"] == "status_quo.yaml"  # unchanged
    assert not at.button(key="run").disabled


def test_too_large_and_binary_uploads(tmp_path, capsys):
    big = b"name: x\n" + b"#" * (300 * 1024) + b"\n"
    at = upload(no_exception(app()), "big.yaml", big)
    (tmp_path / "big.yaml").write_bytes(big)
    cli(["validate", str(tmp_path / "big.yaml")])
    expected = capsys.readouterr().out.removeprefix("BAD ").strip().replace(
        str(tmp_path / "big.yaml"), "big.yaml")
    assert at.session_state["upload_error"] == expected == "big.yaml: file is larger than 256 KiB"
    at = upload(at, "binary.yaml", b"\xff\xfe\x00name")
    assert at.session_state["upload_error"].startswith("binary.yaml: cannot read file as UTF-8")


def test_upload_may_build_only_on_the_library():
    at = upload(no_exception(app()), "sneaky.yaml", b"name: x\nbase: ../../etc/passwd\n")
    assert "is not a scenario of the library" in at.session_state["upload_error"]


# ------------------------------------------------------------------------------ events
def test_events_are_added_and_removed(short_app):
    at = short_app
    widget(at, "event.kind").set_value("Donor cut")
    no_exception(at.run())
    widget(at, "event.donor").set_value("funding_mission_canada")
    no_exception(at.run())
    at.button(key="event.add").click()
    no_exception(at.run())
    spec = scenario_file.parse_text(at.session_state["scenario_text"], "x.yaml")
    assert [list(e.set) + list(e.scale) for e in spec.events] == [
        ["police_intake_per_year"], ["funding_mission_canada"]]
    assert at.query_params["event"][-1].split("|")[1:3] == ["scale", "funding_mission_canada"]
    remove = [b for b in at.button if b.key and b.key.startswith("event.remove.0.")]
    remove[0].click()
    no_exception(at.run())
    spec = scenario_file.parse_text(at.session_state["scenario_text"], "x.yaml")
    assert [list(e.scale) for e in spec.events] == [["funding_mission_canada"]]


def test_a_horizon_before_the_files_events_is_refused_with_the_files_message():
    at = no_exception(app(scenario="history.yaml"))
    widget(at, "end").set_value(dt.date(2023, 12, 31))
    no_exception(at.run())
    assert "is outside the horizon" in at.error[0].value
    assert at.button(key="run").disabled


# ------------------------------------------------------------------------------ links
def test_a_link_reproduces_the_settings():
    at = no_exception(app(scenario="gsf_full.yaml", arms_interdiction="0.45", replicates="7",
                          seed="11", event=["2026-07-01|set|funding_mission_us|0|cut"]))
    assert at.session_state[KEY + "arms_interdiction"] == pytest.approx(0.45)
    assert widget(at, "replicates").value == 7 and widget(at, "seed").value == 11
    spec = scenario_file.parse_text(at.session_state["scenario_text"], "x.yaml")
    assert spec.name.startswith("GSF at 5,550") and spec.seed == 11
    assert spec.parameters["mission_troop_ceiling"] == 5550  # the file's own, kept
    assert [(str(e.date), e.set) for e in spec.events] == [("2026-07-01",
                                                          {"funding_mission_us": 0.0})]


def test_a_link_with_an_upload_and_bad_values():
    view = state.View(scenario="upload", upload_name="short.yaml", upload_text=SHORT)
    query = state.encode(view) | {"arms_interdiction": "7", "nonsense": "1"}
    at = no_exception(app(**query))
    assert at.session_state["source"] == "upload: short.yaml"
    notes = " ".join(re.sub(r"\\(.)", r"\1", w.value) for w in at.warning)  # as shown
    assert "arms_interdiction=7" in notes and "'nonsense' is not a setting" in notes


@pytest.mark.parametrize("seed", ["-1", str(SEED_MAX + 1), "9" * 5001, "true", "1.5"])
def test_a_link_with_a_seed_outside_the_range_is_refused_not_clamped(seed):
    at = no_exception(app(scenario="gsf_full.yaml", seed=seed))
    notes = " ".join(w.value for w in at.warning)
    assert SEED_RANGE in notes and len(notes) < 400
    assert widget(at, "seed").value == library.load_library("gsf_full.yaml").resolved.seed


def test_a_link_takes_every_seed_of_the_range():
    at = no_exception(app(scenario="gsf_full.yaml", seed=str(SEED_MAX)))
    assert widget(at, "seed").value == SEED_MAX and not at.warning
    spec = scenario_file.parse_text(at.session_state["scenario_text"], "x.yaml")
    assert spec.seed == SEED_MAX


@pytest.mark.parametrize(("key", "text"), [
    ("end", "2027-12-31T00:00:00Z"), ("end", "0"), ("event", "2026-07-01T10:00|set|gang_count|9|x"),
    ("arms_interdiction", "nan"), ("arms_interdiction", "inf"),
])
def test_a_link_with_bad_dates_or_values_notes_them(key, text):
    view, notes = state.decode({"scenario": ["gsf_full.yaml"], key: [text]})
    assert len(notes) == 1 and notes[0].endswith("; ignored")
    assert view.settings.end is None and view.settings.events is None
    assert not view.settings.parameters


def test_a_link_beyond_the_longest_horizon_is_refused():
    at = no_exception(app(scenario="gsf_full.yaml", end="9999-12-31"))
    assert "longest horizon" in " ".join(e.value for e in at.error)
    assert at.button(key="run").disabled


def test_a_compare_link_with_a_bad_seed_keeps_the_default():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("views/compare.py")
    at.query_params.update({"compare": ["gsf_full.yaml"], "seed": str(SEED_MAX + 1)})
    no_exception(at.run())
    assert widget(at, "compare_seed").value == 1


def test_state_encoding_round_trips():
    settings = library.Settings({"arms_interdiction": 0.3}, [library.EventRow(
        dt.date(2026, 5, 1), "mission_mandate", "set", 2.0, "a|b")],
        None, 4)
    view = state.View("gsf_full.yaml", settings=settings, replicates=9, reference="none")
    query = {k: v if isinstance(v, list) else [v] for k, v in state.encode(view).items()}
    back, notes = state.decode(query)
    assert not notes
    assert back.settings.parameters == settings.parameters and back.settings.seed == 4
    assert back.settings.events[0].name == "mission_mandate" and back.replicates == 9


# ------------------------------------------------------------------------------ other pages
def compare_two_uploads(check=None):
    """The compare page with two uploaded scenarios run twice each (`check(at)` before)."""
    at = no_exception(app())
    at.switch_page("views/compare.py")
    no_exception(at.run())
    if check:
        check(at)
    upload(at, "short.yaml", SHORT.encode(), key="compare_uploader")
    upload(at, "short_b.yaml", SHORT.replace("0.4", "0.9").encode(), key="compare_uploader")
    widget(at, "compare_choice").set_value(["upload: short.yaml", "upload: short_b.yaml"])
    widget(at, "compare_replicates").set_value(2)
    no_exception(at.run())
    at.button(key="compare_go").click()
    return wait_for_run(no_exception(at.run()), "compare_run")


def test_compare_page_runs_and_shows_the_compare_tables():
    at = compare_two_uploads()
    assert len(at.get("plotly_chart")) == 6  # the outcomes, overlaid
    # the legends call the scenarios by name; both are "Short test policy", so each keeps its
    # label, which the hover gives too (and the tables use)
    for chart in at.get("plotly_chart"):
        lines = [t for t in json.loads(chart.proto.spec)["data"]
                 if t.get("name") and t.get("mode") == "lines"]
        assert [t["name"] for t in lines] == ["Short test policy (short)",
                                              "Short test policy (short_b)"]
        assert all(t["hovertemplate"].startswith(f"{t['name']}:") for t in lines)
    at.session_state["compare_tab"] = "Tables and downloads"
    no_exception(at.run())
    text = " ".join(m.value for m in at.markdown)
    assert "Chance that gangs hold less than 50% of Port-au-Prince" in text
    assert "Chance that each national road is open" in text
    assert {"compare_csv", "compare_html"} <= {b.key for b in at.get("download_button")}


def test_compare_page_names_what_differs_flags_identical_runs_and_keeps_colours():
    at = no_exception(app())
    at.switch_page("views/compare.py")
    no_exception(at.run())
    for name, text in (("short.yaml", SHORT), ("short_b.yaml", SHORT.replace("0.4", "0.9")),
                       ("copy.yaml", SHORT.replace("Short test policy", "A copy"))):
        upload(at, name, text.encode(), key="compare_uploader")
    chosen = ["upload: short.yaml", "upload: short_b.yaml", "upload: copy.yaml"]
    widget(at, "compare_choice").set_value(chosen)
    widget(at, "compare_replicates").set_value(2)
    no_exception(at.run())
    widget(at, "compare_end").set_value("2023-12-31")
    no_exception(at.run())
    [table] = at.dataframe
    assert table.value.to_dict("records") == [{"parameter": "arms_interdiction",
                                               "short": "0.4", "short_b": "0.9", "copy": "0.4"}]
    at.button(key="compare_go").click()
    at = wait_for_run(no_exception(at.run()), "compare_run")
    job = at.session_state["compare_run"].job
    assert {s.end for s in job.scenarios.values()} == {dt.date(2023, 12, 31)}
    assert any("short and copy are the same runs" in w.value for w in at.warning)
    def medians(chart):  # the named lines, not the observed points drawn with them
        return [t for t in json.loads(chart.proto.spec)["data"]
                if t.get("name") and t.get("mode") == "lines"]

    colour = {line["name"]: line["line"]["color"] for chart in at.get("plotly_chart")
              for line in medians(chart)}
    assert any(t.get("name", "").startswith("observed (") for chart in at.get("plotly_chart")
               for t in json.loads(chart.proto.spec)["data"])  # the runs cover 2023
    at.session_state["compare_tab"] = "Difference to short"
    no_exception(at.run())
    for chart in at.get("plotly_chart"):  # the reference is left out; the others keep theirs
        for line in medians(chart):
            assert line["line"]["color"] == colour[line["name"]]


def test_links_of_the_documents_shown_lead_to_pages_of_the_app():
    """The model's documents link to each other by file ("VALIDATION.md"), which the app does
    not serve: such a link opened "Page not found" over the Explore page. Every link they show
    in the app is an anchor, a web address, or a page of the app's navigation."""
    at = no_exception(app())
    # the url paths of the pages, as the app's navigation registered them
    served = {page["url_pathname"] for page in at._registered_pages.values()}
    assert "" in served and "validation" in served and "explore" not in served  # "/" explores
    links = set()
    for page in ("views/model.py", "views/validation.py"):
        at.switch_page(page)
        no_exception(at.run())
        text = "".join(m.value for m in at.markdown)
        links |= set(re.findall(r"(?<!!)\[[^\]]*\]\(([^)\s]*)\)", text))
    local = {link for link in links if not link.startswith(("#", "http://", "https://"))}
    assert local and local <= served, local - served


def test_the_validation_page_draws_every_figure_of_its_document():
    """docs/VALIDATION.md's figures are files next to it, which the app does not serve: as
    Markdown images they were broken (the patterns figure); the page draws each file."""
    at = no_exception(app())
    at.switch_page("views/validation.py")
    no_exception(at.run())
    assert not any(re.search(r"!\[[^\]]*\]\((?!https?:)", m.value) for m in at.markdown)
    drawn = (ROOT / "docs" / "VALIDATION.md").read_text().count("](figures/")
    assert drawn >= 3 and len(at.get("image")) == drawn  # history, patterns, every lever


def test_model_and_validation_pages_render():
    at = no_exception(app())
    at.switch_page("views/model.py")
    no_exception(at.run())
    assert any("ODD" in m.value for m in at.markdown)
    assert not any("$" in m.value and r"\$" not in m.value for m in at.markdown)
    at.switch_page("views/validation.py")
    no_exception(at.run())
    assert any("observed" in m.value for m in at.markdown)


# ------------------------------------------------------------------------------ pieces
def test_the_app_computes_no_statistics_of_its_own():
    """Medians, intervals and chances over replicates are `sim.analysis.stats`' alone."""
    statistic = re.compile(r"\b(np|numpy)\.(nan)?(percentile|quantile|median|mean|average|std|"
                           r"var)\b|\.(mean|std|var)\(|intersect1d")
    for path in sorted((ROOT / "ui").rglob("*.py")):
        found = statistic.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(ROOT)} computes {found}"


def test_map_draws_every_commune_and_its_frames_are_valid_plotly():
    s = scenario_file.from_text(SHORT, "short.yaml", library.SCENARIOS)
    r = runner.Runner(workers=1)
    try:
        job = runner.wait(r.submit([("current", s)], [1, 2]))
    finally:
        runner.shutdown(r)
    frames = analysis.map_frames(job, "current")
    assert frames.dates[0] == s.start and frames.dates[-1] == s.end
    fig = maps.control_map(frames)
    figure = fig.to_dict()
    go.Figure(figure)  # validates the frames plotly.py was spared
    fills = [t for t in figure["data"] if t.get("fill") == "toself"]
    assert len(fills) == len(maps.boundaries("communes")) == 140
    assert len(figure["frames"]) == len(frames.dates)
    assert maps.ATTRIBUTION in str(figure["layout"]["annotations"])
    assert "geo" not in figure["layout"]  # no projection, hence no topojson from a CDN


def test_map_has_a_colour_bar_per_measure_and_names_places_once():
    """The communes' median share and the share of runs holding a cell are two measures: each
    has its own colour bar, titled in the catalogue's words; no place is named twice."""
    from sim.model import geography

    geo = geography.load()
    frames = analysis.MapFrames([dt.date(2024, 1, 1)], np.full((1, len(geo.commune_pcode)), 0.3),
                                np.full((1, geo.n_cells), 0.6), 2)
    figure = maps.control_map(frames).to_dict()
    bars = [t["colorbar"]["title"]["text"] for t in figure["data"] if "colorbar" in t] + [
        t["marker"]["colorbar"]["title"]["text"] for t in figure["data"]
        if t.get("marker", {}).get("showscale")]
    assert sorted(bars) == sorted([maps.COMMUNE_MEASURE, maps.CELL_MEASURE])
    assert outcomes.DEPARTMENT_SHARE.label.format("the commune") in maps.COMMUNE_MEASURE
    assert len({t["colorbar"]["x"] for t in figure["data"] if "colorbar" in t}
               | {t["marker"]["colorbar"]["x"] for t in figure["data"]
                  if t.get("marker", {}).get("showscale")}) == 2  # side by side, not one
    names = [t["text"] for t in figure["data"] if t.get("name") == "place names"]
    assert len(names) == 2 and all(len(set(n)) == len(n) for n in names)
    assert {"Port-au-Prince", "Cap-Haïtien", "Gonaïves", "Jérémie"} <= set(names[0])


def test_every_library_scenario_saves_to_a_file_that_resolves_to_itself():
    for name in library.library():
        src = library.load_library(name)
        text, built = library.build(src, library.Settings())
        assert engine.run_key(built, 1) == engine.run_key(src.resolved, 1), name
        assert built.seed == src.resolved.seed, name
        assert scenario_file.parse_text(text, name).name == src.name


def test_the_event_editor_offers_no_starting_value():
    """Starting values are read once, when the world is built: no event can change them."""
    at = no_exception(app())
    at.selectbox(key="event.kind").set_value("Any parameter")
    no_exception(at.run())
    offered = at.selectbox(key="event.param").options
    assert offered and not [n for n, p in PARAMS.items() if p.initial and n in offered]


def test_two_tabs_do_not_disturb_each_other():
    one, two = app(replicates="2"), app(replicates="2")
    upload(one, "short.yaml", SHORT.encode())
    upload(two, "short.yaml", SHORT.replace("0.4", "0.9").encode())
    one.button(key="run").click()
    two.button(key="run").click()
    no_exception(one.run())
    no_exception(two.run())
    a, b = one.session_state["explore_run"].job, two.session_state["explore_run"].job
    assert a is not b
    wait_for_run(one)
    wait_for_run(two)
    assert a.scenarios["current"].parameters != b.scenarios["current"].parameters or (
        a.scenarios["current"].events != b.scenarios["current"].events)
    assert "upload: short.yaml" in one.session_state["sources"]
    assert not (a.results["current"][0].values == b.results["current"][0].values).all()
    assert one.session_state["scenario_text"] != two.session_state["scenario_text"]


def test_a_compare_link_reproduces_the_comparison():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("views/compare.py")
    at.query_params.update({"compare": ["donor_cut.yaml", "gsf_full.yaml"],
                            "reference": "gsf_full.yaml", "replicates": "3", "seed": "9"})
    no_exception(at.run())
    assert widget(at, "compare_choice").value == ["donor_cut.yaml", "gsf_full.yaml"]
    assert widget(at, "compare_reference").value == "gsf_full.yaml"
    assert widget(at, "compare_replicates").value == 3 and widget(at, "compare_seed").value == 9
    assert at.query_params["compare"] == ["donor_cut.yaml", "gsf_full.yaml"]


@pytest.fixture(scope="module")
def pool():
    r = runner.Runner(workers=2)
    yield r
    runner.shutdown(r)


def short_scenario(**parameters):
    lines = "".join(f"  {k}: {v}\n" for k, v in parameters.items())
    return scenario_file.from_text(SHORT.replace("parameters:\n", "parameters:\n" + lines),
                                   "s.yaml", library.SCENARIOS)


def test_runner_gives_the_command_lines_numbers(pool):
    """Same scenario and seed: the app's run, in a worker with a monthly map, equals
    `engine.run`'s observing nothing (the CLI's): observing changes no state."""
    s = short_scenario(police_intake_per_year=1500)
    job = runner.wait(pool.submit([("s", s)], [5, 6]))
    [cli_run] = engine.run((("s", s),), 6, replicate=1)
    app_run = job.done("s")[1]
    assert (app_run.values == cli_run.values).all()
    assert (app_run.owner_is_gang == cli_run.owner_is_gang).all()
    last = np.unpackbits(app_run.held_bits[-1], count=len(cli_run.owner_is_gang))
    assert (last.astype(bool) == cli_run.owner_is_gang).all()
    assert len(app_run.held_bits) == len(runner.snapshot_dates(s))


def test_runner_runs_a_shared_run_once_and_stops_on_request(pool):
    s = short_scenario(army_intake_per_year=300)
    first = pool.submit([("a", s)], [21, 22, 23])
    second = pool.submit([("b", s), ("c", s)], [21, 22, 23])  # the same runs, twice over
    runner.wait(first)
    runner.wait(second)
    assert all(first.done("a")[i] is second.done("b")[i] is second.done("c")[i]
               for i in range(3))
    many = pool.submit([("d", short_scenario(army_intake_per_year=400))], list(range(30, 50)))
    pool.stop(many)
    runner.wait(many)
    assert many.stopped and many.runs_done < many.runs_total


def test_a_run_over_the_sessions_budget_is_refused_with_a_message(short_app, monkeypatch):
    monkeypatch.setattr(runner, "SESSION_RUN_DAYS", 10)
    at = short_app
    at.button(key="run").click().run()
    assert "explore_run" not in at.session_state
    [warning] = [w.value for w in at.warning]
    assert "at most 10 queued at once" in warning
    no_exception(at)


def test_an_unexpected_error_is_logged_and_shown_as_a_message_with_a_reference(monkeypatch,
                                                                               caplog):
    def broken(*args, **kwargs):
        raise RuntimeError(f"boom in {ROOT}")

    monkeypatch.setattr(library, "build", broken)
    with caplog.at_level("ERROR", logger="ui.session"):
        at = no_exception(app())
    [error] = [e.value for e in at.error]
    ref = re.search(r"reference \*\*([0-9a-f]{8})\*\*", error).group(1)
    assert "RuntimeError" in error and str(ROOT) not in error and "File " not in error
    [record] = [r for r in caplog.records if ref in r.getMessage()]
    assert "boom in" in "".join(__import__("traceback").format_exception(*record.exc_info))


def test_a_failed_runs_message_has_a_reference_not_a_traceback(caplog):
    try:
        raise ValueError("bad value")
    except ValueError as exc:
        out = runner.RunOutput.failure("s", 0, 7, dt.date(2023, 1, 1), exc)
    with caplog.at_level("ERROR", logger="ui.runner"):
        message = runner._message(out)
    ref = re.fullmatch(r"ValueError: bad value \(reference ([0-9a-f]{8})\)", message).group(1)
    [record] = [r for r in caplog.records if ref in r.getMessage()]
    assert 'File "' in record.getMessage() and __file__ in record.getMessage()


def test_markdown_in_an_uploaded_name_description_or_note_is_shown_as_text():
    image = "![seen](http://tracker.example/pixel.png)"
    link = "[click](http://phish.example/)"
    text = (SHORT.replace("name: Short test policy", f"name: '{image} {link}'")
            .replace("seed: 3", f"seed: 3\ndescription: 'Read {image} and {link} *now*'")
            .replace("note: a class graduates", f"note: '{image}'"))
    at = upload(app(), "hostile.yaml", text.encode())
    assert f"Read {image} and {link} *now*" in [t.value for t in at.text]
    shown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("![" in m or "](" in m for m in shown), [m for m in shown if "](" in m]
    unescaped = [re.sub(r"\\(.)", r"\1", m) for m in shown]
    assert any(f"{image} {link}" in m for m in unescaped)  # the name, as written
    assert any(image in m for m in unescaped)  # the event's note, as written


POSTERIOR = ROOT / "tests" / "fixtures" / "posterior.csv"  # synthetic: four draws


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """The fixture posterior as the shipped one."""
    import shutil

    from sim.running import ensemble

    path = tmp_path / "posterior.csv"
    shutil.copy(POSTERIOR, path)
    monkeypatch.setattr(ensemble, "POSTERIOR", path)
    return ensemble.load(path)


def test_runs_include_parameter_uncertainty_by_default_and_the_checkbox_leaves_it_out(shipped):
    at = upload(app(replicates="2"), "short.yaml", SHORT.encode())
    box = next(c for c in at.checkbox if c.key == "uncertainty")
    assert box.value and not box.disabled and box.label.startswith("Include parameter uncert")
    at.button(key="run").click()
    no_exception(at.run())
    job = at.session_state["explore_run"].job
    assert job.ensemble == shipped
    for i in range(2):  # replicate i under draw i, the cache key its own
        ran = job.runs["current"][i]
        assert {n: ran.parameters[n] for n in shipped.names} == shipped.draw(i)
        assert job.keys["current"][i] == engine.run_key(shipped.apply(job.scenarios["current"],
                                                                      i), job.seeds[i])
    wait_for_run(at)
    assert any("posterior draws 0 to 1 of 4" in c.value for c in at.caption)
    next(c for c in at.checkbox if c.key == "uncertainty").uncheck()
    no_exception(at.run())
    assert at.query_params["point"] == "1"
    assert any("settings changed since this run" in i.value for i in at.info)
    at.button(key="run").click()
    no_exception(at.run())
    point = at.session_state["explore_run"].job
    assert point.ensemble is None and point.runs["current"][1] is point.scenarios["current"]
    assert not set(point.keys["current"]) & set(job.keys["current"])  # never mixed in the cache
    again = app(scenario="gsf_full.yaml", point="1")  # a link keeps it off
    assert not next(c for c in again.checkbox if c.key == "uncertainty").value


def test_without_a_shipped_posterior_the_checkbox_is_disabled_and_runs_are_at_the_defaults(
        tmp_path, monkeypatch):
    from sim.running import ensemble

    monkeypatch.setattr(ensemble, "POSTERIOR", tmp_path / "absent.csv")
    at = upload(app(replicates="2"), "short.yaml", SHORT.encode())
    box = next(c for c in at.checkbox if c.key == "uncertainty")
    assert box.disabled and "no posterior is shipped yet" in box.help
    at.button(key="run").click()
    no_exception(at.run())
    assert at.session_state["explore_run"].job.ensemble is None


def test_the_compare_page_runs_every_scenario_under_the_same_draws(shipped):
    def uncertainty_on_by_default(at):
        assert next(c for c in at.checkbox if c.key == "compare_uncertainty").value

    at = compare_two_uploads(uncertainty_on_by_default)
    job = at.session_state["compare_run"].job
    assert job.ensemble == shipped and not job.errors
    for i in range(2):  # replicate i of both scenarios under draw i
        for label in job.labels:
            assert {n: job.runs[label][i].parameters[n] for n in shipped.names} == (
                shipped.draw(i))
    assert any("bands include parameter uncertainty" in c.value for c in at.caption)
