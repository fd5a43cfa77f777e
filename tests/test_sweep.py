"""`haiti-sim sweep` and its dose-response (`sim.analysis.sweep`): a grid over two levers on a short
scenario, its tables, CSV and chart, resuming, and the mistakes it refuses."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.analysis import compare, stats, sweep
from sim.cli import main
from sim.running.results import ResultsDir

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "scenarios" / "history.yaml"


@pytest.fixture
def policy(tmp_path) -> str:
    path = tmp_path / "short.yaml"
    path.write_text(f"name: Short policy\nbase: {HISTORY}\nbranch: 2023-03-01\nend: 2023-04-30\n"
                    "parameters:\n  funding_mission_us: 1000000000\n  mission_mandate: 1\n")
    return str(path)


def test_sweep_runs_a_grid_and_shows_each_outcome_against_the_levers(tmp_path, policy, capsys):
    out = tmp_path / "s"
    argv = ["sweep", policy, "--lever", "mission_troops_target=0,600", "--lever",
            "arms_interdiction=0.1,0.9", "-n", "2", "--workers", "1", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Troops of the international mission, at the end: median [90% interval]" in printed
    assert "short.s0003" in printed and "sweep.html" in printed
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert len(rows) == 4 * len(compare.COMPARED)
    # the numbers are the runs': the median of troops at the end of one point, recomputed
    point = next(r for r in rows if r["outcome"] == "troops" and r["label"] == "short.s0003")
    assert (float(point["mission_troops_target"]), float(point["arms_interdiction"])) == (600, 0.9)
    results = ResultsDir(out)
    ends = [results.read_run("short.s0003", k)[1]["troops"][-1] for k in range(2)]
    assert float(point["median"]) == pytest.approx(stats.interval(np.array(ends)).median)
    html = (out / "sweep.html").read_text()
    assert html.count("<svg") == len(compare.COMPARED)
    # a curve per value of the second lever, named by its label with its name as the tooltip
    assert 'title="arms_interdiction = 0.9"' in html and "Arms interdiction = 0.9</span>" in html
    # complete: resuming runs nothing more and gives the same table
    assert main([*argv, "--resume"]) == 0
    assert "8 of 8 runs done" in capsys.readouterr().out
    assert sweep.records(sweep.dose_response(out))[0]["replicates"] == 2


@pytest.mark.parametrize("extra, message", [
    ([], "at least one --lever"),
    (["--lever", "arms_interdiction=a,b"], "--lever 'arms_interdiction=a,b'"),
    (["--lever", "arms_interdiction=0.1,0.5", "--design", "lhs"], "needs --design grid"),
    (["--lever", "arms_interdiction=0.1:0.5", "--design", "lhs"], "needs --samples"),
    (["--lever", "arms_interdictio=0.1,0.5"], "unknown parameter"),
])
def test_sweep_user_errors_are_one_message(tmp_path, policy, capsys, extra, message):
    assert main(["sweep", policy, *extra, "-n", "1", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("haiti-sim: error: ") and message in err and "Traceback" not in err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
