"""The Haitian state's forces: the national police (PNH) and the armed forces (FAd'H).

Each is one Mesa agent holding its headcount; what changes daily is strength (intake of new
classes, attrition that grows with gang control and with unpaid salaries, combat deaths) and how
much of it is available. Where the forces stand is decided by the model's deployment (see
`sim.model.combat.deploy`), since it depends on the map.
"""

from __future__ import annotations

from typing import NamedTuple

import mesa


def firepower(p: dict[str, float], force: str) -> float:
    """A force's firepower (`police` or `army`), raised when the arms embargo is relaxed."""
    relaxed = p["embargo_relaxation_firepower"] if p["arms_embargo_relaxed"] else 1.0
    return p[f"{force}_firepower"] * relaxed


class Rates(NamedTuple):
    """The forces' yearly rates under the parameters in force, built by `rates` when one
    changes."""

    police_intake_per_year: float
    police_attrition_per_year: float
    police_stress_attrition_per_year: float
    police_pay_attrition_per_year: float
    police_hazard_pay_max: float
    police_pay_retention: float
    police_unpaid_absence: float
    police_cost_usd_per_officer_year: float
    police_funds_usd_per_day: float
    army_intake_per_year: float
    army_attrition_per_year: float


def rates(p: dict[str, float]) -> Rates:
    return Rates(
        police_intake_per_year=p["police_intake_per_year"],
        police_attrition_per_year=p["police_attrition_per_year"],
        police_stress_attrition_per_year=p["police_stress_attrition_per_year"],
        police_pay_attrition_per_year=p["police_pay_attrition_per_year"],
        police_hazard_pay_max=p["police_hazard_pay_max"],
        police_pay_retention=p["police_pay_retention"],
        police_unpaid_absence=p["police_unpaid_absence"],
        police_cost_usd_per_officer_year=p["police_cost_usd_per_officer_year"],
        police_funds_usd_per_day=(p["funding_police_haiti"] + p["funding_police_donors"]) / 365,
        army_intake_per_year=p["army_intake_per_year"],
        army_attrition_per_year=p["army_attrition_per_year"],
    )


class Police(mesa.Agent):
    """The PNH: headcount, intake, attrition, and the officers on duty (its share of them for
    operations is in `combat.deploy`)."""

    def __init__(self, model: mesa.Model, officers: float):
        super().__init__(model)
        self.officers = officers
        self.on_duty = officers  # set by `step` each morning, before the deployment reads it
        self.killed = 0.0  # today's deaths, set by combat
        self.spent_usd = 0.0  # today's pay

    def step(self) -> None:
        """Intake, attrition (calm-time + gang pressure + pay shortfall) and today's pay.

        Attrition rose from ~3% to ~11% a year in 2023 as gangs took the capital (SG reports); the
        model makes the extra part proportional to gang control of the capital (as the previous
        day left it), and adds desertion when the budget does not cover salaries. Money beyond
        the pay bill is paid as hazard pay, up to `police_hazard_pay_max` of the basic pay, and
        keeps officers who would leave under gang pressure: at the most hazard pay,
        `police_pay_retention` of that part of attrition. Without it, money for police pay
        beyond the bill bought nothing, and donors' support to salaries had no effect. Unpaid
        officers who stay do not all work: `police_unpaid_absence` of the unpaid share is off
        duty, so a budget cut weakens the police at once, before desertion thins them.
        """
        r = self.model.rates.forces
        cost_day = self.officers * r.police_cost_usd_per_officer_year / 365
        funds = r.police_funds_usd_per_day
        paid = min(funds / cost_day, 1.0) if cost_day > 0 else 1.0
        premium = (min(max(funds / cost_day - 1.0, 0.0), r.police_hazard_pay_max)
                   if cost_day > 0 else 0.0)
        self.spent_usd = cost_day * (paid + premium)
        kept = r.police_pay_retention * premium / r.police_hazard_pay_max \
            if r.police_hazard_pay_max > 0 else 0.0
        rate = (r.police_attrition_per_year
                + r.police_stress_attrition_per_year * self.model.capital_gang_share * (1 - kept)
                + r.police_pay_attrition_per_year * (1 - paid))
        self.officers += r.police_intake_per_year / 365 - self.officers * rate / 365
        self.officers = max(self.officers - self.killed, 0.0)
        self.killed = 0.0
        self.on_duty = self.officers * (1.0 - r.police_unpaid_absence * (1.0 - paid))


class Army(mesa.Agent):
    """The FAd'H: a small force; `army_operations_share` of its soldiers join the police's
    operations in the metro (`combat.deploy`), the rest guard key sites (airport, port, palace)."""

    def __init__(self, model: mesa.Model, soldiers: float):
        super().__init__(model)
        self.soldiers = soldiers
        self.killed = 0.0

    def step(self) -> None:
        r = self.model.rates.forces
        self.soldiers += (r.army_intake_per_year
                          - self.soldiers * r.army_attrition_per_year) / 365
        self.soldiers = max(self.soldiers - self.killed, 0.0)
        self.killed = 0.0
