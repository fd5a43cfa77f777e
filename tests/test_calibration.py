"""The calibration: ABC-SMC recovers known parameters, is reproducible from its seed, resumes to
the same posterior, screens out parameters that do not matter; the command writes a posterior
and a report; the model's own synthetic record is recovered."""

from __future__ import annotations

import numpy as np
import pytest

from sim.calibration import abc

TRUTH = np.array([0.3, 0.7])  # in the unit cube; dims 2.. do not matter


def toy(noise: float = 0.02):
    """A stochastic simulator of d dims whose first two set the mean of 20 observations."""
    rng_data = np.random.default_rng(0)
    observed = TRUTH[None, :] + noise * rng_data.standard_normal((20, 2))
    obs_mean = observed.mean(axis=0)

    def evaluate(unit, seeds):
        out = []
        for u, s in zip(unit, seeds, strict=True):
            rng = np.random.default_rng(int(s))
            sim = u[None, :2] + noise * rng.standard_normal((20, 2))
            out.append(np.abs(sim.mean(axis=0) - obs_mean) / (noise / np.sqrt(20)))
        parts = np.array(out)
        return abc.Evaluations(parts.sum(axis=1), parts, parts)

    return evaluate


SETTINGS = abc.Settings(particles=100, seed=3, round_size=50, first_multiple=4)


def posterior_interval(g: abc.Generation, dim: int) -> tuple[float, float]:
    draws = g.unit[abc.resample(g, 400, 0), dim]
    return tuple(np.quantile(draws, [0.05, 0.95]))


def test_recovers_known_parameters_and_narrows_only_those_that_matter():
    gens = abc.calibrate(toy(), 5, SETTINGS, budget=4000)
    last = gens[-1]
    assert len(gens) >= 4
    assert last.adapted[:2].all()  # an irrelevant one may be adapted by chance: harmless
    for d in (0, 1):
        lo, hi = posterior_interval(last, d)
        assert lo <= TRUTH[d] <= hi, (d, lo, hi)
        assert hi - lo < 0.2  # narrowed from the prior's 0.9
    for d in (2, 3, 4):  # irrelevant: stays at its prior
        lo, hi = posterior_interval(last, d)
        assert hi - lo > 0.7
    # the thresholds fall, and the fit improves on the prior sample
    eps = [g.epsilon for g in gens]
    assert all(b <= a for a, b in zip(eps, eps[1:], strict=False))
    assert np.median(last.evaluations.distance) < 0.25 * np.median(gens[0].evaluations.distance)
    assert sum(g.simulations for g in gens) <= 4000
    assert np.isclose(last.weights.sum(), 1) and (last.weights > 0).all()


def test_screening_adapts_what_matters_and_rarely_what_does_not():
    false_positives = 0
    for seed in range(20):
        u = np.random.default_rng(seed).random((400, 5))
        adapted = abc.screen(u, toy()(u, np.arange(400) + 1000 * seed), 0.02)
        assert adapted[:2].all()
        false_positives += adapted[2:].any()
    assert false_positives <= 2  # the permutation test's family-wise rate is about 1%


def test_same_seed_same_posterior_and_another_seed_another():
    a = abc.calibrate(toy(), 3, SETTINGS, budget=1500)[-1]
    b = abc.calibrate(toy(), 3, SETTINGS, budget=1500)[-1]
    c = abc.calibrate(toy(), 3, abc.Settings(**{**SETTINGS.__dict__, "seed": 4}), budget=1500)[-1]
    assert np.array_equal(a.unit, b.unit) and np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.unit, c.unit)


def test_an_interrupted_calibration_resumes_to_the_same_posterior(tmp_path):
    whole = abc.calibrate(toy(), 3, SETTINGS, budget=2500)
    store = abc.Store(tmp_path / "cal")
    store.start({"x": 1}, resume=False)
    calls = []

    def counting(unit, seeds):
        calls.append(len(unit))
        return toy()(unit, seeds)

    part = abc.calibrate(counting, 3, SETTINGS, budget=900, store=store)
    assert len(part) < len(whole)
    spent_before = sum(calls)
    store.start({"x": 1}, resume=True)
    resumed = abc.calibrate(counting, 3, SETTINGS, budget=2500, store=store)
    assert len(resumed) == len(whole)
    assert np.array_equal(resumed[-1].unit, whole[-1].unit)
    # nothing saved was simulated again
    assert sum(calls) - spent_before == sum(g.simulations for g in whole) - sum(
        g.simulations for g in part)
    with pytest.raises(ValueError, match="other settings"):
        store.start({"x": 2}, resume=True)
    with pytest.raises(FileExistsError, match="--resume"):
        store.start({"x": 1}, resume=False)


def test_a_damaged_round_is_simulated_again(tmp_path):
    store = abc.Store(tmp_path)
    store.start({}, resume=False)
    abc.calibrate(toy(), 2, SETTINGS, budget=400, store=store)
    path = tmp_path / "g00_r0001.npz"
    path.write_bytes(path.read_bytes()[:100])
    assert store.round(0, 1) is None and not path.exists()


def test_failed_runs_are_rejected():
    def some_fail(unit, seeds):
        ev = toy()(unit, seeds)
        bad = unit[:, 0] > 0.9
        ev.distance[bad] = np.inf
        return ev

    last = abc.calibrate(some_fail, 2, SETTINGS, budget=1500)[-1]
    assert np.isfinite(last.evaluations.distance).all()
    assert (last.unit[:, 0] <= 0.9).all()


def test_settings_refuse_nonsense():
    with pytest.raises(ValueError, match="particles"):
        abc.Settings(particles=2)
    with pytest.raises(ValueError, match="alpha"):
        abc.Settings(alpha=1.5)


def test_resampling_follows_the_weights():
    g = abc.Generation(0, 1.0, np.arange(4.0)[:, None], np.array([0.5, 0.25, 0.25, 0.0]),
                       abc.Evaluations(np.zeros(4), np.zeros((4, 1)), np.zeros((4, 1))), 4,
                       np.array([True]))
    counts = np.bincount(abc.resample(g, 400, 1), minlength=4)
    assert counts.tolist() == [200, 100, 100, 0]


# ---- the model itself: parameter recovery on a synthetic record --------------------------

RECOVERED = ("kidnappings_per_member_per_year", "gang_recruits_per_1000_residents_per_year")


@pytest.fixture(scope="module")
def recovery(tmp_path_factory):
    """A calibration of two parameters against the record one run at known values made."""
    from sim.analysis import targets
    from sim.calibration import fit, posterior, report
    from sim.calibration.problem import OBSERVE, Problem
    from sim.running import engine

    problem = Problem.of("scenarios/history.yaml", only=RECOVERED)
    truth_unit = np.array([0.3, 0.7])
    truth = problem.point(truth_unit)
    outputs = engine.run([("truth", problem.scenario.with_overrides(truth))], 12345,
                         observe=OBSERVE)
    record = targets.synthetic(targets.evaluate_outputs(outputs).simulated[:, 0])
    problem = Problem.of("scenarios/history.yaml", only=RECOVERED, record=record)
    out = tmp_path_factory.mktemp("recovery")
    settings = abc.Settings(particles=30, round_size=32, first_multiple=3, seed=2)
    fit.calibrate(problem, out, settings, budget=420, workers=2)
    generations = abc.Store(out).generations()
    found = posterior.write(out, problem, generations, settings, n_draws=60)
    report.write(out, problem, generations, found)
    return problem, truth_unit, generations, found, out


def test_the_model_s_own_parameters_are_recovered(recovery):
    problem, truth_unit, generations, found, _ = recovery
    last = generations[-1]
    assert len(generations) >= 3
    for j, m in enumerate(found):
        lo, hi = posterior_interval(last, j)
        assert lo <= truth_unit[j] <= hi, (m.name, lo, truth_unit[j], hi)
        assert m.width_ratio < 0.7, m  # the record narrows both
    # the fit improves on the prior sample within the small budget
    assert np.median(last.evaluations.distance) < np.median(generations[0].evaluations.distance)


def test_the_calibration_writes_its_posterior_and_report(recovery):
    import json

    from sim.running import ensemble

    problem, _, generations, found, out = recovery
    meta = json.loads((out / "posterior.json").read_text())
    assert meta["draws"] == 60 and meta["parameters"] == list(RECOVERED)
    assert meta["simulations"] == sum(g.simulations for g in generations)
    loaded = ensemble.load(out / "posterior.csv")  # the file the package ships, as it reads it
    assert len(loaded) == 60 and set(loaded.names) == set(RECOVERED)
    report = (out / "report.md").read_text()
    assert "| generation | epsilon |" in report and "kidnappings_per_member_per_year" in report
    assert (out / "figures" / "fit.png").stat().st_size > 1000


def test_the_command_refuses_a_budget_too_small_and_a_used_folder(tmp_path, capsys):
    from sim.cli import main

    assert main(["calibrate", "--out", str(tmp_path), "--budget", "100"]) == 2
    assert "--budget 100 is too small" in capsys.readouterr().err
    assert main(["calibrate", "--out", str(tmp_path), "--draws", "0"]) == 2
    assert "--draws 0: give at least 1" in capsys.readouterr().err
    assert not (tmp_path / "calibration.json").exists()  # refused before anything ran
    (tmp_path / "calibration.json").write_text("{}")
    assert main(["calibrate", "--out", str(tmp_path), "--budget", "2560"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_the_shipped_defaults_are_the_medians_of_the_shipped_draws():
    """scripts/ship_calibration.py writes both halves: the draws the ensemble runs and the
    medians the parameter table takes as defaults; shipping one without the other is caught."""
    import json

    from sim.model.calibrated import POSTERIOR
    from sim.model.parameters import PARAMS
    from sim.running import ensemble

    shipped = ensemble.shipped()
    if shipped is None:
        assert POSTERIOR == {}
        return
    meta = json.loads(ensemble.POSTERIOR.with_suffix(".json").read_text())
    assert len(shipped) == meta["draws"] >= 200
    assert set(shipped.names) == set(POSTERIOR) == set(meta["parameters"])
    for name in shipped.names:
        values = np.array([shipped.draw(i)[name] for i in range(len(shipped))])
        median, q05, q95, _ = POSTERIOR[name]
        assert np.isclose(np.median(values), median, rtol=1e-5), name
        assert np.isclose(np.quantile(values, 0.05), q05, rtol=1e-5), name
        expected = round(median) if PARAMS[name].integer else median
        assert PARAMS[name].default == pytest.approx(expected) and PARAMS[name].calibrated
