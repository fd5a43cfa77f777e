"""The "What matters" and "Where a policy fails" pages through Streamlit's AppTest: they show the
shipped results (a chart, a sentence naming real parameters, the box and its limits), a recompute
on a tiny setting finishes with the command line's numbers, Stop stops one, and a bad setting is
a message.

The tiny setting: Morris over two parameters with two trajectories (6 runs), or a Latin
hypercube of 12 points over two parameters, of the status quo stopped 20 days after its branch
(2026-04-21): a few seconds of runs.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from test_app import APP, TIMEOUT, no_exception, wait, widget

from sim.analysis import sensitivity, shipped
from sim.cli import main as cli
from sim.model.parameters import PARAMS
from ui import analyses

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

UNTIL = dt.date(2026, 4, 21)
TWO = ["gang_attack_rate", "reversion_per_day"]


def page(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    no_exception(at.run())
    at.switch_page(path)
    return no_exception(at.run())




def charts(at) -> list:
    return at.get("plotly_chart")


def test_what_matters_shows_the_shipped_sensitivity():
    [name] = shipped.names(shipped.SENSITIVITY)
    meta = shipped.load(name).meta
    at = page("views/sensitivity.py")
    assert charts(at), "no chart"
    [words] = [m.value for m in at.markdown if m.value.startswith("In status_quo.yaml")]
    top = sorted((r for r in shipped.load(name).tables["sensitivity.csv"]
                  if r["outcome"] == "capital_gang_share_area"), key=lambda r: r["rank"])[0]
    assert top["parameter"] in words and top["parameter"] in PARAMS
    # the chart's axis names the parameters by their labels, not by the names of the table
    shown = [y for chart in charts(at) for t in json.loads(chart.proto.spec)["data"]
             for y in t["y"]]
    assert shown and not set(shown) & set(PARAMS)
    assert top["parameter"].replace("_", " ") in {y.lower() for y in shown}
    assert f"{meta['runs']:,} runs" in " ".join(c.value for c in at.caption)
    # on another model than the running one, the page says the result is stale
    stale = any("is stale" in w.value for w in at.warning)
    assert stale == (not shipped.current(meta))


def test_a_shipped_result_of_another_model_is_stale(monkeypatch):
    monkeypatch.setattr(shipped, "_running_model", lambda: "another model")
    at = page("views/discover.py")
    assert any("This shipped result is stale" in w.value for w in at.warning)


def test_where_a_policy_fails_shows_the_shipped_discovery():
    [name] = shipped.names(shipped.DISCOVER)
    at = page("views/discover.py")
    assert charts(at) and at.dataframe
    [sentence] = [s.value for s in at.success]
    assert sentence.startswith("The policy fails (goal not met) when ")
    assert "coverage" in sentence and "density" in sentence and "mass" in sentence
    assert any(p in sentence for p in shipped.load(name).meta["varied"])
    # the parameters the sentence names by their command-line names get their units beside it
    from sim.model.parameters import PARAMS
    [units] = [c.value for c in at.caption if c.value.startswith("In ")]
    named = [p for p in shipped.load(name).meta["varied"] if f"{p} " in sentence]
    assert named and all(f"`{p}`): {PARAMS[p].unit}" in units for p in named)


def test_a_recompute_gives_the_command_lines_indices(tmp_path):
    at = page("views/sensitivity.py")
    for key, value in (("sens_vary", TWO), ("sens_trajectories", 2), ("sens_until", UNTIL)):
        widget(at, key).set_value(value)
        no_exception(at.run())
    at.button(key="sens_go").click()
    no_exception(at.run())
    run = wait(at, "sens_run")
    assert run.status == analyses.DONE, run.error
    assert run.runs_total == 6 and any(c.key == "sens_r_chart" for c in charts(at))
    # the command line on the same design gives the same indices
    out = tmp_path / "morris"
    argv = ["sensitivity", "scenarios/status_quo.yaml", "--trajectories", "2", "--until",
            UNTIL.isoformat(), "--workers", "1", "--out", str(out), "--seed",
            str(run.request.base_seed)]
    for name in TWO:
        argv += ["--vary", name]
    assert cli(argv) == 0
    expected = sensitivity.records(sensitivity.analyse(out, None, run.request.base_seed))
    got = sensitivity.records(run.result)
    assert [r["parameter"] for r in got] == [r["parameter"] for r in expected]
    assert np.allclose([r["mu_star"] for r in got], [r["mu_star"] for r in expected])


def test_a_discovery_recompute_finishes_and_stop_stops():
    at = page("views/discover.py")
    for key, value in (("disc_scenario", "status_quo.yaml"), ("disc_vary", TWO),
                       ("disc_samples", 12), ("disc_by", UNTIL), ("disc_threshold", 95.0)):
        widget(at, key).set_value(value)
        no_exception(at.run())
    at.button(key="disc_go").click()
    no_exception(at.run())
    run = wait(at, "disc_run")
    assert run.status in (analyses.DONE, analyses.FAILED) and run.runs_total == 12
    if run.status == analyses.FAILED:  # every run met (or failed) the goal: a message
        assert "there is no box to find" in run.error
        assert any("no box to find" in e.value for e in at.error)
    else:
        assert any(c.key == "disc_r_chart" for c in charts(at))
    # a larger one, stopped at once
    widget(at, "disc_samples").set_value(400)
    no_exception(at.run())
    at.button(key="disc_go").click()
    no_exception(at.run())
    at.button(key="disc_stop").click()
    no_exception(at.run())
    run = wait(at, "disc_run", 30)
    assert run.status == analyses.STOPPED
    assert any("Stopped" in i.value for i in at.info)


def test_a_bad_setting_is_a_message():
    at = page("views/sensitivity.py")
    widget(at, "sens_until").set_value(dt.date(2024, 6, 1))  # before the branch
    no_exception(at.run())
    assert any("--until 2024-06-01" in e.value for e in at.error)
    assert at.button(key="sens_go").disabled


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
