"""The outcome catalogue (`sim.model.outcomes`): the model's row order it promises, every recorded
name declared, composites built from their parts, and the display formats."""

from __future__ import annotations

import pytest

from sim.model import mission, outcomes
from sim.model.geography import ROAD_NAMES, load


def test_stocks_and_flows_keep_the_order_the_model_writes_them_in():
    assert outcomes.STOCKS == (
        "capital_gang_share_area", "capital_gang_share_population", "gang_controlled_population",
        "gang_controlled_share_national", "displaced", "displaced_in_provinces_share", "troops",
        "police_officers",
        "army_soldiers", "gang_members", "gang_firearms", "mission_cash_usd", "roads_cut")
    assert outcomes.FLOWS == (
        "killed", "killed_civilians", "killed_gang", "killed_police", "killed_army",
        "killed_troops", "killed_in_state_operations", "killed_by_self_defence",
        "killed_in_drone_operations", "injured", "kidnappings",
        "spent_mission_usd", "spent_police_usd", "engagements", "displaced_again")


def test_every_recorded_name_is_declared_with_a_direction_and_a_format():
    departments = load().department_name
    names = outcomes.metric_names(departments)
    assert len(names) == len(set(names)) == (28 + len(departments) + 2 * len(ROAD_NAMES)
                                             + len(mission.CONSTRAINTS))
    for name in names:
        o = outcomes.get(name)
        assert o.name == name and o.metrics == (name,) and o.label and o.unit
        assert o.better in (outcomes.LOWER, outcomes.HIGHER, outcomes.NEUTRAL)
        assert o.display in (outcomes.PERCENT, outcomes.COUNT, outcomes.USD)
        assert o.flow == (name in outcomes.FLOWS)
    assert outcomes.get("gang_population_share.Ouest").label == (
        "Share of Ouest's residents under gang control")
    with pytest.raises(KeyError, match="no outcome is declared as 'road_cut'"):
        outcomes.get("road_cut")


def test_a_composite_takes_its_kind_from_its_parts_and_refuses_parts_that_differ():
    spent = outcomes.get("spent_usd")
    assert spent.metrics == ("spent_mission_usd", "spent_police_usd")
    assert (spent.flow, spent.display, spent.better) == (True, outcomes.USD, outcomes.NEUTRAL)
    with pytest.raises(ValueError, match="differ"):
        outcomes._composite("odd", "Odd", "killed", "displaced")  # a flow and a stock
    assert spent.show(2_000_000) == "$2.00 M"


def test_display_formats():
    show = outcomes.show
    assert show(0.4567, outcomes.PERCENT) == "45.7%"
    assert show(-0.1, outcomes.PERCENT, signed=True) == "-10.0 pp"
    assert show(2_500_000, outcomes.COUNT) == "2.50 M"
    assert show(-1_500_000_000, outcomes.USD, signed=True) == "-$1.50 bn"
    assert show(12_345, outcomes.USD, signed=True) == "+$12,345"
    assert show(None, outcomes.COUNT) == show(float("nan"), outcomes.COUNT) == "-"
