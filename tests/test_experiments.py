"""Experiments (sim.running.design, `batch.Plan.experiment`, `haiti-sim experiment`): designs
drawn from the parameter table, values applied by role, runs identical to the one run function,
and the experiments table that describes every run."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from test_batch import HISTORY, write_policy

from sim.cli import main
from sim.model import scenario
from sim.model.parameters import PARAMS
from sim.running import batch, design, engine
from sim.running.results import ResultsDir, ResultsError


# ------------------------------------------------------------------------------ factors
def test_factors_default_to_the_plausible_range_with_its_prior_or_a_levers_validity_range():
    f = design.Factor.of("gang_attack_rate")
    p = PARAMS["gang_attack_rate"]
    assert (f.low, f.high, f.log) == (*p.plausible, p.prior == "log-uniform")
    lever = design.Factor.of("arms_interdiction")
    assert (lever.low, lever.high) == (PARAMS["arms_interdiction"].low,
                                       PARAMS["arms_interdiction"].high)
    assert f.value(0.0) == pytest.approx(f.low) and f.value(1.0) == pytest.approx(f.high)
    # a log-uniform factor's midpoint is the geometric mean
    assert f.value(0.5) == pytest.approx(np.sqrt(f.low * f.high))
    assert design.Factor.of("gang_count", 20, 300).value(0.333) == round(20 + 0.333 * 280)


@pytest.mark.parametrize("args, needle", [
    (("no_such",), "unknown parameter"),
    (("police_officers",), "starting state"),
    (("mission_mandate",), "choice"),
    (("arms_interdiction", 0.5, 0.2), "must rise"),
    (("arms_interdiction", 0.1, 2.0), "lie within"),
])
def test_bad_factors_are_refused_with_a_message(args, needle):
    with pytest.raises(design.DesignError, match=needle):
        design.Factor.of(*args)


# ------------------------------------------------------------------------------ samplers
def test_latin_hypercube_puts_one_point_in_each_slice_of_every_factor_and_is_seeded():
    factors = [design.Factor.of(n) for n in ("gang_attack_rate", "arms_interdiction",
                                             "reversion_per_day")]
    d = design.latin_hypercube(factors, 20, seed=3)
    slices = np.floor(d.unit_points * 20).astype(int)
    for column in slices.T:
        assert sorted(column) == list(range(20))
    for f in factors:
        values = [point[f.name] for point in d.points]
        assert min(values) >= f.low and max(values) <= f.high
    assert design.latin_hypercube(factors, 20, seed=3).points == d.points
    assert design.latin_hypercube(factors, 20, seed=4).points != d.points


def test_sobol_rounds_up_to_a_power_of_two_and_grid_takes_every_combination():
    factors = [design.Factor.of("gang_attack_rate"), design.Factor.of("loss_rate_loser")]
    assert len(design.sobol(factors, 100, seed=1).points) == 128
    g = design.grid({"arms_interdiction": [0.1, 0.5], "police_intake_per_year": [500, 1000,
                                                                                 2000]})
    assert len(g.points) == 6
    assert {(p["arms_interdiction"], p["police_intake_per_year"]) for p in g.points} == {
        (a, b) for a in (0.1, 0.5) for b in (500.0, 1000.0, 2000.0)}
    with pytest.raises(design.DesignError, match="2 different values"):
        design.grid({"arms_interdiction": [0.1, 0.1]})


def test_every_uncertain_parameter_is_a_factor_of_the_uncertainty_design():
    assert [f.name for f in design.uncertainties()] == [n for n, p in PARAMS.items()
                                                        if p.uncertain]


# ------------------------------------------------------------------------------ plans
@pytest.fixture
def policy(tmp_path) -> str:
    return write_policy(tmp_path, "calm", arms_interdiction=0.1)


def test_points_take_effect_by_role_so_lever_points_share_the_history(policy):
    g = design.grid({"arms_interdiction": [0.2, 0.8], "gang_attack_rate": [1.5, 2.5]})
    plan = batch.Plan.experiment([policy], g, 2)
    assert [label for label, _ in plan.scenarios] == [f"calm.s{k:04d}" for k in range(4)]
    keys = {(p["gang_attack_rate"], p["arms_interdiction"]): engine.history_key(s, 1)
            for (_, s), p in zip(plan.scenarios, g.points, strict=True)}
    assert keys[1.5, 0.2] == keys[1.5, 0.8] != keys[2.5, 0.2] == keys[2.5, 0.8]
    table = plan.experiments_table().to_pylist()
    assert len(table) == 4 * 2
    assert {(r["label"], r["replicate"]) for r in table} == {
        (label, i) for label, _ in plan.scenarios for i in range(2)}
    assert all(r["seed"] == plan.base_seed + r["replicate"] for r in table)


def test_an_experiments_runs_are_the_one_run_functions_and_resume_completes_it(
        tmp_path, policy, monkeypatch):
    g = design.grid({"arms_interdiction": [0.2, 0.8], "gang_attack_rate": [1.5, 2.5]})
    plan = batch.Plan.experiment([policy], g, 2, base_seed=11)
    calls = []
    run = engine.run
    monkeypatch.setattr(engine, "run", lambda task, seed, replicate, **kw: calls.append(
        replicate) or run(task, seed, replicate=replicate, **kw))
    batch.run_batch(plan, tmp_path / "out", workers=1, command="experiment")
    results = ResultsDir(tmp_path / "out")
    manifest = results.read_manifest()
    assert manifest["command"] == "experiment" and manifest["status"] == "complete"
    assert manifest["plan"]["design"]["method"] == "grid"
    assert pq.read_table(results.experiments_path).num_rows == 8
    # the point s0003 (rate 2.5, interdiction 0.8), replicate 1, run on its own
    point = g.points[3]
    alone = scenario.load(policy).with_overrides(point)
    [output] = run([("x", alone)], 12, replicate=1, ensemble=plan.ensemble)
    _, stored = results.read_run("calm.s0003", 1)
    assert np.allclose(output.values[:, output.metrics.index("killed")], stored["killed"])
    # lose two runs; resume runs only those
    for r in manifest["runs"][:2]:
        results.series_path(r["scenario"], r["replicate"]).unlink()
    calls.clear()
    manifest = batch.run_batch(plan, tmp_path / "out", workers=1, resume=True,
                               command="experiment")
    assert manifest["status"] == "complete" and calls == [0]


def test_a_damaged_experiments_table_is_refused_by_name_and_rebuilt_by_resume(
        tmp_path, policy, monkeypatch):
    plan = batch.Plan.experiment([policy], design.grid({"arms_interdiction": [0.2, 0.8]}), 1,
                                 base_seed=5)
    out = tmp_path / "out"
    batch.run_batch(plan, out, workers=1, command="experiment")
    results = ResultsDir(out)
    path = results.experiments_path
    good = path.read_bytes()
    recorded = results.read_manifest()["experiments_file"]
    assert recorded["bytes"] == len(good) and recorded["rows"] == 2
    for damage, needle in [(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:],
                            "does not match its recorded sha256"),
                           (b"", "has 0 bytes, not the")]:
        path.write_bytes(damage)
        with pytest.raises(ResultsError) as refused:
            ResultsDir(out).read_experiments()
        assert str(path) in str(refused.value) and needle in str(refused.value)
        assert f"haiti-sim experiment --resume --out {out}" in str(refused.value)
    calls = []
    monkeypatch.setattr(engine, "run", lambda *a, **k: calls.append(a))
    batch.run_batch(plan, out, workers=1, resume=True, command="experiment")
    assert calls == []  # every run was intact: only the table is written again, as it was
    assert path.read_bytes() == good
    assert ResultsDir(out).read_experiments().num_rows == 2


def test_experiment_command_runs_a_design_and_refuses_bad_input(tmp_path, policy, capsys):
    out = tmp_path / "exp"
    assert main(["experiment", policy, "--vary", "arms_interdiction=0.1:0.9",
                 "--vary", "gang_attack_rate", "--design", "lhs", "--samples", "3",
                 "-n", "1", "--workers", "1", "--out", str(out)]) == 0
    table = ResultsDir(out).read_experiments()
    assert table.num_rows == 3
    assert {"arms_interdiction", "gang_attack_rate"} <= set(table.column_names)
    for args, needle in [
        (["--vary", "nonsense"], "unknown parameter 'nonsense'"),
        (["--vary", "arms_interdiction=0.1,0.5"], "needs --design grid"),
        (["--vary", "arms_interdiction=a:b"], "NAME=LOW:HIGH"),
        (["--vary", "arms_interdiction"], "needs --samples"),
    ]:
        capsys.readouterr()
        code = main(["experiment", policy, *args, "-n", "1", "--out", str(tmp_path / "bad")])
        assert code == 2 and needle in capsys.readouterr().err, args


def test_history_file_is_a_valid_experiment_base():
    """The library's historical record varies its uncertainties from the start."""
    d = design.latin_hypercube(design.uncertainties(), 2, seed=1)
    plan = batch.Plan.experiment([str(HISTORY)], d, 1)
    for (_, s), point in zip(plan.scenarios, d.points, strict=True):
        assert all(s.parameters[n] == v for n, v in point.items())
