"""`haiti-sim sensitivity` and `sim.analysis.sensitivity`: SALib's designs made as `Design`s and
rebuilt from their description, the indices on functions whose indices are known (a linear
function for Morris, Ishigami's for Sobol), and the command end to end on a short history: a
parameter the model ignores there ranks last with no effect, resuming redoes what is missing,
and mistakes are one message."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.analysis import compare, sensitivity
from sim.cli import main
from sim.running import design
from sim.running.results import ResultsDir

ROOT = Path(__file__).resolve().parents[1]
HISTORY = str(ROOT / "scenarios" / "history.yaml")
NAMES = ("gang_attack_rate", "reversion_per_day", "mandate_tempo_peacekeeping",
         "police_firepower")


def _factors(count: int) -> list[design.Factor]:
    return [design.Factor.of(name) for name in NAMES[:count]]


def test_morris_of_a_linear_function_gives_each_slope_and_no_spread():
    d = design.morris(_factors(4), trajectories=20, levels=4, seed=3)
    assert len(d.points) == 20 * 5 and d.unit_points.shape == (100, 4)
    slopes = np.array([3.0, -2.0, 0.0, 0.5])
    found = sensitivity.indices(d, d.unit_points @ slopes)
    assert found["mu_star"] == pytest.approx(np.abs(slopes))
    assert found["sigma"] == pytest.approx(np.zeros(4), abs=1e-9)
    ranked = sensitivity.rank(d, found)
    assert [i.parameter for i in ranked] == [NAMES[0], NAMES[1], NAMES[3], NAMES[2]]
    assert ranked[-1].values["mu_star"] == 0  # the factor the function ignores


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_ones():
    d = design.saltelli(_factors(3), 1000, seed=1)  # rounded up to 1024
    assert d.settings == {"base_samples": 1024} and len(d.points) == 1024 * 5
    x = -np.pi + 2 * np.pi * d.unit_points
    a, b = 7.0, 0.1
    y = np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
    found = sensitivity.indices(d, y, seed=2)
    # Ishigami and Homma (1990): the variances in closed form
    v1 = 0.5 * (1 + b * np.pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * np.pi ** 8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    assert found["S1"] == pytest.approx([v1 / total, v2 / total, 0.0], abs=0.04)
    assert found["ST"] == pytest.approx([(v1 + v13) / total, v2 / total, v13 / total], abs=0.04)
    assert (found["ST_conf"] > 0).all() and (found["ST_conf"] < 0.1).all()


def test_sensitivity_designs_are_rebuilt_from_their_description():
    for d in (design.morris(_factors(3), 4, 4, seed=5), design.saltelli(_factors(3), 8, seed=5)):
        again = design.rebuild(d.describe())
        assert again.points == d.points and np.array_equal(again.unit_points, d.unit_points)
    with pytest.raises(design.DesignError, match="not a sensitivity design"):
        design.rebuild(design.latin_hypercube(_factors(3), 4, seed=5).describe())


def _sensitivity(out: Path, *extra: str) -> list[str]:
    return ["sensitivity", HISTORY, "--until", "2023-02-28", "--vary", "gang_attack_rate",
            "--vary", "reversion_per_day", "--vary", "mandate_tempo_peacekeeping",
            "--trajectories", "3", "--workers", "1", "--out", str(out), *extra]


def test_sensitivity_ranks_a_parameter_the_model_ignores_last_and_resumes(tmp_path, capsys):
    out = tmp_path / "m"
    assert main(_sensitivity(out)) == 0
    printed = capsys.readouterr()
    assert "3 parameters varied: 12 points x 1 replicates = 12 runs" in printed.err
    assert "Gang-held share of Port-au-Prince (area), at the end" in printed.out
    rows = list(csv.DictReader((out / "sensitivity.csv").open()))
    assert len(rows) == 3 * len(compare.COMPARED)
    assert list(rows[0]) == ["outcome", "parameter", "role", "rank", "mu_star", "mu_star_conf",
                             "sigma"]
    capital = [r for r in rows if r["outcome"] == "capital_gang_share_area"]
    # Peacekeeping's tempo matters only under a UN mandate, which the record never has: with
    # common random numbers every run that differs only in it is the same run.
    assert capital[-1]["parameter"] == "mandate_tempo_peacekeeping"
    assert float(capital[-1]["mu_star"]) == 0 and float(capital[0]["mu_star"]) > 0
    html = (out / "sensitivity.html").read_text()
    assert html.count("<svg") >= 3 and "mandate_tempo_peacekeeping" in html
    # a lost run is redone by --resume (the options given again), and the indices are the same
    ResultsDir(out).series_path("history.s0005", 0).unlink()
    assert main(_sensitivity(out, "--resume")) == 0
    assert "12 of 12 runs done" in capsys.readouterr().out
    assert list(csv.DictReader((out / "sensitivity.csv").open())) == rows
    assert main(_sensitivity(out)) == 2  # without --resume: refused, the runs are kept
    assert "already holds a batch" in capsys.readouterr().err


def test_sobol_sensitivity_of_chosen_outcomes_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "s"
    argv = ["sensitivity", HISTORY, "--method", "sobol", "--samples", "2", "--until",
            "2023-01-31", "--vary", "gang_attack_rate", "--vary", "reversion_per_day",
            "--outcomes", "killed,displaced", "--workers", "1", "--out", str(out)]
    assert main(argv) == 0
    assert "ST (90% interval)" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "sensitivity.csv").open()))
    assert {r["outcome"] for r in rows} == {"killed", "displaced"} and len(rows) == 4
    assert list(rows[0])[4:] == ["S1", "S1_conf", "ST", "ST_conf"]


@pytest.mark.parametrize("extra, message", [
    (["--samples", "8"], "--samples goes with --method sobol"),
    (["--method", "sobol", "--trajectories", "4"], "--trajectories goes with --method morris"),
    (["--vary", "gang_attack_rate=1,2"], "NAME=LOW:HIGH"),
    (["--vary", "gang_atack_rate"], "unknown parameter 'gang_atack_rate'"),
    (["--vary", "gang_attack_rate=0:99"], "must rise and lie within"),
    (["--until", "2031-01-01"], "--until 2031-01-01"),
    (["--outcomes", "kiled"], "--outcomes: no outcome is named 'kiled' (did you mean 'killed'"),
    (["--levels", "3"], "even number"),
    (["--trajectories", "1"], "at least 2 trajectories"),
    (["--resume"], "holds no sensitivity to resume"),
])
def test_sensitivity_user_errors_are_one_message(tmp_path, capsys, extra, message):
    argv = ["sensitivity", HISTORY, "--vary", "gang_attack_rate", "--vary", "reversion_per_day",
            *extra, "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("haiti-sim: error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "x" / "series").exists()  # refused before anything ran


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_a_count_index_and_its_interval_are_in_one_unit():
    from sim.model import outcomes

    displaced = outcomes.get("displaced")
    unit = compare.money_unit([1.2e6, 3e5])
    shown = [sensitivity.show_index(v, displaced, sensitivity.MORRIS, unit) for v in (1.2e6, 3e5)]
    assert shown == ["1.20 M", "0.30 M"]
    assert sensitivity.show_index(0.052, outcomes.get("capital_gang_share_area"),
                                  sensitivity.MORRIS) == "5.2 pp"
