"""Histories kept on disk (`sim.running.histories`): a run from a kept history is the run that
simulates it, a damaged or foreign file is never used, the store stays within its limit, and a
target search's later searches start from the histories its first one kept."""

from __future__ import annotations

import json
import pickle
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.model import geography, scenario
from sim.running import engine, histories
from sim.running.histories import Store

HISTORY = Path(__file__).resolve().parents[1] / "scenarios" / "history.yaml"


@pytest.fixture(scope="module")
def policy(tmp_path_factory) -> scenario.Scenario:
    """A short policy on a short record: 60 days of history, 30 of policy."""
    path = tmp_path_factory.mktemp("policy") / "short.yaml"
    path.write_text(f"name: Short\nbase: {HISTORY}\nbranch: 2023-03-02\nend: 2023-03-31\n"
                    "parameters:\n  funding_mission_us: 1000000000\n"
                    "  mission_troops_target: 800\n")
    return scenario.load(path)


def same(a, b) -> bool:
    return (np.array_equal(a.values, b.values) and a.owner_is_gang is not None
            and np.array_equal(a.owner_is_gang, b.owner_is_gang))


def test_a_run_from_a_kept_history_is_the_run_that_simulates_it(tmp_path, policy):
    store = Store(tmp_path)
    other = policy.with_overrides({"mission_troops_target": 2000})
    [simulated] = engine.run([("a", other)], 3)
    engine.run([("a", policy)], 3, histories=store)  # keeps the history
    assert len(list(tmp_path.iterdir())) == 1
    days = []
    [kept] = engine.run([("a", other)], 3, histories=Store(tmp_path), progress=days.append)
    assert same(kept, simulated)
    assert sum(days) == policy.days - (policy.branch - policy.start).days  # the policy's only
    # another seed is another history
    engine.run([("a", other)], 4, histories=store)
    assert len(list(tmp_path.iterdir())) == 2


def test_the_geography_is_kept_by_reference_not_copied(policy):
    from sim.model.world import HaitiModel

    model = HaitiModel(policy, 1)
    assert len(histories.dumps(model)) < len(pickle.dumps(model)) - 500_000
    back = histories.loads(histories.dumps(model))
    assert back.geo is geography.load() and back.world.edge_ptr is geography.load().edge_ptr


def test_a_damaged_file_counts_as_missing_and_is_removed(tmp_path, policy):
    store = Store(tmp_path)
    [first] = engine.run([("a", policy)], 5, histories=store)
    [path] = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    [again] = engine.run([("a", policy)], 5, histories=store)
    assert same(again, first)
    [path] = tmp_path.iterdir()  # simulated again and kept whole
    assert pickle.loads(zlib.decompress(path.read_bytes()))


def test_another_version_of_the_model_never_finds_a_history(tmp_path, policy, monkeypatch):
    store = Store(tmp_path)
    key = engine.history_key(policy, 1)
    store[key] = (b"model", [])
    assert store[key] == (b"model", [])
    monkeypatch.setattr(histories, "_model_sha", lambda: "another model")
    with pytest.raises(KeyError):
        store[key]


def test_the_store_drops_the_histories_used_longest_ago_past_its_limit(tmp_path,
                                                                       monkeypatch):
    import os

    monkeypatch.setattr(histories, "TRIM_EVERY", 1)  # check the size on every write
    store = Store(tmp_path, limit_bytes=2_500)
    blob = np.random.default_rng(0).bytes(1_000)  # incompressible: ~1 kB a file
    store["a"] = (blob, [])
    store["b"] = (blob, [])
    for name, age in (("a", 20), ("b", 10)):
        path = store._path(name)
        os.utime(path, (path.stat().st_atime - age, path.stat().st_mtime - age))
    store["a"]  # used now: b is the older
    store["c"] = (blob, [])
    assert store._path("a").is_file() and store._path("c").is_file()
    assert not store._path("b").is_file()


def test_a_run_that_observes_maps_does_not_take_a_history_kept_without_them(tmp_path, policy):
    store = Store(tmp_path)
    engine.run([("a", policy)], 2, histories=store)  # kept without maps
    monthly = engine.Observe(monthly_maps=True)
    [kept] = engine.run([("a", policy)], 2, observe=monthly, histories=store)
    [simulated] = engine.run([("a", policy)], 2, observe=monthly)
    assert np.array_equal(kept.held_bits, simulated.held_bits)
    assert np.array_equal(kept.snapshot_steps, simulated.snapshot_steps)


def test_the_store_is_the_users_cache_unless_told_otherwise(monkeypatch, tmp_path):
    monkeypatch.setenv("HAITI_SIM_CACHE", "off")
    assert histories.store() is None
    monkeypatch.setenv("HAITI_SIM_CACHE", str(tmp_path))
    assert histories.store().folder == tmp_path / "histories"
    monkeypatch.delenv("HAITI_SIM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert histories.store().folder == tmp_path / "xdg" / "haiti-sim" / "histories"


def test_a_second_search_starts_from_the_histories_the_first_kept(tmp_path, monkeypatch,
                                                                 capsys):
    monkeypatch.setenv("HAITI_SIM_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "short.yaml"
    path.write_text(f"name: Short policy\nbase: {HISTORY}\nbranch: 2023-03-01\n"
                    "end: 2023-05-31\nparameters:\n  funding_mission_us: 1000000000\n"
                    "  mission_mandate: 1\n")
    args = ["target", str(path), "--lever", "mission_troops_target", "--metric", "troops",
            "--above", "300", "--by", "2023-05-31", "--probability", "0.8", "--low", "0",
            "--high", "600", "--workers", "2", "-n", "12"]
    answers = []
    for out in ("first", "second"):
        assert main([*args, "--out", str(tmp_path / out)]) == 0
        answers.append(capsys.readouterr().out.strip().splitlines()[-1])
    assert re.match(r"answer: ", answers[0]) and answers[1] == answers[0]
    kept = list((tmp_path / "cache" / "histories").iterdir())
    replicates = json.loads((tmp_path / "first" / "target.json").read_text())["replicates"]
    assert len(kept) == replicates  # one history a replicate, kept by the first search only


def test_only_plans_whose_histories_others_ask_for_again_keep_them():
    from sim.running import batch, design

    gsf = str(HISTORY.parent / "gsf_full.yaml")
    over_levers = design.grid({"mission_troops_target": [1000, 2000]})
    over_the_world = design.grid({"gang_cash_reserve_months": [2.0, 4.0]})
    assert batch.Plan.experiment([gsf], over_levers, 1, ensemble=None).shares_histories
    assert not batch.Plan.experiment([gsf], over_the_world, 1, ensemble=None).shares_histories
    assert not batch.Plan.from_files([str(HISTORY)], 1, ensemble=None).shares_histories
