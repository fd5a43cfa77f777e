"""The posterior ensemble: loading and checking the file, which draw a replicate uses, and that a
draw never overrides what a scenario sets explicitly.

`fixtures/posterior.csv` is a synthetic posterior of four hand-written draws (not a calibration),
so the tests do not depend on the shipped one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.analysis import compare
from sim.cli import main
from sim.model import scenario
from sim.model.parameters import PARAMS
from sim.running import ensemble, fingerprint
from sim.running.ensemble import EnsembleError
from sim.running.results import ResultsDir, RunOutput

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "posterior.csv"
HISTORY = ROOT / "scenarios" / "history.yaml"
DRAWN = ("gang_attack_rate", "combat_steepness", "police_firepower")


def policy(tmp_path: Path, text: str = "") -> scenario.Scenario:
    path = tmp_path / "policy.yaml"
    path.write_text(f"name: Policy\nbase: {HISTORY}\nbranch: 2023-03-01\nend: 2023-05-31\n"
                    + text)
    return scenario.load(path)


def test_the_posterior_loads_with_its_provenance_and_draws_wrap_around():
    e = ensemble.load(FIXTURE)
    assert len(e) == 4 and e.names == DRAWN
    assert e.draw(1) == {"gang_attack_rate": 2.9, "combat_steepness": 2.6, "police_firepower": 1.3}
    assert e.draw(5) == e.draw(1) and e.number(5) == 1  # replicate i uses draw i mod N
    assert e.provenance["draws"] == 4
    described = e.describe()
    assert described["mode"] == "ensemble" and described["draws"] == 4
    assert len(described["sha256"]) == 64
    assert e.starting_at(2).draw(0) == e.draw(2) and e.starting_at(2).number(3) == 1


def test_a_draw_sets_the_calibrated_parameters_from_the_start_and_nothing_else(tmp_path):
    s = policy(tmp_path)
    e = ensemble.load(FIXTURE)
    drawn = e.apply(s, 3)
    for name in DRAWN:
        assert drawn.parameters[name] == e.draw(3)[name] != PARAMS[name].default
    assert {n: v for n, v in drawn.parameters.items() if n not in DRAWN} == {
        n: v for n, v in s.parameters.items() if n not in DRAWN}
    assert drawn.events == s.events and drawn.fixed == s.fixed  # a draw is not explicit
    assert e.apply(drawn, 0).parameters["gang_attack_rate"] == e.draw(0)["gang_attack_rate"]


def test_explicit_values_win_over_draws(tmp_path):
    """Set in the file, by --set (with_overrides) or in the file's base chain: kept."""
    s = policy(tmp_path, "parameters:\n  gang_attack_rate: 2.0\n")
    assert {"gang_attack_rate", "police_officers"} <= s.fixed  # its own, and history.yaml's
    t = s.with_overrides({"combat_steepness": 2.4, "arms_interdiction": 0.7})
    assert {"combat_steepness", "arms_interdiction"} <= t.fixed
    drawn = ensemble.load(FIXTURE).apply(t, 1)
    assert drawn.parameters["gang_attack_rate"] == 2.0
    assert drawn.parameters["combat_steepness"] == 2.4
    assert drawn.parameters["police_firepower"] == 1.3  # not set explicitly: the draw's


def test_a_draw_cannot_set_a_lever(tmp_path):
    with pytest.raises(ValueError, match="lever"):
        policy(tmp_path).with_draw({"arms_interdiction": 0.5})


def test_an_event_that_would_push_a_drawn_value_out_of_range_is_refused_before_running(tmp_path):
    s = policy(tmp_path, "events:\n  - date: 2023-04-01\n    scale: {police_firepower: 4}\n")
    e = ensemble.load(FIXTURE)  # the default (the posterior median, about 1.05) x 4 passes
    e.check(s, 1, "policy")  # draw 0: 0.8 x 4 = 3.2, within 0.1 to 5
    with pytest.raises(EnsembleError, match=r"policy: under draw 1 of .*police_firepower"):
        e.check(s, 2, "policy")  # draw 1: 1.3 x 4 = 5.2


GOOD = FIXTURE.read_text().splitlines()


@pytest.mark.parametrize("lines, message", [
    (["name,gang_attack_rate", "0,1.0"], "line 1: the first column must be 'draw'"),
    (["draw,gang_atack_rate", "0,1.0"],
     "line 1, column 2: unknown parameter 'gang_atack_rate' (did you mean 'gang_attack_rate'?)"),
    (["draw,arms_interdiction", "0,0.5"], "line 1, column 2: arms_interdiction is a lever"),
    (["draw,gang_attack_rate,gang_attack_rate", "0,1,1"], "column 3: gang_attack_rate is given"),
    (["draw"], "line 1: no parameter columns"),
    (GOOD[:1], "holds no draws"),
    (GOOD[:2] + ["1,2.0,2.0"], "line 3: 3 fields, the header has 4"),
    (GOOD[:2] + ["2,2.0,2.0,1.0"], "line 3, column draw: '2', expected 1"),
    (GOOD[:2] + ["1,2.0,abc,1.0"], "line 3, column combat_steepness: 'abc' is not a number"),
    (GOOD[:3] + ["2,1.0,2.0,99"], "line 4, column police_firepower: 99.0 is out of range: "
                                  "allowed 0.1 to 5"),
    (GOOD[:2] + ["1,nan,2.0,1.0"], "line 3, column gang_attack_rate: must be a finite number"),
])
def test_a_bad_posterior_is_one_message_naming_the_file_line_and_column(tmp_path, lines,
                                                                        message):
    path = tmp_path / "posterior.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(EnsembleError) as caught:
        ensemble.load(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_provenance_that_disagrees_with_the_draws_or_a_missing_file_is_refused(tmp_path):
    shutil.copy(FIXTURE, tmp_path / "posterior.csv")
    (tmp_path / "posterior.json").write_text('{"draws": 200}')
    with pytest.raises(EnsembleError, match="posterior.json: says 200 draws, but posterior.csv "
                                            "holds 4"):
        ensemble.load(tmp_path / "posterior.csv")
    (tmp_path / "posterior.json").write_text("{not json")
    with pytest.raises(EnsembleError, match="posterior.json: not JSON"):
        ensemble.load(tmp_path / "posterior.csv")
    with pytest.raises(EnsembleError, match="nope.csv: cannot read file"):
        ensemble.load(tmp_path / "nope.csv")


def test_without_a_shipped_posterior_runs_fall_back_to_point_mode_with_a_note(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(ensemble, "POSTERIOR", tmp_path / "absent.csv")
    assert ensemble.shipped() is None
    chosen, note = ensemble.choose()
    assert chosen is None and "point mode" in note
    shutil.copy(FIXTURE, tmp_path / "shipped.csv")
    monkeypatch.setattr(ensemble, "POSTERIOR", tmp_path / "shipped.csv")
    chosen, note = ensemble.choose()
    assert note is None and np.array_equal(chosen.values, ensemble.load(FIXTURE).values)
    assert ensemble.choose(point=True) == (None, None)
    assert ensemble.choose(path=FIXTURE)[0] == ensemble.load(FIXTURE)



def test_draws_fitted_to_another_version_of_the_model_carry_a_note(tmp_path):
    shutil.copy(FIXTURE, tmp_path / "posterior.csv")
    provenance = {"draws": 4, "model_sha256": "0" * 64}
    (tmp_path / "posterior.json").write_text(json.dumps(provenance))
    chosen, note = ensemble.choose(path=tmp_path / "posterior.csv")
    assert "fitted to another version of the model" in note and "000000000000" in note
    assert "haiti-sim calibrate" in note
    provenance["model_sha256"] = fingerprint.calibrated_model()
    (tmp_path / "posterior.json").write_text(json.dumps(provenance))
    assert ensemble.choose(path=tmp_path / "posterior.csv")[1] is None
    assert ensemble.stale_note(ensemble.load(FIXTURE)) is None  # no provenance: nothing to say


def test_the_shipped_posterior_was_fitted_to_this_model():
    """Any change of the model's code or data after the fit makes this fail: refit
    (haiti-sim calibrate, scripts/ship_calibration.py) in the same series of commits."""
    assert ensemble.stale_note(ensemble.shipped()) is None


def test_the_model_s_fingerprint_does_not_depend_on_where_the_package_is(tmp_path, monkeypatch):
    copy = tmp_path / "elsewhere" / "sim"
    for part in fingerprint.MODEL_PARTS:
        shutil.copytree(fingerprint.ROOT / part, copy / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    here = fingerprint.model(), fingerprint.calibrated_model()
    monkeypatch.setattr(fingerprint, "ROOT", copy)
    assert (fingerprint.model(), fingerprint.calibrated_model()) == here
    (copy / "model" / "calibrated.py").write_text("# refitted\n")
    assert fingerprint.model() != here[0] and fingerprint.calibrated_model() == here[1]
    (copy / "model" / "world.py").write_text("# changed\n")
    assert fingerprint.calibrated_model() != here[1]


# ------------------------------------------------------------------------------ runs
@pytest.fixture
def shipped(tmp_path, monkeypatch) -> ensemble.Ensemble:
    """The fixture as the shipped posterior (the default of every command)."""
    path = tmp_path / "shipped" / "posterior.csv"
    path.parent.mkdir()
    shutil.copy(FIXTURE, path)
    monkeypatch.setattr(ensemble, "POSTERIOR", path)
    return ensemble.load(path)


@pytest.fixture
def ran(monkeypatch) -> dict[tuple[str, int], dict[str, float]]:
    """The parameters each run of this process ended with, by (label, replicate)."""
    seen = {}
    of = RunOutput.of.__func__

    def recording(cls, label, replicate, seed, model):
        seen[label, replicate] = dict(model.config.parameters)
        return of(cls, label, replicate, seed, model)

    monkeypatch.setattr(RunOutput, "of", classmethod(recording))
    return seen


def two_policies(tmp_path: Path) -> list[str]:
    files = []
    for label, text in (("calm", "  arms_interdiction: 0.1\n"),
                        ("strict", "  arms_interdiction: 0.9\n  gang_attack_rate: 2.0\n")):
        path = tmp_path / f"{label}.yaml"
        path.write_text(f"name: {label}\nbase: {HISTORY}\nbranch: 2023-03-01\nend: 2023-04-30\n"
                        f"parameters:\n{text}")
        files.append(str(path))
    return files


def batch_args(files: list[str], out: Path, *more: str) -> list[str]:
    return ["batch", *files, "-n", "3", "--workers", "1", "--out", str(out), *more]


def test_the_cli_batch_runs_replicate_i_of_every_scenario_under_draw_i_by_default(
        tmp_path, shipped, ran, capsys):
    files = two_policies(tmp_path)
    assert main(batch_args(files, tmp_path / "b")) == 0
    assert "bands include parameter uncertainty" in capsys.readouterr().out
    for replicate in range(3):
        draw = shipped.draw(replicate)
        calm, strict = ran["calm", replicate], ran["strict", replicate]
        assert {n: calm[n] for n in DRAWN} == draw  # every calibrated value is the draw's
        # the same draw in both scenarios, except where one sets a value itself
        assert strict["gang_attack_rate"] == 2.0
        assert all(strict[n] == draw[n] for n in DRAWN if n != "gang_attack_rate")
    assert len({ran["calm", r]["combat_steepness"] for r in range(3)}) == 3
    table = pq.read_table(tmp_path / "b" / "experiments.parquet").to_pydict()
    assert table["draw"] == [0, 0, 1, 1, 2, 2] and table["seed"] == [1, 1, 2, 2, 3, 3]
    described = ResultsDir(tmp_path / "b").read_manifest()["plan"]["ensemble"]
    assert described["mode"] == "ensemble" and described["sha256"] == shipped.sha256


def test_point_mode_runs_every_replicate_at_the_defaults(tmp_path, shipped, ran, capsys):
    files = two_policies(tmp_path)
    assert main(batch_args(files, tmp_path / "b", "--point")) == 0
    assert "point mode" in capsys.readouterr().out
    for replicate in range(3):
        assert {n: ran["calm", replicate][n] for n in DRAWN} == {
            n: PARAMS[n].default for n in DRAWN}
    assert pq.read_table(tmp_path / "b" / "experiments.parquet")["draw"].null_count == 6
    described = ResultsDir(tmp_path / "b").read_manifest()["plan"]["ensemble"]
    assert described == ensemble.POINT


def test_set_and_an_experiments_points_win_over_draws(tmp_path, shipped, ran, capsys):
    files = two_policies(tmp_path)[:1]
    assert main(batch_args(files, tmp_path / "b", "--set", "police_firepower=0.9")) == 0
    assert [ran["calm", r]["police_firepower"] for r in range(3)] == [0.9] * 3
    assert [ran["calm", r]["combat_steepness"] for r in range(3)] == [
        shipped.draw(r)["combat_steepness"] for r in range(3)]
    ran.clear()
    assert main(["experiment", *files, "--vary", "combat_steepness=1.4,2.8", "--design", "grid",
                 "-n", "2", "--workers", "1", "--out", str(tmp_path / "e")]) == 0
    for r in range(2):
        assert ran["calm.s0000", r]["combat_steepness"] == 1.4
        assert ran["calm.s0001", r]["combat_steepness"] == 2.8
        assert ran["calm.s0001", r]["gang_attack_rate"] == shipped.draw(r)["gang_attack_rate"]
    assert pq.read_table(tmp_path / "e" / "experiments.parquet")["draw"].to_pylist() == [
        0, 0, 1, 1]


def test_run_uses_draw_0_or_the_draw_asked_for(tmp_path, shipped, ran, capsys):
    [file] = two_policies(tmp_path)[:1]
    assert main(["run", file, "--out", str(tmp_path / "r")]) == 0
    assert "posterior draw 0 of 4" in capsys.readouterr().out
    assert {n: ran["calm", 0][n] for n in DRAWN} == shipped.draw(0)
    assert main(["run", file, "--draw", "3", "--seed", "4", "--out", str(tmp_path / "r")]) == 0
    assert {n: ran["calm", 0][n] for n in DRAWN} == shipped.draw(3)
    capsys.readouterr()
    for argv, message in ((["--draw", "4"], "draws 0 to 3"), (["--draw", "1", "--point"],
                                                              "cannot go with point mode")):
        assert main(["run", file, "--out", str(tmp_path / "r"), *argv]) == 2
        assert message in capsys.readouterr().err


def test_a_resume_under_other_draws_is_refused_and_one_without_options_uses_the_batchs(
        tmp_path, shipped, capsys):
    files, out = two_policies(tmp_path), tmp_path / "b"
    assert main(["batch", *files, "-n", "1", "--workers", "1", "--out", str(out)]) == 0
    other = tmp_path / "other.csv"
    other.write_text(FIXTURE.read_text().replace("1.2,1.5", "1.3,1.5"))
    capsys.readouterr()
    for more in (["--posterior", str(other)], ["--point"]):
        assert main(["batch", "--resume", "--out", str(out), "-n", "1", *more]) == 2
        err = capsys.readouterr().err
        assert "this batch ran in the posterior ensemble" in err and "Traceback" not in err
    shutil.copy(other, shipped.path)  # the same file, changed: refused by its sha256
    assert main(["batch", "--resume", "--out", str(out)]) == 2
    assert f"sha256 {shipped.sha256[:12]}" in capsys.readouterr().err
    shutil.copy(FIXTURE, shipped.path)
    assert main(["batch", "--resume", "--out", str(out)]) == 0


def test_a_bad_posterior_is_a_user_error_before_anything_runs(tmp_path, capsys):
    bad = tmp_path / "posterior.csv"
    bad.write_text("draw,gang_attack_rate\n0,fast\n")
    files = two_policies(tmp_path)
    assert main(batch_args(files, tmp_path / "b", "--posterior", str(bad))) == 2
    err = capsys.readouterr().err
    assert err == (f"haiti-sim: error: {bad}: line 2, column gang_attack_rate: 'fast' is not a "
                   "number\n")
    assert not (tmp_path / "b").exists()


def test_compare_says_whether_the_bands_include_parameter_uncertainty(tmp_path, shipped):
    files = two_policies(tmp_path)
    assert main(["batch", *files, "-n", "2", "--workers", "1", "--out", str(tmp_path / "e")]) == 0
    assert main(["batch", *files, "-n", "2", "--workers", "1", "--out", str(tmp_path / "p"),
                 "--point"]) == 0
    c = compare.compare([tmp_path / "e"])
    assert not c.notes and "Parameters: posterior ensemble: replicate i uses draw i of 4" in (
        compare.header(c))
    assert "bands include parameter uncertainty" in compare.header(c)
    c = compare.compare([tmp_path / "e", tmp_path / "p"])
    assert any("not paired by parameter draw" in n for n in c.notes)
    assert f"{tmp_path / 'p'}: point mode" in compare.header(c)
