"""The international mission (MSS, then the Gang Suppression Force) and the money that sustains it.

Troops on the ground move towards the lesser of three numbers, at the deployment pace: what
contributors have pledged for now (`mission_troops_target`, moved by events), the authorised
ceiling, and what the money sustains. Money is a cash balance fed by each donor's stream (US
dollars per year, `funding_mission_<donor>`) and drained by the cost per troop-year. The mission
sustains as many troops as its yearly income plus its balance spread over the required runway can
pay for, so a donor cut is felt at once in new deployments and, as the balance runs down, in
withdrawals.
"""

from __future__ import annotations

import mesa

from sim.model.parameters import DONORS, MANDATES

UN_PEACEKEEPING = MANDATES.index("un_peacekeeping")


class Mission(mesa.Agent):
    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.troops = 0.0
        self.cash_usd = 0.0
        self.killed = 0.0
        self.spent_usd = 0.0  # today's cost

    @property
    def mandate(self) -> str:
        return MANDATES[int(self.model.p["mission_mandate"])]

    def income_usd_per_year(self) -> float:
        """Sum of donor streams; UN assessed contributions flow only to a peacekeeping operation."""
        p = self.model.p
        is_pko = int(p["mission_mandate"]) == UN_PEACEKEEPING
        return sum(p[f"funding_mission_{d}"] for d in DONORS if d != "un_assessed" or is_pko)

    def tempo(self) -> float:
        """Offensive tempo of the current mandate."""
        key = {"support": "support", "suppression": "suppression",
               "un_peacekeeping": "peacekeeping"}[self.mandate]
        return self.model.p[f"mandate_tempo_{key}"]

    def cost_usd_per_troop_year(self) -> float:
        """A UN peacekeeping operation costs less per head (UN rates, shared UN logistics)."""
        p = self.model.p
        factor = p["pko_cost_factor"] if self.mandate == "un_peacekeeping" else 1.0
        return p["mission_cost_usd_per_troop_year"] * factor

    def sustainable_troops(self) -> float:
        p = self.model.p
        runway_years = max(p["mission_runway_months"], 0.5) / 12
        per_year = self.income_usd_per_year() + max(self.cash_usd, 0.0) / runway_years
        return per_year / self.cost_usd_per_troop_year()

    def step(self) -> None:
        p = self.model.p
        goal = min(p["mission_troops_target"], p["mission_troop_ceiling"],
                   self.sustainable_troops())
        pace = p["mission_deploy_troops_per_month"] * 12 / 365
        if self.mandate == "un_peacekeeping":
            pace *= p["pko_deploy_factor"]
        if goal > self.troops:
            self.troops = min(goal, self.troops + pace)
        else:  # withdrawals are not slowed by force generation
            self.troops = max(goal, self.troops - p["mission_deploy_troops_per_month"] * 12 / 365)
        self.troops = max(self.troops - self.killed, 0.0)
        self.killed = 0.0
        self.spent_usd = self.troops * self.cost_usd_per_troop_year() / 365
        self.cash_usd += self.income_usd_per_year() / 365 - self.spent_usd
