"""The Haitian state's forces: the national police (PNH) and the armed forces (FAd'H).

Each is one Mesa agent holding its headcount; what changes daily is strength (intake of new
classes, attrition that grows with gang control and with unpaid salaries, combat deaths) and how
much of it is available. Where the forces stand is decided by the model's deployment (see
`sim.model.combat.deploy`), since it depends on the map.
"""

from __future__ import annotations

import mesa


class Police(mesa.Agent):
    """The PNH: headcount, intake, attrition and the share available for operations."""

    def __init__(self, model: mesa.Model, officers: float):
        super().__init__(model)
        self.officers = officers
        self.killed = 0.0  # today's deaths, set by combat
        self.spent_usd = 0.0  # today's pay

    @property
    def operational(self) -> float:
        return self.officers * self.model.p["police_operational_share"]

    def firepower(self) -> float:
        p = self.model.p
        relaxed = p["embargo_relaxation_firepower"] if p["arms_embargo_relaxed"] else 1.0
        return p["police_firepower"] * relaxed

    def step(self) -> None:
        """Intake, attrition (calm-time + gang pressure + pay shortfall) and today's pay.

        Attrition rose from ~3% to ~11% a year in 2023 as gangs took the capital (SG reports); the
        model makes the extra part proportional to gang control of the capital, and adds desertion
        when the budget does not cover salaries.
        """
        p = self.model.p
        cost_day = self.officers * p["police_cost_usd_per_officer_year"] / 365
        funds_day = (p["funding_police_haiti"] + p["funding_police_donors"]) / 365
        self.spent_usd = min(cost_day, funds_day)
        paid = self.spent_usd / cost_day if cost_day > 0 else 1.0
        rate = (p["police_attrition_per_year"]
                + p["police_stress_attrition_per_year"] * self.model.capital_gang_share
                + p["police_pay_attrition_per_year"] * (1 - paid))
        self.officers += p["police_intake_per_year"] / 365 - self.officers * rate / 365
        self.officers = max(self.officers - self.killed, 0.0)
        self.killed = 0.0


class Army(mesa.Agent):
    """The FAd'H: a small force that guards key sites (airport, port, palace)."""

    def __init__(self, model: mesa.Model, soldiers: float):
        super().__init__(model)
        self.soldiers = soldiers
        self.killed = 0.0

    def firepower(self) -> float:
        p = self.model.p
        relaxed = p["embargo_relaxation_firepower"] if p["arms_embargo_relaxed"] else 1.0
        return p["army_firepower"] * relaxed

    def step(self) -> None:
        p = self.model.p
        self.soldiers += (p["army_intake_per_year"]
                          - self.soldiers * p["army_attrition_per_year"]) / 365
        self.soldiers = max(self.soldiers - self.killed, 0.0)
        self.killed = 0.0
