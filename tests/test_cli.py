"""The command line: run, validate, params, batch and compare through `sim.cli.main`, and user
mistakes as one message with exit status 2 (never a traceback)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.model.parameters import PARAMS
from sim.running.results import ResultsDir, Runs

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "scenarios" / "history.yaml"


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
    # what --set changed is in the scenario's name, so no table shows the file's policy
    assert "Short policy (set arms_interdiction = 0.5, mission_mandate = 1)" in printed
    # why the troops are what they are: in the record's 2023 no mission has troops or a target,
    # which is said, not counted as the target holding troops (tests/test_compare.py has the
    # shares of a year with a mission)
    held = [line for line in printed.splitlines() if line.startswith("Troops held by the")]
    assert [line.split()[4] for line in held] == ["target", "ceiling", "money", "pace"]
    assert [line.count("no mission") for line in held] == [2, 2, 2, 2]
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


def test_limits_are_checked_before_anything_runs_and_stated_in_help(tmp_path, policy, capsys,
                                                                   monkeypatch):
    from sim.running import batch

    out = tmp_path / "b"
    err = user_error(capsys, ["batch", policy, "-n", "1000000000", "--out", str(out)])
    assert "1 to 100,000" in err and err.count("\n") == 1
    assert not out.exists()
    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "at most 100,000" in help_text and f"at most the {batch.default_workers()} cores" \
        in help_text
    assert batch.check_workers(10_000) == (batch.default_workers(), (
        f"10000 workers asked, but this machine has {batch.default_workers()} cores: using "
        f"{batch.default_workers()}"))
    asked = []
    monkeypatch.setattr(batch, "run_batch", lambda plan, out, **kw: asked.append(kw["workers"])
                        or {"runs": Runs([], 0, 0, {})})
    main(["batch", policy, "-n", "1", "--workers", "10000", "--out", str(out)])
    assert asked == [batch.default_workers()]
    assert "note: 10000 workers asked" in capsys.readouterr().err


def test_os_errors_are_one_line_naming_the_path(tmp_path, policy, capsys, monkeypatch):
    from sim.analysis import compare
    from sim.running import results

    a_file = tmp_path / "a-file"
    a_file.write_text("")
    err = user_error(capsys, ["batch", policy, "-n", "1", "--workers", "1", "--out",
                              str(a_file)])
    assert str(a_file) in err and "File exists" in err and err.count("\n") == 1
    err = user_error(capsys, ["batch", policy, "-n", "1", "--workers", "1", "--out",
                              str(a_file / "sub")])
    assert str(a_file / "sub") in err and "Not a directory" in err
    # no permission (tests may run as root, who has every permission, so the OS is simulated)
    mkdir = Path.mkdir

    def denied(self, *args, **kwargs):
        if self.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", denied)
    err = user_error(capsys, ["batch", policy, "-n", "1", "--workers", "1", "--out",
                              str(tmp_path / "locked")])
    assert "locked: Permission denied" in err
    monkeypatch.undo()
    err = user_error(capsys, ["batch", policy, "-n", "1", "--scheduler", "not-a-url",
                              "--out", str(tmp_path / "d")])
    assert "not-a-url" in err and err.count("\n") == 1

    # A full disk in the middle of a batch: one line, the manifest says interrupted, and
    # --resume completes it.
    out = tmp_path / "full"
    fsync, calls = results.os.fsync, []

    def disk_full_once(fd):
        calls.append(fd)
        if len(calls) == 12:
            raise OSError(28, "No space left on device")
        fsync(fd)

    monkeypatch.setattr(results.os, "fsync", disk_full_once)
    err = user_error(capsys, ["batch", policy, "-n", "3", "--workers", "1", "--out", str(out)])
    assert "No space left on device" in err and str(out) in err and err.count("\n") == 1
    monkeypatch.undo()
    assert ResultsDir(out).read_manifest()["status"] == "interrupted"
    assert main(["batch", "--resume", "--workers", "1", "--out", str(out)]) == 0
    manifest = ResultsDir(out).read_manifest()
    assert manifest["status"] == "complete" and len(ResultsDir(out).done_runs()) == 3
    capsys.readouterr()

    # Unwritable report paths
    for flag in ("--csv", "--html"):
        target = tmp_path / "no-such-dir" / "report"
        err = user_error(capsys, ["compare", str(out), flag, str(target)])
        assert f"{target}: No such file or directory" in err
    monkeypatch.setattr(compare, "write_csv", lambda *a: (_ for _ in ()).throw(
        OSError(30, "Read-only file system", "/ro/summary.csv")))
    assert "/ro/summary.csv: Read-only file system" in user_error(
        capsys, ["compare", str(out), "--csv", "/ro/summary.csv"])


def test_ctrl_c_at_any_moment_prints_the_resume_hint_only(tmp_path, policy, capsys, monkeypatch):
    from sim.running import batch

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    for where in ("__init__", "add", "close"):  # starting, recording a run, finishing
        out = str(tmp_path / where)
        monkeypatch.setattr(batch.Recording, where, ctrl_c)
        assert main(["batch", policy, "-n", "2", "--workers", "1", "--out", out]) == 130
        err = capsys.readouterr().err
        assert err == (f"\ninterrupted; finished runs are kept: complete them with haiti-sim "
                       f"batch --resume --out {out}\n")
        monkeypatch.undo()
        if Path(out, "manifest.json").exists():
            assert main(["batch", "--resume", "--workers", "1", "--out", out]) in (0, 130)
            capsys.readouterr()


def ctrl_c_after(seconds: float, module: str) -> tuple[int, str]:
    """`python -m module --help` sent SIGINT after `seconds`: (exit status, stderr)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    # The child starts with Ctrl-C at its default, as from a shell: a disposition this test
    # process inherited (an earlier test's library may ignore SIGINT) would pass to it, and
    # Python keeps an ignored SIGINT ignored, so the signal would never arrive.
    process = subprocess.Popen([sys.executable, "-m", module, "--help"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(seconds)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_while_the_command_line_starts_prints_no_traceback():
    seen, interrupted = [], 0
    # most of the start-up is importing; the later, longer delays catch it on a loaded machine
    for seconds in (0.2, 0.3, 0.15, 0.4, 0.1, 0.25, 0.6, 0.9, 1.3, 2.0):
        status, err = ctrl_c_after(seconds, "sim")
        seen.append((seconds, status, err.strip()[-60:]))
        assert "Traceback" not in err, err
        # 130: our handler; -SIGINT: before Python's own handler existed, or Python ending by
        # the signal after our message; 0: the help was printed before the signal came
        assert status in (0, 130, -signal.SIGINT), (status, err)
        interrupted += err.strip() == "interrupted"
        if interrupted >= 2:
            break
    assert interrupted, f"SIGINT never arrived while haiti-sim was starting: {seen}"


@pytest.mark.parametrize("seed", ["-1", "1.5", "true", "4294967296", "9" * 5001])
def test_a_seed_outside_the_one_range_is_refused_by_the_command_line(capsys, seed):
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(HISTORY), "--seed", seed])
    assert exit_.value.code == 2
    assert "from 0 to 4,294,967,295" in capsys.readouterr().err
