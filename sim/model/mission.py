"""The international mission (MSS, then the Gang Suppression Force) and the money that sustains it.

Troops on the ground move towards the lesser of three numbers, at the deployment pace: what
contributors have pledged for now (`mission_troops_target`, moved by events), the authorised
ceiling, and what the money sustains. Money is a cash balance fed by each donor's stream (US
dollars per year, `funding_mission_<donor>`) and drained by the cost per troop-year. The mission
sustains as many troops as its yearly income plus its balance spread over the required runway can
pay for, so a donor cut is felt at once in new deployments and, as the balance runs down, in
withdrawals. Withdrawals take time (the deployment pace), but nobody serves unpaid: on a day when
the balance plus the day's income cannot pay every troop on the ground, the mission keeps only
the troops it can pay that day, so the balance never goes below zero.
"""

from __future__ import annotations

from typing import NamedTuple

import mesa

from sim.model.parameters import DONORS, MANDATES

UN_PEACEKEEPING = MANDATES.index("un_peacekeeping")


class Rates(NamedTuple):
    """The mission's numbers under the parameters in force, built by `rates` when one changes."""

    income_usd_per_year: float
    cost_usd_per_troop_year: float
    runway_years: float
    pledged_troops: float  # the least of what contributors pledge and the authorised ceiling
    arrivals_per_day: float
    withdrawals_per_day: float


def is_peacekeeping(p: dict[str, float]) -> bool:
    return int(p["mission_mandate"]) == UN_PEACEKEEPING


def tempo(p: dict[str, float]) -> float:
    """Offensive tempo of the mandate in force."""
    key = {"support": "support", "suppression": "suppression",
           "un_peacekeeping": "peacekeeping"}[MANDATES[int(p["mission_mandate"])]]
    return p[f"mandate_tempo_{key}"]


def rates(p: dict[str, float]) -> Rates:
    """Income (UN assessed contributions flow only to a peacekeeping operation), the cost per
    troop (a UN peacekeeping operation costs less per head: UN rates, shared UN logistics) and the
    pace of deployment (slower force generation under a UN peacekeeping mandate; withdrawals are
    not slowed by force generation)."""
    pko = is_peacekeeping(p)
    pace = p["mission_deploy_troops_per_month"] * 12 / 365
    return Rates(
        income_usd_per_year=sum(p[f"funding_mission_{d}"] for d in DONORS
                                if d != "un_assessed" or pko),
        cost_usd_per_troop_year=p["mission_cost_usd_per_troop_year"] * (
            p["pko_cost_factor"] if pko else 1.0),
        runway_years=max(p["mission_runway_months"], 0.5) / 12,
        pledged_troops=min(p["mission_troops_target"], p["mission_troop_ceiling"]),
        arrivals_per_day=pace * p["pko_deploy_factor"] if pko else pace,
        withdrawals_per_day=pace,
    )


class Mission(mesa.Agent):
    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.troops = 0.0
        self.cash_usd = 0.0
        self.killed = 0.0
        self.spent_usd = 0.0  # today's cost

    def sustainable_troops(self) -> float:
        """Troops the yearly income plus the balance spread over the required runway can pay."""
        r = self.model.rates.mission
        per_year = r.income_usd_per_year + max(self.cash_usd, 0.0) / r.runway_years
        return per_year / r.cost_usd_per_troop_year

    def step(self) -> None:
        r = self.model.rates.mission
        goal = min(r.pledged_troops, self.sustainable_troops())
        if goal > self.troops:
            self.troops = min(goal, self.troops + r.arrivals_per_day)
        else:
            self.troops = max(goal, self.troops - r.withdrawals_per_day)
        self.troops = max(self.troops - self.killed, 0.0)
        self.killed = 0.0
        available_usd = self.cash_usd + r.income_usd_per_year / 365
        self.troops = min(self.troops, available_usd * 365 / r.cost_usd_per_troop_year)
        self.spent_usd = self.troops * r.cost_usd_per_troop_year / 365
        if self.spent_usd < available_usd:
            self.cash_usd = max(self.cash_usd + r.income_usd_per_year / 365 - self.spent_usd, 0.0)
        else:  # the troops the money could pay for today; rounding must not leave a debt
            self.spent_usd, self.cash_usd = available_usd, 0.0
