"""`haiti-sim discover` (`sim.analysis.discover`): end to end on a short history, where more gang
members at the start make a goal on the capital fail; a new goal re-reads the same runs with
--resume; a goal no run meets or every run meets is a message, as is every mistake."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.analysis import compare
from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
HISTORY = str(ROOT / "scenarios" / "history.yaml")


def _discover(out: Path, *goal: str) -> list[str]:
    return ["discover", HISTORY, "--metric", "capital_gang_share_area", *goal, "--by",
            "2023-02-28", "--vary", "gang_members_total", "--vary", "gang_attack_rate",
            "--vary", "mandate_tempo_peacekeeping", "--samples", "60", "--workers", "1",
            "--out", str(out)]


def test_discover_end_to_end_and_a_new_goal_from_the_same_runs(tmp_path, capsys):
    out = tmp_path / "d"
    # no run has gangs below 0% of the capital: every run fails, there is no box to find
    assert main(_discover(out, "--below", "0")) == 2
    err = capsys.readouterr().err
    assert "every one of the 60 runs fails the goal" in err and "Traceback" not in err
    # the runs are kept: a goal at the median, with the same --by, needs no new run
    points, _, _ = compare.load([out], ["capital_gang_share_area"])
    median = float(np.median([s.metrics["capital_gang_share_area"][0, -1] for s in points]))
    assert main([*_discover(out, "--below", f"{median:.6f}"), "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "60 of 60 runs done" in printed
    assert "the policy fails (goal not met) when" in printed and "coverage" in printed
    steps = list(csv.DictReader((out / "discover.csv").open()))
    assert list(steps[0]) == ["step", "phase", "coverage", "density", "mass", "restricted",
                              "runs", "cases", "chosen"]
    assert steps[0]["phase"] == "start" and float(steps[0]["coverage"]) == 1
    assert sum(r["chosen"] == "True" for r in steps) == 1
    rows = list(csv.DictReader((out / "boxes.csv").open()))
    assert {r["box"] for r in rows} == {"prim", "significant"}
    box = {r["parameter"]: r for r in rows if r["box"] == "significant"}
    # more gang members at the start, or groups that attack more, hold more of the capital: the
    # box bounds them from below, and never the mandate the record never uses
    assert box and set(box) <= {"gang_members_total", "gang_attack_rate"}
    assert all(r["significant"] == "True" and r["low"] != "" and r["high"] == ""
               for r in box.values())
    name = next(iter(box))
    assert f"the policy fails (goal not met) when {name} >" in printed
    html = (out / "discover.html").read_text()
    assert html.count("<svg") == 2 and name in html


@pytest.mark.parametrize("extra, message", [
    (["--below", "0.5", "--by", "2031-01-01"], "--by 2031-01-01 is outside the run"),
    (["--below", "0.5", "--by", "2023-02-28", "--density", "0"], "--density 0"),
    (["--below", "0.5", "--by", "2023-02-28", "--vary", "x=1,2"], "NAME=LOW:HIGH"),
    (["--above", "0.5", "--by", "2023-02-28", "--metric", "capital_share"], "did you mean"),
    (["--below", "0.5", "--by", "2023-02-28", "--sustained-days", "0"], "--sustained-days"),
])
def test_discover_user_errors_are_one_message(tmp_path, capsys, extra, message):
    argv = ["discover", HISTORY, "--metric", "capital_gang_share_area", *extra,
            "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("haiti-sim: error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()  # refused before anything ran


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
