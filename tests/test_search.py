"""The target search (`sim.analysis.search`) on toy responses whose answer is known, its
refusals, and `haiti-sim target` end to end on short scenarios: alone and with levers moved
together, interrupted and resumed, and against a brute-force grid of the same lever on the
model."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.analysis import compare, search, stats
from sim.analysis.goals import Goal
from sim.analysis.search import ALREADY, FOUND, NOT_REACHED, Settings
from sim.cli import main
from sim.model import scenario
from sim.running import batch, engine, levels
from sim.running.results import ResultsDir, RunOutput

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "scenarios" / "history.yaml"


def toy(p, seed: int):
    """`evaluate` for a response `p(level)` under common random numbers: replicate r meets the
    goal at a level wherever its own uniform draw lies below p there (so, at every level above
    its own threshold). Records every (level, replicate) asked for."""
    draws = np.random.default_rng(seed).random(10_000)
    asked = []

    def evaluate(levels, replicates):
        asked.extend((float(lv), int(r)) for lv in levels for r in replicates)
        return draws[replicates][:, None] < p(np.asarray(levels))[None, :]

    return evaluate, asked


def logistic(answer: float, width: float, at: float):
    """A rising logistic curve that crosses `at` at `answer`."""
    middle = answer - width * math.log(at / (1 - at))
    return lambda x: 1 / (1 + np.exp(-(x - middle) / width))


def test_the_search_finds_the_known_answer_of_a_monotone_response():
    truth, covered, errors = 6000.0, 0, []
    for seed in range(8):
        evaluate, asked = toy(logistic(truth, 400, 0.8), seed)
        result = search.search(evaluate, 0, 20_000, 0.8, Settings(integer=True, seed=seed))
        assert result.status == FOUND
        lo, hi = result.interval
        covered += lo <= truth <= hi
        errors.append(result.answer - truth)
        p, p_low, p_high = result.p_at
        assert p_low <= 0.8 <= p_high and (p_high - p_low) / 2 <= 0.055
        # each (level, replicate) runs once, and each level's replicates are 0..n-1
        assert len(asked) == len(set(asked)) == result.runs
        for pt in result.points:
            assert sorted(r for lv, r in asked if lv == pt.level) == list(range(pt.n))
        # the replicates went where the curve crosses P, not to the coarse grid
        near = sum(pt.n for pt in result.points if abs(pt.level - truth) < 1000)
        assert near > result.runs / 2
    # The bootstrap's 90% interval covers the truth in about 3 of 4 searches of this toy (30 of
    # 40 seeds; the adaptive design follows its sample): 5 of these 8 seeds is what it gives.
    assert covered >= 5, errors
    assert np.median(np.abs(errors)) < 150, errors


def test_a_step_response_is_bisected_to_a_whole_unit():
    evaluate, _ = toy(lambda x: (x >= 3217).astype(float), 1)
    result = search.search(evaluate, 0, 10_000, 0.8, Settings(integer=True))
    assert (result.status, result.answer, result.interval) == (FOUND, 3217.0, (3216.0, 3217.0))
    assert result.runs < 300  # bisection on the first round's replicates


def test_a_goal_out_of_reach_or_reached_already_is_said_so():
    evaluate, _ = toy(lambda x: np.full(len(x), 0.3), 2)
    result = search.search(evaluate, 0, 1, 0.8)
    assert result.status == NOT_REACHED and result.answer is None and result.p_at[2] < 0.8
    evaluate, _ = toy(lambda x: np.full(len(x), 0.97), 3)
    result = search.search(evaluate, 0, 1, 0.8)
    assert result.status == ALREADY and result.p_at[1] >= 0.8


@pytest.mark.parametrize("args, message", [
    ((0, 1, 0.0), "strictly between 0 and 1"),
    ((0, 1, 1.0), "strictly between 0 and 1"),
    ((5, 5, 0.5), "must be below --high"),
    ((6, 5, 0.5), "must be below --high"),
])
def test_bad_input_is_refused(args, message):
    evaluate, asked = toy(lambda x: x, 0)
    with pytest.raises(search.SearchError, match=message):
        search.search(evaluate, *args)
    assert not asked


def test_the_isotonic_fit_pools_violators():
    assert search.isotonic(np.array([0.1, 0.5, 0.3, 0.9]), np.array([1, 1, 1, 2])).tolist() \
        == pytest.approx([0.1, 0.4, 0.4, 0.9])


def test_a_line_sets_every_lever_at_each_value_and_the_answer_says_them():
    line = search.line("mission_troops_target", 2000, 12_000,
                       {"funding_mission_others": (0.7e9, 3.5e9), "mission_troop_ceiling": (2000,
                                                                                          12_000)})
    assert line.values(7000) == {"mission_troops_target": 7000, "funding_mission_others": 2.1e9,
                                 "mission_troop_ceiling": 7000}
    [funding, ceiling] = line.describe()["with"]
    assert funding["slope"] == pytest.approx(280_000) and funding["intercept"] == pytest.approx(
        0.14e9)
    assert (ceiling["intercept"], ceiling["slope"]) == (0, 1)
    evaluate, _ = toy(logistic(6000, 400, 0.8), 0)
    result = search.search(evaluate, 2000, 12_000, 0.8, Settings(integer=True))
    _, answer = search.summary(result, search.lever("mission_troops_target"),
                               Goal.of("troops", 1, dt.date(2027, 1, 1), below=False), 0.05, line)
    lo, hi = result.interval
    alone = (f"answer: mission_troops_target = {result.answer:.0f} (90% interval {lo:.0f} to "
             f"{hi:.0f})")
    money = search.show_value("funding_mission_others", line.values(result.answer)[
        "funding_mission_others"])
    assert answer == f"{alone}; with funding_mission_others = {money}, mission_troop_ceiling = " \
                     f"{result.answer:.0f}"
    assert money.startswith("$") and money.endswith(" bn")
    saved = search.to_dict(result, line)["line"]
    assert saved["answer"] == line.values(result.answer)
    assert saved["interval"] == [line.values(lo), line.values(hi)]
    assert saved["points"] == [line.values(pt.level) for pt in result.points]
    assert search.table(result, "mission_troops_target", True, line).headers == [
        "mission_troops_target", "funding_mission_others", "mission_troop_ceiling", "replicates",
        "chance"]


@pytest.mark.parametrize("follow, message", [
    ({"funding_mission_others": (0, 70e9)}, "--with funding_mission_others: the line gives it "
     "$70.0 bn at --high (12000), outside its allowed range, $0 to $60.0 bn (USD/year)"),
    ({"gang_attack_rate": (0.1, 0.2)}, "--with gang_attack_rate is an uncertainty, not a lever"),
    ({"mission_troops_target": (1, 2)}, "it is the lever searched"),
    ({"funding_mission_other": (1, 2)}, "did you mean 'funding_mission_others'"),
])
def test_a_line_that_leaves_the_table_is_refused_naming_the_option(follow, message):
    with pytest.raises(search.SearchError) as refused:
        search.line("mission_troops_target", 2000, 12_000, follow)
    assert message in str(refused.value)


def test_a_run_is_reduced_to_whether_it_meets_the_goal_flows_counted_from_the_origin():
    start = dt.date(2026, 1, 1)
    metrics = ("capital_gang_share_area", "killed")
    values = np.column_stack([np.full(10, 0.6), np.ones(10)])  # one killed a day
    out = RunOutput("x", 0, 1, start, metrics, values, np.zeros(3, bool))
    origin = start + dt.timedelta(days=2)
    # from the origin to day 6: 5 killed, not below 5; to day 5: 4, below 5
    assert not search.MeetsGoal(Goal.of("killed", 5, start + dt.timedelta(days=6)), origin)(out)
    assert search.MeetsGoal(Goal.of("killed", 5, start + dt.timedelta(days=5)), origin)(out)
    assert not search.MeetsGoal(Goal.of("capital_gang_share_area", 0.5, start), origin)(out)


# ---------------------------------------------------------------------------- the command line
@pytest.fixture
def policy(tmp_path) -> str:
    path = tmp_path / "short.yaml"
    path.write_text(f"name: Short policy\nbase: {HISTORY}\nbranch: 2023-03-01\nend: 2023-05-31\n"
                    "parameters:\n  funding_mission_us: 1000000000\n  mission_mandate: 1\n")
    return str(path)


TARGET = ["--lever", "mission_troops_target", "--metric", "troops", "--above", "300",
          "--by", "2023-05-31", "--probability", "0.8"]


def test_target_end_to_end_on_a_short_scenario(tmp_path, policy, capsys):
    out = tmp_path / "t"
    # in point mode: under the posterior the money's disbursement (its share and lag) is
    # uncertain, and a draw may deploy fewer troops than its target in three months
    assert main(["target", policy, *TARGET, "--low", "0", "--high", "600", "--workers", "1",
                 "-n", "12", "--point", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    found = re.fullmatch(r"answer: mission_troops_target = (\S+) \(90% interval (\S+) to "
                         r"(\S+)\)", printed[-1])
    assert found, printed[-1]
    answer, lo, hi = map(float, found.groups())
    # deploying is deterministic at the defaults: more than 300 troops by the date once the
    # target is
    assert lo <= 300 <= hi and 300 < answer <= 301  # above 300, to a thousandth of the range
    saved = json.loads((out / "target.json").read_text())
    assert saved["lever"]["name"] == "mission_troops_target" and saved["status"] == "found"
    assert saved["answer"] == pytest.approx(answer, abs=0.05) and saved["goal"]["mode"] == "at"
    assert {"level", "n", "p", "low", "high"} <= set(saved["points"][0])
    assert "<svg" in (out / "target.html").read_text()


def test_target_moves_the_levers_of_the_line_and_records_them(tmp_path, policy, capsys):
    out = tmp_path / "t"
    assert main(["target", policy, *TARGET, "--low", "0", "--high", "600", "--workers", "1",
                 "-n", "12", "--with", "funding_mission_others=280000", "--with",
                 "mission_troop_ceiling=0:600", "--out", str(out)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    found = re.fullmatch(r"answer: mission_troops_target = (\S+) \(90% interval \S+ to \S+\); "
                         r"with funding_mission_others = \$(\S+) M, mission_troop_ceiling = "
                         r"(\S+)", last)
    assert found, last
    answer, money, ceiling = map(float, found.groups())
    # the ceiling follows the target one for one, so the answer is the single lever's
    assert 300 < answer <= 301 and ceiling == answer
    assert money == pytest.approx(280_000 * answer / 1e6, abs=0.05)
    line = json.loads((out / "target.json").read_text())["line"]
    assert line["with"][0]["slope"] == 280_000 and line["with"][1]["at_high"] == 600
    assert line["answer"]["mission_troop_ceiling"] == pytest.approx(answer, abs=0.05)
    assert len(line["points"]) == len(json.loads((out / "target.json").read_text())["points"])



def test_a_goal_not_reached_under_a_cap_says_so_beside_the_answer(tmp_path, policy, capsys):
    assert main(["target", policy, *TARGET, "--low", "0", "--high", "600", "--workers", "1",
                 "-n", "12", "--set", "mission_troop_ceiling=200",
                 "--out", str(tmp_path / "t")]) == 0
    printed = capsys.readouterr()
    assert "mission_troop_ceiling" in printed.err  # the cap's note, at the start
    last = printed.out.strip().splitlines()
    assert last[-1].startswith("answer: not reached")
    assert any("is capped" in line and "within the cap" in line for line in last[:-1])

# A search of a few rounds with a curve that is not a step: the app's tiny problem (less than 67%
# of the capital held by gangs at the end of May 2023, with a chance of 60%, +-10 points: three
# rounds and 108 runs on session 13's posterior, where 72% was reached in one round).
CHANCY = ["--lever", "arms_interdiction", "--metric", "capital_gang_share_area", "--below",
          "0.67", "--by", "2023-05-31", "--probability", "0.6", "--precision", "0.1", "-n", "36",
          "--workers", "1"]


def test_an_interrupted_search_resumes_from_its_runs_to_the_same_answer(tmp_path, policy,
                                                                        capsys, monkeypatch):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["target", policy, *CHANCY, "--out", str(whole)]) == 0
    uninterrupted = json.loads((whole / "target.json").read_text())
    assert uninterrupted["rounds"] >= 3
    # Ctrl-C in the middle of a round, after 40 runs are recorded
    recorded, add = [], batch.Recording.add

    def add_then_stop(recording, outputs):
        if len(recorded) >= 40:
            raise KeyboardInterrupt
        recorded.extend(outputs)
        add(recording, outputs)

    monkeypatch.setattr(batch.Recording, "add", add_then_stop)
    assert main(["target", policy, *CHANCY, "--out", str(cut)]) == 130
    assert f"runs are kept in {cut}: continue the search with the same command and --resume" \
        in capsys.readouterr().err
    assert ResultsDir(cut).read_manifest()["status"] == "interrupted"
    assert not (cut / "target.json").exists()
    monkeypatch.setattr(batch.Recording, "add", add)
    assert main(["target", policy, *CHANCY, "--resume", "--out", str(cut)]) == 0
    resumed = json.loads((cut / "target.json").read_text())
    for key in ("status", "answer", "interval", "p_at", "points", "runs", "rounds"):
        assert resumed[key] == uninterrupted[key], key
    # only the runs the interrupted search had not recorded ran again
    assert resumed["runs_this_session"] == uninterrupted["runs"] - 40
    # the runs are a batch's: compare reads them, one scenario per value run
    manifest = ResultsDir(cut).read_manifest()
    assert manifest["status"] == "complete" and len(manifest["resumed"]) == 1
    scenarios, _, _ = compare.load([cut])
    assert sorted(len(s.replicates) for s in scenarios) == sorted(
        pt["n"] for pt in resumed["points"])
    experiments = ResultsDir(cut).read_experiments().to_pylist()
    assert {row["arms_interdiction"] for row in experiments} == {
        pt["level"] for pt in resumed["points"]}


def test_a_resume_that_asks_something_else_is_refused_naming_it(tmp_path, policy, capsys):
    out = tmp_path / "t"
    argv = ["target", policy, *CHANCY, "-n", "12", "--precision", "0.2", "--out", str(out)]
    assert main(argv) == 0
    for change, message in [
            (["--probability", "0.7"], "--probability was 0.6 in the search in"),
            (["--by", "2023-05-30"], "the goal was Gang-held share of Port-au-Prince (area) "
             "below 67.0% on 2023-05-31 in the search in"),
            (["--with", "police_intake_per_year=0:900"], "--with was nothing in the search in"),
            (["--seed", "9"], "base_seed was 1 in this batch, not 9"),
            (["--set", "police_intake_per_year=900"], "overrides was {} in this batch")]:
        capsys.readouterr()
        changed = list(argv)
        option, value = change
        if option in changed:
            changed[changed.index(option) + 1] = value
        else:
            changed += change
        assert main([*changed, "--resume"]) == 2, change
        assert message in capsys.readouterr().err, change
    assert main(argv) == 2  # the same search again needs --resume
    assert "already holds a batch; add --resume" in capsys.readouterr().err


# A lever whose effect is smooth and noisy within three months: the mission's troops against the
# gangs' share of the capital, with the money, the ceiling and the pace out of the way (at 4,000
# troops about three runs in four end below 60%, at 2,000 none, at 8,000 all).
TROOPS = """name: Troops against the capital
base: {history}
branch: 2023-03-01
end: 2023-05-31
parameters:
  mission_mandate: 1
  funding_mission_us: 30000000000
  mission_troop_ceiling: 100000
  mission_deploy_troops_per_month: 20000
"""


def test_the_target_agrees_with_a_brute_force_grid_of_the_same_lever(tmp_path):
    path = tmp_path / "troops.yaml"
    path.write_text(TROOPS.format(history=HISTORY))
    probability, by = 0.8, dt.date(2023, 5, 31)
    assert main(["target", str(path), "--lever", "mission_troops_target", "--low", "0",
                 "--high", "8000", "--metric", "capital_gang_share_area", "--below", "0.64",
                 "--by", by.isoformat(), "--probability", str(probability), "--precision",
                 "0.1", "-n", "64", "--point", "--seed", "1", "--workers", "1",
                 "--out", str(tmp_path / "t")]) == 0
    found = json.loads((tmp_path / "t" / "target.json").read_text())
    assert found["status"] == FOUND
    # The brute force: every value of a grid around the crossing on each of 60 replicates with
    # other seeds (10,001 on; the search's are 1 to 64), in memory through the one run function.
    troops, replicates = np.arange(3000.0, 8001, 500), 60
    s = scenario.load(path)
    meets = search.MeetsGoal(Goal.of("capital_gang_share_area", 0.64, by), s.branch)
    met = np.array([[meets(out) for out in engine.run(levels.lever_scenarios(
        s, [{"mission_troops_target": v} for v in troops]), 10_001 + r, replicate=r)]
        for r in range(replicates)])
    # Its crossing interval: from the last value whose runs put the chance below P to the
    # first whose runs put it at P or above, each at 99% (Wilson, z = 2.576). Of 60 binomial
    # replicates that takes at most 40 meeting the goal (67%) for below and at least 56 (93%)
    # for above, so the true crossing lies inside unless one of the two bracketing bounds errs
    # (at most 0.5% each), and each end lies where the chance is 13 points or more from P: on
    # this curve (about 20 points per 1,000 troops near P) 500 troops or more from the
    # crossing. The search has its own noise, which its 90% interval states: on session 13's
    # model its replicates (seeds 1 to 64) answer 3,893 (3,371 to 4,361), where seeds from 10,001
    # and 20,001 answer 4,486 and 4,609 and the grid puts the crossing between 4,000 and 5,500.
    # So the interval must reach into the bracket: an interval wholly outside it would be a bias
    # of the search (both hold the true crossing unless a 10% or a 1% chance fails).
    z99 = 2.5758
    bounds = [stats.wilson(int(k), replicates, z99) for k in met.sum(axis=0)]
    below = [v for v, (_, high) in zip(troops, bounds, strict=True) if high < probability]
    above = [v for v, (low, _) in zip(troops, bounds, strict=True) if low >= probability]
    assert below and above and max(below) < min(above), met.mean(axis=0)
    lo, hi = found["interval"]
    assert lo < found["answer"] < hi
    assert max(below) < hi and lo < min(above), (found["interval"], met.mean(axis=0))
    # and adaptively it took fewer runs than the grid
    assert found["runs"] < met.size


@pytest.mark.parametrize("change, message", [
    ({"--lever": "mission_troop_target"}, "did you mean 'mission_troops_target'"),
    ({"--with": "funding_mission_others=1e9:70e9"}, "the line gives it $70.0 bn at --high"),
    ({"--with": "funding_mission_others"}, "write NAME=A:B (A at --low, B at --high)"),
    ({"--with": "mission_troop_ceiling=1", "--set": "mission_troop_ceiling=9"},
     "--with mission_troop_ceiling and --set mission_troop_ceiling"),
    ({"--lever": "gang_attack_rate"}, "an uncertainty, not a lever"),
    ({"--lever": "mission_mandate"}, "a choice among names"),
    ({"--metric": "troop"}, "no outcome is named 'troop'"),
    ({"--by": "2024-01-01"}, "outside the run"),
    ({"--by": "2023-02-01"}, "before the branch date"),
    ({"--probability": "1.2"}, "between 0 and 1"),
    ({"--low": "500", "--high": "100"}, "must rise"),
    ({"--sustained-days": "0"}, "1 or more"),
])
def test_target_user_errors_are_one_message(tmp_path, policy, capsys, change, message):
    argv = list(TARGET)
    for option, value in change.items():
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
    assert main(["target", policy, *argv, "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("haiti-sim: error: ") and "Traceback" not in err
    assert message in err
    assert not (tmp_path / "t").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_lever_notes_name_every_cap_on_the_troops_searched():
    from sim.model import scenario

    gsf = scenario.load(Path(__file__).resolve().parents[1] / "scenarios" / "gsf_full.yaml")
    notes = search.lever_notes(gsf, search.line("mission_troops_target", 0, 100_000))
    assert len(notes) == 3
    assert "mission_troop_ceiling is 5,550" in notes[0]
    assert "pledges in force pay for about" in notes[1] and "months to arrive" in notes[2]
    # $60 bn a year of other donors' pledges (the lever's top) pays for about twice the line
    # searched at the posterior medians (session 15: $30 bn paid for ~100,500)
    uncapped = gsf.with_overrides({"mission_troop_ceiling": 100_000,
                                   "funding_mission_others": 60e9,
                                   "mission_deploy_troops_per_month": 10_000})
    assert search.lever_notes(uncapped, search.line("mission_troops_target", 0, 100_000)) == []
    assert search.lever_notes(gsf, search.line("mission_troops_target", 0, 5_000)) == []
    # a line that raises the ceiling and the money with the troops leaves only the pace
    matched = search.line("mission_troops_target", 0, 100_000, {
        "mission_troop_ceiling": (0, 100_000), "funding_mission_others": (0, 60e9)})
    [pace] = search.lever_notes(gsf, matched)
    assert "months to arrive" in pace
