"""The parameter table (sim.model.parameters): every row is well formed and `check_value` enforces
it.

The table generates YAML validation, CLI options and sliders, so a malformed row (a default outside
its range, a missing unit, an unsourced number) would surface everywhere at once; these tests catch
it at the table.
"""

from __future__ import annotations

import math

import pytest

from sim.model.parameters import (
    MANDATES,
    PARAMS,
    ROLES,
    Param,
    check_value,
    defaults,
    markdown_table,
)

ALL = list(PARAMS.values())
IDS = [p.name for p in ALL]
INTEGER = [p for p in ALL if p.integer]
CATEGORICAL = [p for p in ALL if p.choices]


# ------------------------------------------------------------------------- the table itself

@pytest.mark.parametrize("p", ALL, ids=IDS)
def test_default_is_within_range_and_accepted(p):
    assert p.low < p.high, f"{p.name}: empty range {p.low}..{p.high}"
    assert p.low <= p.default <= p.high
    assert check_value(p.name, p.default) == p.default


@pytest.mark.parametrize("p", ALL, ids=IDS)
def test_unit_and_source_are_given(p):
    assert p.unit.strip(), f"{p.name} has no unit"
    assert p.source.strip(), f"{p.name} has no source"
    assert p.doc.strip(), f"{p.name} has no description"


@pytest.mark.parametrize("p", ALL, ids=IDS)
def test_assumptions_are_marked_at_the_start(p):
    # A source that is really an assumption must say so first, in lower case, so `is_assumption`
    # (and the documentation built on it) cannot miss it.
    lowered = p.source.lower()
    assert lowered.startswith("assumption") == p.is_assumption, p.source
    if "tuned" in lowered:  # a value tuned by hand is an assumption; one calibrated says so
        assert p.is_assumption or p.calibrated, f"{p.name}: a tuned value is an assumption"
    if p.is_assumption and p.source != "assumption":
        assert p.source.startswith("assumption: "), p.source


BARE_ASSUMPTIONS = [p for p in ALL if p.source.strip() == "assumption"]


def test_every_assumption_says_why():
    assert [p.name for p in BARE_ASSUMPTIONS] == []


def test_names_are_unique():
    # PARAMS is a dict built from the declarations: a duplicate name would silently drop a row,
    # which the generated table (one row per declaration) would expose.
    rows = markdown_table().splitlines()[2:]
    assert len(rows) == len(PARAMS)


@pytest.mark.parametrize("p", INTEGER, ids=[p.name for p in INTEGER])
def test_integer_params_have_whole_number_bounds_and_default(p):
    for value in (p.default, p.low, p.high):
        assert float(value) == int(value), f"{p.name}: {value} is not a whole number"


def test_there_are_integer_and_categorical_params():
    # Guards the parametrised tests above and below against silently testing nothing.
    assert {"gang_count", "viv_ansanm_alliance", "mission_mandate"} <= {p.name for p in INTEGER}
    assert [p.name for p in CATEGORICAL] == ["mission_mandate"]


@pytest.mark.parametrize("p", CATEGORICAL, ids=[p.name for p in CATEGORICAL])
def test_categorical_choices_match_range(p):
    assert p.integer, "a categorical parameter is an index, so must be integer"
    assert p.low == 0
    assert int(p.high) == len(p.choices) - 1
    assert len(set(p.choices)) == len(p.choices)
    assert 0 <= p.default < len(p.choices)


def test_mission_mandate_indexes_mandates():
    assert PARAMS["mission_mandate"].choices == MANDATES


def test_defaults_cover_every_param():
    values = defaults()
    assert list(values) == list(PARAMS)
    assert all(values[name] == p.default for name, p in PARAMS.items())
    values["gang_count"] = -1  # a fresh dict each call: callers may change it freely
    assert defaults()["gang_count"] == PARAMS["gang_count"].default


# ------------------------------------------------------------------------------ check_value

@pytest.mark.parametrize("p", ALL, ids=IDS)
def test_check_value_accepts_both_bounds(p):
    assert check_value(p.name, p.low) == p.low
    assert check_value(p.name, p.high) == p.high


def test_check_value_returns_float():
    result = check_value("gang_count", 150)
    assert type(result) is float and result == 150.0


@pytest.mark.parametrize("value", [True, False])
def test_check_value_rejects_bools(value):
    # viv_ansanm_alliance is a 0/1 flag, where True would otherwise pass as 1.
    with pytest.raises(ValueError, match="must be a number"):
        check_value("viv_ansanm_alliance", value)


@pytest.mark.parametrize("value", ["5", "0.5", None, [1], {"a": 1}])
def test_check_value_rejects_non_numbers(value):
    with pytest.raises(ValueError) as info:
        check_value("arms_interdiction", value)
    assert "must be a number (share seized)" in str(info.value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [499, 30001, -1, 1e9])
def test_check_value_rejects_out_of_range_naming_range_and_unit(value):
    with pytest.raises(ValueError) as info:
        check_value("gang_members_total", value)
    message = str(info.value)
    assert "out of range" in message
    assert "500 to 30000 armed members" in message


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_check_value_rejects_non_finite(value):
    with pytest.raises(ValueError):
        check_value("arms_interdiction", value)


def test_check_value_rejects_fractions_for_integer_params():
    with pytest.raises(ValueError) as info:
        check_value("gang_count", 150.5)
    assert "whole number (armed groups)" in str(info.value)
    assert check_value("gang_count", 150.0) == 150.0


def test_check_value_out_of_range_categorical_names_choices():
    with pytest.raises(ValueError) as info:
        check_value("mission_mandate", 3)
    message = str(info.value)
    for i, choice in enumerate(MANDATES):
        assert f"{i} ({choice})" in message


def test_check_value_unknown_name_is_a_programmer_error():
    with pytest.raises(KeyError):
        check_value("no_such_parameter", 1)


# --------------------------------------------------------------------------- roles

def test_every_parameter_has_a_role_and_every_uncertainty_a_plausible_range():
    assert {p.role for p in ALL} == set(ROLES)
    for p in ALL:
        if p.role == "uncertainty":
            assert p.plausible is not None, p.name
        if p.plausible is not None:
            low, high = p.plausible
            assert p.low <= low <= p.default <= high <= p.high and p.why, p.name
            assert p.prior != "log-uniform" or low > 0, p.name
    # levers are what policies change; a lever with a prior would be sampled as an unknown
    assert not [p.name for p in ALL if p.lever and p.plausible]


@pytest.mark.parametrize("changes, needle", [
    ({"role": "knob"}, "role"),
    ({"plausible": None}, "needs a plausible range"),
    ({"plausible": (2.0, 3.0)}, "hold the default"),
    ({"plausible": (0.5, 20.0)}, "must lie within"),
    ({"why": ""}, "say why"),
    ({"plausible": (0.0, 1.5), "prior": "log-uniform"}, "positive range"),
])
def test_a_badly_declared_parameter_is_refused(changes, needle):
    row = {"name": "x", "default": 1.0, "low": 0.0, "high": 10.0, "unit": "u", "group": "g",
           "doc": "d", "source": "s", "plausible": (0.5, 1.5), "why": "w"}
    with pytest.raises(ValueError, match=needle):
        Param(**{**row, **changes})


# --------------------------------------------------------------------------- markdown_table

def test_markdown_table_has_one_row_per_parameter_in_order():
    lines = markdown_table().splitlines()
    assert lines[0].startswith("| name |")
    assert set(lines[1]) <= {"|", "-"}
    rows = lines[2:]
    assert len(rows) == len(PARAMS)
    for row, p in zip(rows, ALL, strict=True):
        assert row.startswith(f"| `{p.name}` |")
        # Every row has the header's five columns: a '|' inside a unit or source would split it.
        assert row.count("|") == lines[0].count("|"), row
        assert p.unit in row and p.source in row


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))


def test_only_a_lever_can_be_featured_in_the_app():
    with pytest.raises(ValueError, match="only a lever can be featured"):
        Param("x", 1.0, 0.0, 2.0, "share", "gangs", "doc", "assumption: test", role="constant",
              featured=True)
    assert {p.name for p in PARAMS.values() if p.featured} >= {"mission_troops_target",
                                                              "funding_mission_us"}
