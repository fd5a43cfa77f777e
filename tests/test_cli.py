"""The command line: run, validate, params, batch and compare through `sim.cli.main`, and user
mistakes as one message with exit status 2 (never a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.model.parameters import PARAMS
from sim.running.results import ResultsDir

HISTORY = Path(__file__).resolve().parents[1] / "scenarios" / "history.yaml"


@pytest.fixture
def policy(tmp_path) -> str:
    path = tmp_path / "short.yaml"
    path.write_text(f"name: Short policy\nbase: {HISTORY}\nbranch: 2023-03-01\nend: 2023-05-31\n"
                    "parameters:\n  arms_interdiction: 0.5\n")
    return str(path)


def user_error(capsys, argv: list[str]) -> str:
    """Run a command that must fail with a message for the user; return the message."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("haiti-sim: error: ") and "Traceback" not in err
    return err


def test_run_prints_a_yearly_summary_and_writes_results(tmp_path, policy, capsys):
    out = tmp_path / "out"
    assert main(["run", policy, "--seed", "3", "--out", str(out),
                 "--set", "arms_interdiction=0.5", "--set", "mission_mandate=suppression"]) == 0
    printed = capsys.readouterr().out
    for text in ("Short policy", "seed 3", "2023", "Gang-held share of Port-au-Prince (area)",
                 "Displaced people", "People killed", "Kidnappings", "Troops",
                 "Money spent", "roads cut", str(out)):
        assert text in printed
    manifest = ResultsDir(out).read_manifest()
    [run] = manifest["runs"]
    assert run["seed"] == 3 and run["status"] == "done"
    # in a policy scenario, overrides take effect on its branch date
    events = manifest["plan"]["scenarios"][0]["events"]
    assert ["2023-03-01", "arms_interdiction", "set", 0.5] in events
    assert ["2023-03-01", "mission_mandate", "set", 1] in events
    table = ResultsDir(out).read_series()
    assert table.column_names == ["scenario", "replicate", "date", "metric", "value"]
    assert table.num_rows == 151 * len(set(table["metric"].to_pylist()))
    # a second run into the same directory replaces the first
    assert main(["run", policy, "--seed", "4", "--out", str(out)]) == 0
    assert ResultsDir(out).read_manifest()["runs"][0]["seed"] == 4


@pytest.mark.parametrize("setting, message", [
    ("no_such_parameter=1", "unknown parameter 'no_such_parameter'"),
    ("arms_interdiction=3", "out of range"),
    ("arms_interdiction=lots", "not a number"),
    ("arms_interdiction", "write NAME=VALUE"),
    ("gang_count=10.5", "whole number"),
])
def test_bad_set_is_a_user_error(tmp_path, policy, capsys, setting, message):
    err = user_error(capsys, ["run", policy, "--out", str(tmp_path / "o"), "--set", setting])
    assert message in err
    assert not (tmp_path / "o").exists()


def test_missing_or_bad_scenario_file_is_a_user_error(tmp_path, capsys):
    assert "cannot read file" in user_error(capsys, ["run", str(tmp_path / "nope.yaml")])
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: bad\nbase: {HISTORY}\nbrnach: 2026-01-01\n")
    err = user_error(capsys, ["run", str(bad)])
    assert "bad.yaml" in err and "brnach" in err and "branch" in err


def test_validate_reports_each_file_and_fails_if_any_is_bad(tmp_path, policy, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nstart: 2023-01-01\nend: 2022-01-01\n")
    assert main(["validate", policy, str(HISTORY)]) == 0
    assert capsys.readouterr().out.count("OK ") == 2
    assert main(["validate", policy, str(bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("OK ") and lines[1].startswith("BAD ") and "end" in lines[1]


def test_params_lists_every_parameter_from_the_table(capsys):
    assert main(["params"]) == 0
    printed = capsys.readouterr().out
    for p in PARAMS.values():
        assert p.name in printed and p.unit in printed
    assert main(["params", "--group", "mission", "--role", "lever"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert listed == [p.name for p in PARAMS.values() if p.group == "mission" and p.lever]
    assert main(["params", "--role", "uncertainty", "--role", "initial", "--why"]) == 0
    rows = [line.split()[:2] for line in capsys.readouterr().out.splitlines()[1:]]
    assert rows == [[p.name, p.role] for p in PARAMS.values() if p.uncertain]


def test_batch_then_compare(tmp_path, policy, capsys):
    out = tmp_path / "batch"
    assert main(["batch", policy, "--replicates", "2", "--out", str(out), "--workers", "1"]) == 0
    assert "2 of 2 runs done" in capsys.readouterr().out
    err = user_error(capsys, ["batch", policy, "--replicates", "2", "--out", str(out)])
    assert "--resume" in err
    assert main(["batch", "--resume", "--out", str(out), "--workers", "1"]) == 0
    assert "2 of 2 runs done" in capsys.readouterr().out
    html, csv = tmp_path / "r.html", tmp_path / "r.csv"
    assert main(["compare", str(out), "--html", str(html), "--csv", str(csv)]) == 0
    printed = capsys.readouterr().out
    assert "Gang-held share of Port-au-Prince" in printed and "short" in printed
    assert html.exists() and csv.exists()


def test_batch_and_compare_user_errors(tmp_path, policy, capsys):
    assert "--replicates" in user_error(capsys, ["batch", policy, "--out", str(tmp_path / "b")])
    assert "at least 1" in user_error(capsys, ["batch", policy, "-n", "1", "--workers", "0",
                                               "--out", str(tmp_path / "b")])
    assert "no batch to resume" in user_error(
        capsys, ["batch", "--resume", "--out", str(tmp_path / "b")])
    assert "no results" in user_error(capsys, ["compare", str(tmp_path / "none")])


@pytest.mark.parametrize("command, text", [
    ([], "validate check scenario files"), (["run"], "--set NAME=VALUE"),
    (["batch"], "common random"), (["compare"], "--reference"), (["params"], "--role"),
])
def test_help(capsys, command, text):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert text in " ".join(capsys.readouterr().out.split())
