"""The posterior ensemble: loading and checking the file, which draw a replicate uses, and that a
draw never overrides what a scenario sets explicitly.

`fixtures/posterior.csv` is a synthetic posterior of four hand-written draws (not a calibration),
so the tests do not depend on the shipped one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.model import scenario
from sim.model.parameters import PARAMS
from sim.running import ensemble
from sim.running.ensemble import EnsembleError

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
    s = policy(tmp_path, "events:\n  - date: 2023-04-01\n    scale: {police_firepower: 5}\n")
    e = ensemble.load(FIXTURE)
    e.check(s, 1, "policy")  # draw 0: 0.8 x 5 = 4, within 0.1 to 5
    with pytest.raises(EnsembleError, match=r"policy: under draw 1 of .*police_firepower"):
        e.check(s, 2, "policy")  # draw 1: 1.3 x 5 = 6.5


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
