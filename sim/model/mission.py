"""The international mission (MSS, then the Gang Suppression Force) and the money that sustains it.

Troops on the ground move towards the least of three numbers, at the deployment pace: what
contributors have pledged for now (`mission_troops_target`, moved by events), the authorised
ceiling, and what the money sustains. Which of the four holds the force today (target, ceiling,
money, or the pace of arrival) is recorded each day (`CONSTRAINTS`), so a user who asks for
8,000 troops sees why 5,550 are there.

Money does not arrive as pledged (7.10 in the ODD). Each donor's pledge is a stream in US dollars
a year (`funding_mission_<donor>`); only `mission_disbursement_share` of it is ever disbursed (the
trust fund had received $85 M of $110.3 M pledged by end 2024), and what is disbursed reaches the
mission's account with a lag (a first-order pipeline of mean `mission_disbursement_lag_months`).
The account pays fixed costs (headquarters, bases, air assets) first, then the troops. Budgets are
annual: on 1 January the balance carried into the new year is capped at
`mission_carryover_months` of the running cost, and the rest lapses (money tied to a budget year
or given in kind cannot be banked), so a large grant is not a reserve for ever. The force the
money sustains is what the disbursed income, less the fixed costs, can pay, plus what the balance
holds beyond the required runway spent over a year (a balance short of the runway draws the force
down). A donor cut is therefore felt within months: deployments stop, and as any reserve runs
down, troops leave in proportion to the money lost. Withdrawals take time (the
deployment pace), but nobody serves unpaid: on a day when the balance plus the day's income cannot
pay every troop on the ground, the mission keeps only the troops it can pay that day, so the
balance never goes below zero.
"""

from __future__ import annotations

from typing import NamedTuple

import mesa

from sim.model.outcomes import TROOP_LIMITS
from sim.model.parameters import DONORS, MANDATES

UN_PEACEKEEPING = MANDATES.index("un_peacekeeping")
# What holds the force today, recorded as the index (outcome `troops_constraint`): the
# contributors' pledged target, the authorised ceiling, the money, or the pace of arrival.
CONSTRAINTS = TROOP_LIMITS
TARGET, CEILING, MONEY, PACE = (CONSTRAINTS.index(c)
                                 for c in ("target", "ceiling", "money", "pace"))


class Rates(NamedTuple):
    """The mission's numbers under the parameters in force, built by `rates` when one changes."""

    pledged_usd_per_year: float
    disbursement_share: float
    disbursement_per_day: float  # share of the pipeline reaching the account each day
    fixed_cost_usd_per_year: float
    cost_usd_per_troop_year: float
    runway_years: float
    carryover_years: float
    target_troops: float
    ceiling_troops: float
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
        pledged_usd_per_year=sum(p[f"funding_mission_{d}"] for d in DONORS
                                 if d != "un_assessed" or pko),
        disbursement_share=p["mission_disbursement_share"],
        disbursement_per_day=1.0 / max(p["mission_disbursement_lag_months"] * 365 / 12, 1.0),
        fixed_cost_usd_per_year=p["mission_fixed_cost_usd_per_year"],
        cost_usd_per_troop_year=p["mission_cost_usd_per_troop_year"] * (
            p["pko_cost_factor"] if pko else 1.0),
        runway_years=max(p["mission_runway_months"], 0.5) / 12,
        carryover_years=p["mission_carryover_months"] / 12,
        target_troops=p["mission_troops_target"],
        ceiling_troops=p["mission_troop_ceiling"],
        arrivals_per_day=pace * p["pko_deploy_factor"] if pko else pace,
        withdrawals_per_day=pace,
    )


def funded_usd_per_year(r: Rates) -> float:
    """What the pledges in force leave for troops each year: their disbursed part, less fixed
    costs (negative when they do not cover the fixed costs)."""
    return r.pledged_usd_per_year * r.disbursement_share - r.fixed_cost_usd_per_year


def funded_troops(r: Rates) -> float:
    """Troops the pledges in force pay for in the long run (the app's warning at the troop lever
    says the same)."""
    return max(funded_usd_per_year(r), 0.0) / r.cost_usd_per_troop_year


class Mission(mesa.Agent):
    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.troops = 0.0
        self.cash_usd = 0.0  # disbursed, in the mission's account
        self.pipeline_usd = 0.0  # disbursed by donors, not yet in the account
        self.killed = 0.0
        self.spent_usd = 0.0  # today's cost
        self.constraint = TARGET

    def sustainable_troops(self) -> float:
        """Troops the money sustains: the disbursed part of the pledges in force, less fixed
        costs, plus whatever the balance holds beyond the required runway (`mission_runway_months`
        of the running cost), spent over a year; a balance below the runway draws the force down
        the same way. Contributors deploy on a pledge, before its money arrives (the lag binds on
        the day's payroll, `step`), and a cut counts at once, softened only by a reserve."""
        r = self.model.rates.mission
        running = r.fixed_cost_usd_per_year + self.troops * r.cost_usd_per_troop_year
        reserve = self.cash_usd - r.runway_years * running
        return max(funded_usd_per_year(r) + reserve, 0.0) / r.cost_usd_per_troop_year

    def _budget_year(self) -> None:
        """1 January: the balance carried into the year is capped; the rest lapses."""
        r = self.model.rates.mission
        running = r.fixed_cost_usd_per_year + self.troops * r.cost_usd_per_troop_year
        self.cash_usd = min(self.cash_usd, running * r.carryover_years)

    def step(self) -> None:
        r = self.model.rates.mission
        if self.model.today.month == 1 and self.model.today.day == 1:
            self._budget_year()
        arriving = self.pipeline_usd * r.disbursement_per_day
        self.pipeline_usd += r.pledged_usd_per_year * r.disbursement_share / 365 - arriving
        money = self.sustainable_troops()
        goal = min(r.target_troops, r.ceiling_troops, money)
        binding = (TARGET if goal == r.target_troops else CEILING if goal == r.ceiling_troops
                   else MONEY)
        if goal > self.troops:
            self.troops = min(goal, self.troops + r.arrivals_per_day)
        else:
            self.troops = max(goal, self.troops - r.withdrawals_per_day)
        self.troops = max(self.troops - self.killed, 0.0)
        self.killed = 0.0
        available_usd = self.cash_usd + arriving - r.fixed_cost_usd_per_year / 365
        affordable = max(available_usd, 0.0) * 365 / r.cost_usd_per_troop_year
        if affordable < self.troops:
            self.troops, binding = affordable, MONEY
        if self.troops < goal - 1e-6 and affordable >= self.troops:
            binding = PACE  # still arriving
        self.constraint = binding
        self.spent_usd = min(self.troops * r.cost_usd_per_troop_year / 365
                             + r.fixed_cost_usd_per_year / 365, self.cash_usd + arriving)
        self.cash_usd = max(self.cash_usd + arriving - self.spent_usd, 0.0)
