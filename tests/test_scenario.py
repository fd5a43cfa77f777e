"""Scenario files (sim.model.scenario): the shipped files resolve as documented, and every user
mistake
is one ScenarioError that names the file and the field and says what is allowed.

Files are treated as untrusted input, so the refusals of YAML tags, aliases, deep nesting and
oversized files are tested with inputs that would do harm (run a command, blow up memory) if the
refusal were missing. No model is run here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from sim.model.parameters import PARAMS
from sim.model.scenario import (
    MAX_BASE_CHAIN,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_HORIZON_YEARS,
    SEED_MAX,
    SEED_RANGE,
    ScenarioError,
    check_seed,
    from_text,
    load,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
HISTORY = SCENARIOS / "history.yaml"
STATUS_QUO = SCENARIOS / "status_quo.yaml"

D = dt.date
HORIZON = "start: 2023-01-01\nend: 2025-12-31\n"
X = "name: x\n" + HORIZON  # a minimal valid scenario to add one mistake to
BASE = """\
name: base
start: 2023-01-01
end: 2025-12-31
parameters: {gang_count: 100}
events:
  - {date: 2024-06-01, set: {mission_troop_ceiling: 5000}}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> ScenarioError:
    """Load `path`, which must fail with a ScenarioError naming it, and return the error."""
    with pytest.raises(ScenarioError) as info:
        load(path)
    err = info.value
    assert err.source == str(path)
    assert str(err).startswith(f"{path}: ")
    assert err.message and err.message in str(err)
    return err


def bad(tmp_path: Path, text: str, name: str = "bad.yaml") -> ScenarioError:
    return error_of(write(tmp_path, name, text))


# ------------------------------------------------------------------------ the shipped scenarios

def test_history_loads():
    s = load(HISTORY)
    assert (s.name, s.start, s.end, s.branch) == (
        "Historical record 2023 to March 2026", D(2023, 1, 1), D(2026, 3, 31), None)
    assert s.sources == (str(HISTORY),)
    assert set(s.parameters) == set(PARAMS)
    assert s.parameters["police_officers"] == 14861
    assert s.days == 1186
    alliance = [e for e in s.events if e.name == "viv_ansanm_alliance"]
    assert [(e.date, e.op, e.value) for e in alliance] == [(D(2024, 2, 29), "set", 1.0)]


def test_status_quo_resolves_on_history():
    history, s = load(HISTORY), load(STATUS_QUO)
    assert s.start == history.start == D(2023, 1, 1)
    assert s.branch == history.end + dt.timedelta(days=1) == D(2026, 4, 1)
    assert s.end == D(2027, 12, 31)
    assert s.sources == (str(HISTORY), str(STATUS_QUO))
    # Its parameters take effect at the branch, so at the start it is exactly history.
    assert s.parameters == history.parameters
    assert s.parameters["mission_troops_target"] == 0


def test_status_quo_keeps_history_before_branch_and_adds_its_policy_on_branch():
    history, s = load(HISTORY), load(STATUS_QUO)
    before = [e for e in s.events if e.date < s.branch]
    assert before == [e for e in history.events if e.date < s.branch]
    assert len(before) == len(history.events) > 10
    on_branch = {(e.name, e.op, e.value) for e in s.events if e.date == s.branch}
    spec = yaml.safe_load(STATUS_QUO.read_text())
    assert on_branch == {(name, "set", float(v)) for name, v in spec["parameters"].items()}
    assert all(e.date <= s.branch for e in s.events)


@pytest.mark.parametrize("path", [HISTORY, STATUS_QUO], ids=["history", "status_quo"])
def test_events_are_sorted_by_date(path):
    dates = [e.date for e in load(path).events]
    assert dates == sorted(dates)


def test_events_written_out_of_order_are_sorted(tmp_path):
    s = load(write(tmp_path, "s.yaml", "name: s\n" + HORIZON + """\
events:
  - {date: 2025-03-01, set: {mission_troops_target: 200}}
  - {date: 2023-05-01, set: {mission_troops_target: 180}, scale: {arms_interdiction: 2}}
  - {date: 2024-01-01, set: {mission_troops_target: 190}}
"""))
    assert [(e.date, e.name) for e in s.events] == [
        (D(2023, 5, 1), "mission_troops_target"), (D(2023, 5, 1), "arms_interdiction"),
        (D(2024, 1, 1), "mission_troops_target"), (D(2025, 3, 1), "mission_troops_target")]
    assert s.events[1].op == "scale" and s.events[1].value == 2.0


def test_from_text_resolves_base_in_directory():
    s = from_text(STATUS_QUO.read_text(), "upload.yaml", SCENARIOS)
    assert s.sources == (str(HISTORY), "upload.yaml")
    assert s.branch == D(2026, 4, 1) and s.end == D(2027, 12, 31)


# ---------------------------------------------------------------------------- base chains

def test_base_chain_of_three(tmp_path):
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", "name: b\nbase: a.yaml\nparameters: {arms_interdiction: 0.5}\n"
          "events: [{date: 2026-03-01, set: {mission_troops_target: 120}}]\n")
    c = load(write(tmp_path, "c.yaml", "name: c\nbase: b.yaml\nbranch: 2026-07-01\n"
                   "end: 2027-06-30\nparameters: {police_intake_per_year: 2000}\n"))
    a = load(tmp_path / "a.yaml")
    assert c.name == "c"
    assert c.sources == tuple(str(tmp_path / f) for f in ("a.yaml", "b.yaml", "c.yaml"))
    assert (c.start, c.branch, c.end) == (D(2023, 1, 1), D(2026, 7, 1), D(2027, 6, 30))
    assert c.parameters == a.parameters and c.parameters["gang_count"] == 100
    assert [(e.date, e.name, e.value) for e in c.events] == [
        (D(2024, 6, 1), "mission_troop_ceiling", 5000.0),   # a's history
        (D(2026, 1, 1), "arms_interdiction", 0.5),          # b's policy at b's branch
        (D(2026, 3, 1), "mission_troops_target", 120.0),    # b's event, before c's branch
        (D(2026, 7, 1), "police_intake_per_year", 2000.0),  # c's policy at c's branch
    ]


def test_a_policy_on_a_policy_keeps_the_base_policy(tmp_path):
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", "name: b\nbase: a.yaml\nend: 2027-12-31\n"
          "events: [{date: 2026-06-01, set: {mission_troops_target: 110}},"
          " {date: 2027-01-01, set: {mission_troops_target: 120}}]\n")
    c = load(write(tmp_path, "c.yaml", "name: c\nbase: b.yaml\nbranch: 2026-06-01\n"))
    # A policy built on a policy keeps all of its base's changes within its horizon and layers
    # its own on top.
    assert [(e.name, e.date) for e in c.events] == [
        ("mission_troop_ceiling", D(2024, 6, 1)), ("mission_troops_target", D(2026, 6, 1)),
        ("mission_troops_target", D(2027, 1, 1))]


def test_branch_defaults_to_the_day_after_the_base_ends_and_end_to_two_years_later(tmp_path):
    write(tmp_path, "a.yaml", BASE)  # ends 2025-12-31
    s = load(write(tmp_path, "p.yaml", "name: p\nbase: a.yaml\n"))
    assert s.branch == D(2026, 1, 1)
    assert s.end == D(2027, 12, 31)
    write(tmp_path, "b.yaml", BASE.replace("end: 2025-12-31", "end: 2026-03-31"))
    assert load(write(tmp_path, "q.yaml", "name: q\nbase: b.yaml\n")).branch == D(2026, 4, 1)


def test_end_defaults_to_two_calendar_years_across_a_leap_day(tmp_path):
    write(tmp_path, "a.yaml", BASE)
    s = load(write(tmp_path, "p.yaml", "name: p\nbase: a.yaml\nbranch: 2027-01-01\n"))
    assert s.end == D(2028, 12, 31)


# ------------------------------------------------------------------------ with_overrides

def test_with_overrides_returns_changed_copy_and_leaves_original():
    s = load(HISTORY)
    before = dict(s.parameters)
    t = s.with_overrides({"gang_members_total": 12000, "mission_mandate": 2}, seed=7)
    assert t.parameters["gang_members_total"] == 12000.0
    assert t.parameters["mission_mandate"] == 2.0
    assert t.seed == 7 and s.seed == 1
    assert s.parameters == before and s.parameters is not t.parameters
    assert (t.start, t.end, t.branch, t.events, t.sources) == (
        s.start, s.end, s.branch, s.events, s.sources)
    assert s.with_overrides({}).seed == s.seed


def test_overrides_of_a_policy_apply_on_its_branch_and_keep_the_history():
    s = load(STATUS_QUO)
    t = s.with_overrides({"arms_interdiction": 0.7, "mission_troops_target": 4000})
    assert t.parameters == s.parameters  # the history's starting values are untouched
    assert [e for e in t.events if e.date < s.branch] == [
        e for e in s.events if e.date < s.branch]
    last = [(e.name, e.value) for e in t.events if e.date == s.branch][-2:]
    assert last == [("arms_interdiction", 0.7), ("mission_troops_target", 4000.0)]


@pytest.mark.parametrize(("overrides", "needle"), [
    ({"gang_membrs_total": 9000}, "did you mean 'gang_members_total'"),
    ({"gang_members_total": 40000}, "500 to 30000 armed members"),
    ({"gang_count": 150.5}, "whole number"),
    ({"viv_ansanm_alliance": True}, "must be a number"),
])
def test_with_overrides_validates(overrides, needle):
    s = load(HISTORY)
    before = dict(s.parameters)
    with pytest.raises(ValueError, match=needle):
        s.with_overrides(overrides)
    assert s.parameters == before


# ------------------------------------------------------------------- bad input: the schema

def test_missing_name(tmp_path):
    err = bad(tmp_path, HORIZON)
    assert err.field_path == "name" and "required" in err.message


def test_mistyped_optional_field_suggests_the_field(tmp_path):
    err = bad(tmp_path, X + "descripton: typo\n")
    assert err.field_path == "descripton"
    assert "did you mean 'description'" in err.message
    assert "allowed: name, description" in err.message


def test_mistyped_name_suggests_name(tmp_path):
    err = bad(tmp_path, "nmae: x\n" + HORIZON)
    assert "did you mean 'name'" in err.message


def test_mistyped_event_field(tmp_path):
    err = bad(tmp_path, X + "events: [{date: 2024-01-01, sett: {gang_count: 5}}]\n")
    assert err.field_path == "events[0].sett"
    assert "did you mean 'set'" in err.message


@pytest.mark.parametrize("where", ["parameters: {%s: 9000}",
                                   "events: [{date: 2024-01-01, set: {%s: 9000}}]",
                                   "events: [{date: 2024-01-01, scale: {%s: 2}}]"])
def test_unknown_parameter_suggests_name(tmp_path, where):
    err = bad(tmp_path, X + where % "gang_membrs_total" + "\n")
    assert err.field_path.split(".")[0] in ("parameters", "events[0]")
    assert "unknown parameter 'gang_membrs_total'" in err.message
    assert "did you mean 'gang_members_total'" in err.message


@pytest.mark.parametrize("where", ["parameters: {gang_members_total: 40000}",
                                   "events: [{date: 2024-01-01, set: {gang_members_total: 40000}}]"
                                   ])
def test_value_out_of_range_gives_range(tmp_path, where):
    err = bad(tmp_path, X + where + "\n")
    assert err.field_path in ("parameters.gang_members_total", "events[0].set.gang_members_total")
    assert "allowed 500 to 30000 armed members" in err.message


def test_every_mistake_of_a_file_is_named_in_one_message(tmp_path):
    """A file with four mistakes in three fields is mended in one go: the first names its field
    path, the others follow a line each with theirs."""
    err = bad(tmp_path, X + "parameters: {gang_members_total: 40000, gang_count: 150.5, "
              "gang_membrs: 1}\nbranch: 2024-02-30\n")
    assert err.field_path == "branch" and "real calendar date" in err.message
    also = err.message.splitlines()[1:]
    assert also[0].startswith("also parameters.gang_members_total: 40000 is out of range")
    assert also[1].startswith("also parameters.gang_count: must be a whole number")
    assert also[2].startswith("also parameters: unknown parameter 'gang_membrs'")
    assert len(also) == 3
    many = bad(tmp_path, X + "parameters: {" + ", ".join(f"x{i}: 1" for i in range(14)) + "}\n")
    assert many.message.splitlines()[-1] == "and 3 more"
    # an event's starting-state parameters too, each named, and --set's values the same way
    err = bad(tmp_path, X + "events: [{date: 2024-01-01, set: {gang_count: 100, "
              "gang_members_total: 6000}}]\n")
    assert err.field_path == "events[0].set.gang_count" and "starting state" in err.message
    assert err.message.splitlines()[1].startswith("also events[0].set.gang_members_total: ")
    s = from_text(X, "x.yaml", tmp_path)
    with pytest.raises(ScenarioError) as caught:
        s.with_overrides({"gang_count": 0.5, "police_officers": -1})
    assert caught.value.field_path == "gang_count"
    assert caught.value.message.splitlines()[1].startswith("also police_officers: ")


def test_fraction_for_integer_parameter(tmp_path):
    err = bad(tmp_path, X + "parameters: {gang_count: 150.5}\n")
    assert err.field_path == "parameters.gang_count"
    assert "must be a whole number (armed groups)" in err.message


def test_string_for_number(tmp_path):
    err = bad(tmp_path, X + "parameters: {gang_count: lots}\n")
    assert err.field_path.startswith("parameters.gang_count")
    assert "number" in err.message


def test_string_for_number_names_the_parameter_and_unit(tmp_path):
    err = bad(tmp_path, X + "parameters: {gang_count: lots}\n")
    assert err.field_path in ("parameters", "parameters.gang_count")
    assert "armed groups" in err.message


@pytest.mark.parametrize("value", ["true", "yes"])
def test_boolean_for_number_is_refused(tmp_path, value):
    err = bad(tmp_path, X + f"parameters: {{mission_capital_share: {value}}}\n")
    assert "number" in err.message


def test_wrong_type_for_name_and_parameters(tmp_path):
    err = bad(tmp_path, "name: [a, b]\n" + HORIZON)
    assert err.field_path == "name" and "string" in err.message
    err = bad(tmp_path, X + "parameters: [gang_count]\n")
    assert err.field_path == "parameters" and "dictionary" in err.message


@pytest.mark.parametrize(("field", "text"), [
    ("start", "name: x\nstart: soon\nend: 2025-12-31\n"),
    ("end", "name: x\nstart: 2023-01-01\nend: soon\n"),
    ("branch", X + "branch: soon\n"),
])
def test_bad_date(tmp_path, field, text):
    err = bad(tmp_path, text)
    assert err.field_path == field
    assert "must be a date like 2026-01-01" in err.message and "'soon'" in err.message


def test_bad_event_date(tmp_path):
    err = bad(tmp_path, X + "events: [{date: next year, set: {mission_troops_target: 50}}]\n")
    assert err.field_path == "events[0].date" and "must be a date" in err.message


@pytest.mark.parametrize("date", ["2023-13-01", "2023-02-30"])
def test_impossible_calendar_date(tmp_path, date):
    err = bad(tmp_path, f"name: x\nstart: {date}\nend: 2025-12-31\n")
    assert err.field_path == "start" and "date" in err.message


def test_missing_event_date(tmp_path):
    err = bad(tmp_path, X + "events: [{set: {mission_troops_target: 50}}]\n")
    assert err.field_path == "events[0].date" and "required" in err.message


# --------------------------------------------------------------- bad input: the time line

def test_event_outside_horizon(tmp_path):
    err = bad(tmp_path, X + "events: [{date: 2026-06-01, set: {mission_troops_target: 50}}]\n")
    assert err.field_path == "events"
    assert "2026-06-01" in err.message and "mission_troops_target" in err.message
    assert "outside the horizon 2023-01-01 to 2025-12-31" in err.message


def test_event_before_start(tmp_path):
    err = bad(tmp_path, X + "events: [{date: 2022-12-31, set: {mission_troops_target: 50}}]\n")
    assert err.field_path == "events" and "outside the horizon" in err.message


def test_policy_event_before_branch(tmp_path):
    write(tmp_path, "a.yaml", BASE)
    err = bad(tmp_path, "name: p\nbase: a.yaml\n"
              "events: [{date: 2025-06-01, set: {mission_troops_target: 50}}]\n")
    assert err.field_path == "events"
    assert "2025-06-01 is before the branch date 2026-01-01" in err.message


def test_policy_may_not_set_start(tmp_path):
    write(tmp_path, "a.yaml", BASE)
    err = bad(tmp_path, "name: p\nbase: a.yaml\nstart: 2024-01-01\n")
    assert err.field_path == "start" and "comes from the base" in err.message


def test_policy_branch_after_end(tmp_path):
    write(tmp_path, "a.yaml", BASE)
    err = bad(tmp_path, "name: p\nbase: a.yaml\nbranch: 2026-06-01\nend: 2026-03-01\n")
    assert err.field_path == "branch" and "not after the end 2026-03-01" in err.message


@pytest.mark.parametrize("end", ["2022-12-31", "2023-01-01"])
def test_end_not_after_start(tmp_path, end):
    err = bad(tmp_path, f"name: x\nstart: 2023-01-01\nend: {end}\n")
    assert err.field_path == "end" and "must be after the start 2023-01-01" in err.message


@pytest.mark.parametrize("missing", ["start", "end"])
def test_missing_start_or_end_without_base(tmp_path, missing):
    text = "name: x\n" + "".join(
        line + "\n" for line in HORIZON.splitlines() if not line.startswith(missing))
    err = bad(tmp_path, text)
    assert err.field_path == missing
    assert "required when the scenario has no 'base:'" in err.message


def test_scale_pushing_value_out_of_range(tmp_path):
    # 0.3 * 4 = 1.2 > 1: each factor is allowed, the result is not.
    err = bad(tmp_path, X
              + "events: [{date: 2024-01-01, scale: {police_operational_share: 4}}]\n")
    assert err.field_path == "events"
    assert "on 2024-01-01, police_operational_share" in err.message
    assert "allowed 0.05 to 1 share" in err.message


def test_scale_of_inherited_value_is_checked(tmp_path):
    # a sets the ceiling to 5000 in 2024; scaling it by 25 after the branch gives 125000 >
    # 100000.
    write(tmp_path, "a.yaml", BASE)
    ok = load(write(tmp_path, "ok.yaml", "name: p\nbase: a.yaml\n"
                    "events: [{date: 2026-02-01, scale: {mission_troop_ceiling: 3}}]\n"))
    assert ok.events[-1].op == "scale"
    err = bad(tmp_path, "name: p\nbase: a.yaml\n"
              "events: [{date: 2026-02-01, scale: {mission_troop_ceiling: 25}}]\n")
    assert ("mission_troop_ceiling: 125000.0 is out of range: allowed 0 to 100000 troops"
            in err.message)


def test_scale_factor_out_of_range(tmp_path):
    err = bad(tmp_path, X
              + "events: [{date: 2024-01-01, scale: {mission_troop_ceiling: 101}}]\n")
    assert "scale factor must be a number from 0 to 100" in err.message


# ------------------------------------------------------------------- bad input: base files

def test_circular_base_chain_names_the_file_whose_base_closes_it_the_file_and_the_chain(
        tmp_path):
    # p.yaml -> a.yaml -> b.yaml -> a.yaml: the bad line is b.yaml's `base: a.yaml`
    b = write(tmp_path, "b.yaml", "name: b\nbase: a.yaml\n")
    write(tmp_path, "a.yaml", "name: a\nbase: b.yaml\n")
    p = write(tmp_path, "p.yaml", "name: p\nbase: a.yaml\n")
    with pytest.raises(ScenarioError) as info:
        load(p)
    err = info.value
    assert err.source == str(b) and err.field_path == "base"
    assert err.message == (f"circular 'base:' chain: {(tmp_path / 'a.yaml').resolve()} is "
                           "already in it (p.yaml -> a.yaml -> b.yaml -> a.yaml)")


def test_a_base_chain_too_long_names_the_file_whose_base_is_one_too_many(tmp_path):
    write(tmp_path, "f0.yaml", "name: f0\nstart: 2020-01-01\nend: 2030-12-31\n")
    for k in range(1, MAX_BASE_CHAIN + 1):
        write(tmp_path, f"f{k}.yaml", f"name: f{k}\nbase: f{k - 1}.yaml\n")
    assert load(tmp_path / f"f{MAX_BASE_CHAIN - 1}.yaml").name == f"f{MAX_BASE_CHAIN - 1}"
    with pytest.raises(ScenarioError) as info:
        load(tmp_path / f"f{MAX_BASE_CHAIN}.yaml")  # one file more than allowed
    assert info.value.source == str(tmp_path / "f1.yaml")
    assert info.value.message == f"'base:' chain longer than {MAX_BASE_CHAIN}"


def test_base_on_itself(tmp_path):
    err = bad(tmp_path, "name: a\nbase: bad.yaml\n")
    assert err.field_path == "base" and "circular" in err.message


def test_circular_base_chain_spelled_differently(tmp_path):
    path = write(tmp_path, "bad.yaml", f"name: a\nbase: ../{tmp_path.name}/bad.yaml\n")
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert info.value.field_path == "base" and "circular" in info.value.message


def test_missing_base_file(tmp_path):
    path = write(tmp_path, "p.yaml", "name: p\nbase: nothere.yaml\n")
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert "nothere.yaml" in str(info.value)
    assert "file not found" in info.value.message


def test_missing_base_file_names_the_referring_file(tmp_path):
    err = bad(tmp_path, "name: p\nbase: nothere.yaml\n", name="p.yaml")
    assert err.field_path == "base" and "nothere.yaml" in err.message


def test_upload_cannot_read_files_outside_directory(tmp_path):
    (tmp_path / "secret.txt").write_text("password: hunter2: x\n")
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    with pytest.raises(ScenarioError) as info:
        from_text(f"name: x\nbase: {tmp_path / 'secret.txt'}\n", "upload.yaml", scenarios)
    assert "hunter2" not in str(info.value)
    assert info.value.source == "upload.yaml" and info.value.field_path == "base"


def test_base_file_errors_are_reported_too(tmp_path):
    base = write(tmp_path, "a.yaml", BASE.replace("gang_count: 100", "gang_count: 1000"))
    write(tmp_path, "p.yaml", "name: p\nbase: a.yaml\n")
    with pytest.raises(ScenarioError) as info:
        load(tmp_path / "p.yaml")
    assert info.value.source == str(base) and "allowed 14 to 400" in info.value.message


# ------------------------------------------------------------- bad input: untrusted YAML

def test_invalid_yaml_syntax(tmp_path):
    err = bad(tmp_path, "name: [x\nstart: 2023-01-01\n")
    assert err.field_path == "" and err.message.startswith("invalid YAML")
    assert "line" in err.message


@pytest.mark.parametrize("text", ["- name: x\n- start: 2023-01-01\n", "just words\n", "", "42\n"])
def test_top_level_not_a_mapping(tmp_path, text):
    err = bad(tmp_path, text)
    assert err.message == "a scenario file must be a mapping with at least 'name'"


def test_python_tag_is_refused_without_running(tmp_path):
    marker = tmp_path / "marker"
    err = bad(tmp_path, f'name: !!python/object/apply:os.system ["echo hi > {marker}"]\n' + HORIZON)
    assert "YAML tags" in err.message and "not allowed" in err.message
    assert not marker.exists()


@pytest.mark.parametrize("text", ["name: !!str x\n", "name: !custom x\n",
                                  "parameters: !!python/name:os.system {}\n"])
def test_any_tag_is_refused(tmp_path, text):
    assert "YAML tags" in bad(tmp_path, text + HORIZON).message


def test_tag_in_base_file_is_refused(tmp_path):
    marker = tmp_path / "marker"
    write(tmp_path, "a.yaml",
          f'name: !!python/object/apply:os.system ["touch {marker}"]\n' + HORIZON)
    with pytest.raises(ScenarioError, match="YAML tags"):
        load(write(tmp_path, "p.yaml", "name: p\nbase: a.yaml\n"))
    assert not marker.exists()


def test_billion_laughs_is_refused(tmp_path):
    lines = ['a0: &a0 "lol"']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    err = bad(tmp_path, "\n".join(lines) + "\nname: *a9\n" + HORIZON)
    assert "anchors and aliases are not allowed" in err.message


def test_single_anchor_is_refused(tmp_path):
    err = bad(tmp_path, "name: &n x\ndescription: *n\n" + HORIZON)
    assert "anchors and aliases" in err.message


def test_nesting_deeper_than_limit_is_refused(tmp_path):
    flow = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    err = bad(tmp_path, X + f"description: {flow}\n")
    assert err.message == f"nested deeper than {MAX_DEPTH} levels"
    block = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 1))
    block += "  " * (MAX_DEPTH + 1) + "v\n"
    assert bad(tmp_path, "name: x\n" + block).message == f"nested deeper than {MAX_DEPTH} levels"


def test_nesting_at_limit_passes_the_depth_check(tmp_path):
    # The top-level mapping is one level; a description nested to the limit is refused for its
    # type, not its depth.
    flow = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    err = bad(tmp_path, X + f"description: {flow}\n")
    assert err.field_path == "description" and "nested" not in err.message


def test_file_larger_than_limit_is_refused_before_parsing(tmp_path):
    # The body starts with a tag and is not even YAML: if it were scanned or parsed first, the
    # message would be about tags or syntax, not size.
    text = "name: !!python/object/apply:os.system [x]\n\t[" + "#" * MAX_FILE_BYTES + "\n"
    err = bad(tmp_path, text)
    assert err.message == f"file is larger than {MAX_FILE_BYTES // 1024} KiB"
    with pytest.raises(ScenarioError) as info:
        from_text(text, "upload.yaml", tmp_path)
    assert info.value.message == f"file is larger than {MAX_FILE_BYTES // 1024} KiB"


def test_file_just_under_limit_loads(tmp_path):
    head = X
    path = write(tmp_path, "big.yaml", head + "#" * (MAX_FILE_BYTES - len(head) - 1) + "\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load(path).name == "x"


def test_size_limit_counts_bytes_not_characters(tmp_path):
    # 'é' is two bytes in UTF-8: under the limit in characters, over it in bytes.
    text = X + "# " + "é" * (MAX_FILE_BYTES // 2 + 1) + "\n"
    assert len(text) < MAX_FILE_BYTES < len(text.encode())
    with pytest.raises(ScenarioError, match="larger than"):
        from_text(text, "upload.yaml", tmp_path)


def test_non_utf8_bytes(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(("name: Caf\xe9\n" + HORIZON).encode("latin-1"))
    err = error_of(path)
    assert "UTF-8" in err.message



def test_seed_is_inherited_from_the_base_unless_set(tmp_path):
    write(tmp_path, "a.yaml", BASE.replace("name: base\n", "name: base\nseed: 42\n", 1))
    assert load(write(tmp_path, "p.yaml", "name: p\nbase: a.yaml\n")).seed == 42
    assert load(write(tmp_path, "q.yaml", "name: q\nbase: a.yaml\nseed: 7\n")).seed == 7


@pytest.mark.parametrize("name", ["police_officers", "gang_members_total", "initial_displaced"])
def test_starting_state_in_a_policy_holds_from_the_start_and_never_at_an_event(tmp_path, name):
    write(tmp_path, "a.yaml", BASE)
    text = f"name: p\nbase: a.yaml\nparameters: {{{name}: 20000}}\n"
    policy = load(write(tmp_path, "p.yaml", text))
    assert policy.parameters[name] == 20000 and not [e for e in policy.events if e.name == name]
    err = bad(tmp_path, "name: e\n" + HORIZON
              + f"events: [{{date: 2024-01-01, set: {{{name}: 2000}}}}]\n")
    assert "starting state" in err.message
    s = load(STATUS_QUO).with_overrides({name: 20000})
    assert s.parameters[name] == 20000 and not [e for e in s.events if e.name == name]


def test_roles_decide_when_an_override_of_a_policy_takes_effect():
    """A lever changes the policy at the branch; an uncertainty changes the world from the start,
    and so the history: its runs cannot share the history of the unchanged policy."""
    s = load(STATUS_QUO)
    t = s.with_overrides({"gang_attack_rate": 2.5, "arms_interdiction": 0.6})
    assert t.parameters["gang_attack_rate"] == 2.5
    assert t.parameters["arms_interdiction"] == s.parameters["arms_interdiction"]
    [lever] = [e for e in t.events if e.name == "arms_interdiction" and e.note == "override"]
    assert lever.date == s.branch and lever.value == 0.6
    assert not [e for e in t.events if e.name == "gang_attack_rate"]


# ------------------------------------------------------------------ bad input: strict input
# YAML and pydantic resolve many mistakes silently (last key wins, `true` is 1, 0 is 1970-01-01);
# each is refused here with one message naming the field and what is allowed.

@pytest.mark.parametrize(("text", "field", "lines"), [
    (X + "parameters: {gang_count: 100}\nparameters: {gang_count: 120}\n", "parameters", "4 and 5"),
    (X + "parameters:\n  gang_count: 100\n  gang_count: 120\n", "parameters.gang_count",
     "5 and 6"),
    (X + "events:\n  - {date: 2024-01-01, set: {gang_count: 90}, date: 2024-02-01}\n",
     "events[0].date", "5 and 5"),
])
def test_duplicate_key_is_refused_naming_both_lines(tmp_path, text, field, lines):
    err = bad(tmp_path, text)
    assert err.field_path == field and f"given twice, on lines {lines}" in err.message


def test_merge_key_is_refused_naming_its_line(tmp_path):
    err = bad(tmp_path, X + "parameters:\n  gang_count: 100\n  <<: {gang_attack_rate: 2}\n")
    assert err.field_path == "parameters" and "line 6" in err.message
    assert "merge keys ('<<:') are not allowed" in err.message


@pytest.mark.parametrize(("seed", "shown"), [
    ("true", "True"), ("-1", "-1"), ("5.0", "5.0"), ("'5'", "'5'"), (str(SEED_MAX + 1), None),
    ("9" * 5001, "a number of 5,001 characters"), (".inf", "inf"),
])
def test_seed_outside_the_one_range_is_refused_with_the_range(tmp_path, seed, shown):
    err = bad(tmp_path, X + f"seed: {seed}\n")
    assert err.field_path == "seed" and err.message.startswith(f"must be {SEED_RANGE}, got ")
    assert shown is None or err.message.endswith(shown)
    assert len(str(err)) < 200


def test_seed_range_is_the_same_for_files_and_text():
    assert load_text(X + f"seed: {SEED_MAX}\n").seed == SEED_MAX
    assert check_seed(str(SEED_MAX), "--seed") == SEED_MAX
    assert check_seed(0, "x") == 0
    for text in ("-1", "1e3", "1.0", " ", "٣", "9" * 5001, str(SEED_MAX + 1)):
        with pytest.raises(ScenarioError) as info:
            check_seed(text, "--seed")
        assert info.value.source == "--seed" and SEED_RANGE in info.value.message


@pytest.mark.parametrize(("name", "value", "needle"), [
    ("gang_count", ".inf", "must be a finite number, got inf: allowed 14 to 400"),
    ("gang_count", "-.inf", "must be a finite number, got -inf: allowed 14 to 400"),
    ("gang_count", ".nan", "must be a finite number, got nan: allowed 14 to 400"),
    ("gang_count", "9" * 400, "a number of about 400 digits is out of range: allowed 14 to 400"),
    ("gang_count", "9" * 5000, "a number of 5,000 characters: allowed 14 to 400"),
    ("mission_troop_ceiling", ".nan", "must be a finite number, got nan: allowed 0 to 100000"),
    ("mission_troop_ceiling", "1.0e+400", "must be a finite number, got inf: allowed 0 to 100000"),
])
def test_non_finite_and_huge_values_are_refused_with_the_range(tmp_path, name, value, needle):
    err = bad(tmp_path, X + f"parameters: {{{name}: {value}}}\n")
    assert err.field_path == f"parameters.{name}" and needle in err.message
    assert len(str(err)) < 200


def test_branch_is_checked_without_a_base(tmp_path):
    for branch in ("2030-01-01", "2023-01-01"):
        err = bad(tmp_path, X + f"branch: {branch}\n")
        assert err.field_path == "branch" and "must fall after the start 2023-01-01" in err.message
    assert load_text(X + "branch: 2024-01-01\n").branch == D(2024, 1, 1)


@pytest.mark.parametrize("text", ["0", "20230101", "2023-01-01T00:00:00",
                                  "2023-01-01 00:00:00+05:00", "2023-01-01T12:00:00Z",
                                  "2023-W01-1", "'2023-001'", "1672531200"])
def test_dates_are_dates_without_times_zones_or_timestamps(tmp_path, text):
    err = bad(tmp_path, f"name: x\nstart: {text}\nend: 2025-12-31\n")
    assert err.field_path == "start" and "must be a date like 2026-01-01" in err.message
    err = bad(tmp_path, X + f"events: [{{date: {text}, set: {{gang_count: 90}}}}]\n")
    assert err.field_path == "events[0].date"


@pytest.mark.parametrize("event", ["{date: 2024-01-01}", "{date: 2024-01-01, set: {}}",
                                   "{date: 2024-01-01, set: {}, scale: {}, note: nothing}"])
def test_an_event_that_changes_nothing_is_refused(tmp_path, event):
    err = bad(tmp_path, X + f"events: [{event}]\n")
    assert err.field_path == "events[0]" and "must set or scale at least one" in err.message


@pytest.mark.parametrize(("field", "value"), [
    ("name", r'"x\e[2J\e[31mred"'), ("name", r'"x\ud800"'), ("description", r'"a\x07b"'),
    ("name", r'"a\u202eb"'), ("name", r'"two\nlines"'),
])
def test_control_characters_in_text_are_refused(tmp_path, field, value):
    text = X + f"{field}: {value}\n" if field != "name" else X.replace("name: x", f"name: {value}")
    err = bad(tmp_path, text)
    assert err.field_path == field and "control character" in err.message
    assert str(err).isprintable() and str(err).encode()  # safe to print to a terminal


def test_control_characters_are_escaped_in_messages(tmp_path):
    err = bad(tmp_path, X + r'parameters: {"gang\e[31m": 1}' + "\n")
    assert "\x1b" not in str(err) and r"\x1b" in str(err)
    err = bad(tmp_path, X + "events: [{date: 2024-01-01, set: {mission_troop_ceiling: 90}, "
              r'note: "\ud800"}]')
    assert err.field_path == "events[0].note" and str(err).isprintable() and str(err).encode()
    with pytest.raises(ScenarioError) as info:
        from_text(X + "seed: -1\n", "up\x1b[2Jload\ud800.yaml", SCENARIOS)
    assert str(info.value).isprintable() and str(info.value).encode()
    assert info.value.source == r"up\x1b[2Jload\ud800.yaml"


def from_text_error(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        from_text(text, "upload.yaml", SCENARIOS)
    return info.value


@pytest.mark.parametrize("text", [
    X + "parameters: {gang_count: '" + "a" * 200_000 + "'}\n",
    X + "seed: '" + "7" * 200_000 + "'\n",
    X + "parameters: {" + "g" * 200_000 + ": 1}\n",
    "name: x\nstart: " + "2" * 200_000 + "\nend: 2025-12-31\n",
    X + "events: [{date: 2024-01-01, scale: {mission_troop_ceiling: '" + "b" * 200_000 + "'}}]\n",
    X + "base: " + "b" * 200_000 + "\n",
    X + "b" * 200_000 + ": 1\n",
])
def test_long_bad_values_are_cut_in_messages(text):
    assert len(str(from_text_error(text))) < 600  # the value cut to 80 characters, or not shown


def test_an_error_in_an_inherited_event_names_the_file_that_holds_it(tmp_path):
    # The base's event scales the attack rate by 4 (1.8 -> 7.2: fine); the policy's world value 6
    # holds from the start, so the base's event now gives 24 > 20. The line at fault is the base's.
    base = write(tmp_path, "a.yaml", BASE.replace("set: {mission_troop_ceiling: 5000}",
                                                  "scale: {gang_attack_rate: 4}"))
    policy = write(tmp_path, "p.yaml", "name: p\nbase: a.yaml\nparameters: {gang_attack_rate: 6}\n")
    with pytest.raises(ScenarioError) as info:
        load(policy)
    err = info.value
    assert err.source == str(base) and err.field_path == "events"
    assert "gang_attack_rate: 24.0 is out of range" in err.message and str(policy) in err.message


def test_horizon_longer_than_the_limit_is_refused(tmp_path):
    err = bad(tmp_path, "name: x\nstart: 2023-01-01\nend: 9999-12-31\n")
    assert err.field_path == "end"
    assert f"longest horizon is {MAX_HORIZON_YEARS} years" in err.message
    assert "2053-01-01" in err.message
    assert load_text("name: x\nstart: 2023-01-01\nend: 2053-01-01\n").end == D(2053, 1, 1)
    write(tmp_path, "a.yaml", BASE)
    err = bad(tmp_path, "name: p\nbase: a.yaml\nend: 2060-01-01\n")
    assert err.field_path == "end" and "longest horizon" in err.message


def load_text(text: str):
    return from_text(text, "upload.yaml", SCENARIOS)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))


def test_a_plain_base_not_next_to_the_file_comes_from_the_library(tmp_path):
    # a file saved from the app, or copied out of scenarios/, runs from any folder
    policy = load(write(tmp_path, "mine.yaml", "name: mine\nbase: status_quo.yaml\n"
                        "parameters: {mission_troops_target: 3000}\n"))
    assert policy.branch == load(STATUS_QUO).branch
    assert str(STATUS_QUO) in policy.sources or any(
        src.endswith("scenarios/status_quo.yaml") for src in policy.sources)
    # a file next to it still wins, and a name found nowhere is refused, saying where it looked
    write(tmp_path, "status_quo.yaml", BASE)
    assert any(src.startswith(str(tmp_path)) and src.endswith("status_quo.yaml")
               for src in load(tmp_path / "mine.yaml").sources)
    err = bad(tmp_path, "name: p\nbase: nowhere.yaml\n")
    assert err.field_path == "base" and "among the library's scenarios" in err.message


def test_a_policy_on_a_policy_keeps_its_base_s_horizon(tmp_path):
    write(tmp_path, "a.yaml", BASE)  # the record, ends 2025-12-31
    write(tmp_path, "p.yaml", "name: p\nbase: a.yaml\nend: 2027-06-30\n")
    assert load(write(tmp_path, "q.yaml", "name: q\nbase: p.yaml\n")).end == D(2027, 6, 30)
    # an explicit end still wins, and so does a branch after the base's end
    assert load(write(tmp_path, "r.yaml", "name: r\nbase: p.yaml\nend: 2027-12-31\n")
                ).end == D(2027, 12, 31)
    late = load(write(tmp_path, "s.yaml", "name: s\nbase: p.yaml\nbranch: 2027-07-01\n"))
    assert late.end == D(2029, 6, 30)
