"""The observed record the model is fitted and checked against, how each figure is read off model
runs (the observation model), and how far a run is from it (the likelihood).

One declaration, `TARGETS`: calibration, the documentation's validation table
(`scripts/update_docs.py`) and the app's validation page all read it, so they cannot drift. Every
figure is from `sim/data/observed/` (each row there keeps its full source) and dates from 2023 or
2024: the record through 2024 is what the model is fitted to; 2025 is kept out of sample.

The series, one definition each
-------------------------------
- **Gang control of the capital** (`capital_gang_share_area`): UN statements only (UN via AP, UN
  Panel of Experts, BINUH, OHCHR), read as a share of the capital's area, the basis the UN
  statements imply ("of the capital", "of the metropolitan area") and the one the model's
  initial 60% is set on. A round figure ("80%", "~80%") is an interval of +-5 points, the
  precision of a figure quoted in tens; "80-90%" is [0.80, 0.90]. Left out: statements before
  2023 (they set the initial state), analysts' ">90%" (NYT, not UN) and GI-TOC's "~80% or more"
  ("controlled or substantially influenced", not UN). OHCHR's Sep 2024 figure is counted once
  (it was twice before, by area and by residents: the same statement, basis not stated).
- **People living under gang control** (`gang_controlled_population`, the residents of
  gang-held cells, nationally): UNICEF's Executive Director to the Security Council on 22 Apr
  2024, "an estimated 2.7 million people ... live in areas under their effective control"
  (national, as the speech reads), and "some two million people, according to U.N. estimates"
  (Reuters, 19 Jun 2023; the UN source and the area are not named: half weight). Log-normal,
  sigma 0.2: estimates of who lives where in areas no one can survey. With the capital's share of
  area they say how much of its *people* the gangs hold: the capital's area can be 80% theirs
  while its state-held neighbourhoods keep more of the population.
- **Displaced people** (`displaced`): IOM figures at the end of each round's reference month,
  Jun 2023 to Dec 2024. Jun 2023 is ">165,000", a lower bound. Left out: "~200,000" in Sep 2023
  (a rounded UN press-briefing figure, not an IOM round). Caveats: DTM rounds widened their
  coverage (Dec 2023 covered 7 of 10 departments; the Dec 2024 round's jump to 1,041,000 is partly
  coverage, so it weighs half); the round dates are reference months, not days.
- **Where the displaced live** (`displaced_in_provinces_share`): the share of them hosted outside
  the capital's metropolitan area, from the two 2024 rounds that split it: 68% in June (IOM DTM
  round 7: 32% in the metro) and "~75%" in September (round 8, as OCHA and ACAPS report it:
  ">173,000", about a quarter, in the metro). Read as intervals of +-5 points, the precision of
  key informants' estimates and of a share quoted as "~75%". The share grows as people hosted in
  the metro flee again (secondary displacement) to the provinces.
- **Killed per quarter** (`killed`): BINUH's quarterly human-rights counts (OHCHR's, the same
  office's, for the year) of people killed in gang violence, police operations against gangs and
  self-defence actions (lynchings) - the one definition the record gives for both 2023 and 2024,
  and the closest to the model's `killed` (every death in engagements and one-sided violence,
  gang members included). Not the Secretary-General's 4,789 homicides of 2023: that is the
  police's (PNH) homicide count, all homicides, and for the same quarter (Q4 2023) it is 1,432
  against BINUH's 1,104; it has no 2024 counterpart. Quarters: 2023-Q1 846, 2023-Q4 1,104,
  2024-Q1 1,660, 2024-Q3 1,223, 2024-Q4 1,732. 2023-Q3 ("1,576 killed or injured") and 2024-Q2
  ("1,379 killed or injured") give only an upper bound on the killed; 2023-Q2 gives no count of
  the killed (">1,860 killed, injured and kidnapped", too loose to use). The annual 2024 total
  (OHCHR 5,601, BINUH 5,626) is not a separate target: it contains the quarters. Caveats: BINUH
  counts documented cases (a floor; coverage of inaccessible areas varies); a later report
  revises a quarter by a few percent; quarters with no count are a hole, not a zero.
- **Kidnapped per quarter** (`kidnappings`): BINUH's quarterly counts of people abducted,
  2023-Q1 to 2024-Q4 (2023-Q4's 698 as the Secretary-General's report S/2024/62 gives it from
  BINUH's data). The Secretary-General's 2,490 for 2023 is not used: the quarters sum to 1,976, so
  it counts more (police reports) and would mix two definitions; in 2024 the quarters (1,467)
  match BINUH's annual 1,494 within 2%.
- **Killed in the state's operations per quarter** (`killed_in_state_operations`): BINUH counts
  apart the people killed in "law enforcement operations" (police, with the army and the mission
  beside it), most of them gang members, some bystanders; the model's count is the gang members
  and civilians killed in fights with the state on one side. 2024-Q1: 590 of the 1,660 killed.
  2024-Q3: "some 45 percent" of the 1,223 killed (~550, derived from a rounded share: half
  weight). 2024-Q4: 771 killed or injured in police operations, an upper bound on the killed
  (half weight, like the other bounds). With the quarter totals they say who kills: the record's
  shares of deaths by perpetrator (about 36-45% in the state's operations, ~8% by self-defence
  groups, the rest by gangs), which the model had no way to be checked against before.
- **Killed by self-defence groups per quarter** (`killed_by_self_defence`): BINUH's counts of
  people killed by self-defence groups and the population (Bwa Kale: lynchings), 2023-Q2 "at
  least 238" from the movement's start on 24 April to 30 June (a floor, half weight: the surge
  that the brigades' alarm after gang advances must reproduce, 7.8), 2024-Q1 141,
  2024-Q3 "at least 122" (about 8% of the killings; half weight: a floor, and the share and the
  count do not quite agree), 2024-Q4 268 lynched. Left out: OHCHR's "more than 350" lynched from
  24 April to 15 August 2023, a period that is not a quarter (it contains Q2's 238).
- **Injured** is not a target: the model does not simulate it (`injured = killed x a fixed
  ratio`), so fitting it would count the killed twice.
- **Police officers** (`police_officers`): headcount on 31 Dec 2023, 13,196 (BINUH/SG). Left out:
  "~10,000 active-duty" (Mar 2024, another definition) and the 2024-25 budget's 14,253 positions
  (funded posts, not officers: no class graduated in 2024).
- **RN1 in Lower Artibonite**: BINUH/OHCHR (Nov 2023) report gangs controlling RN1 and the
  settlements along about 80 km of the ~107 km of RN1 in the department: 0.75 of the road. The
  target is the share of the model's RN1 cells in Artibonite held by gangs on 28 Nov 2023, in
  [0.6, 0.9]: "about 80 km" is a reporter's round figure (70-90 km is 0.65-0.85), "control" of a
  road means checkpoints and attacks rather than an unbroken hold, and the model's road is 32
  cells of up to 5 km (one cell is 3% of it), so the interval is widened to 0.6-0.9. It is read
  from the control map (`engine.Observe(map_dates=MAP_DATES)`), not from a daily metric.

Observation model and likelihood
--------------------------------
A stock is read on its date (the runs are daily, no interpolation); a flow is summed over its
period, both ends included. Each target has one likelihood, evaluated per replicate:

- `NegBin` (gamma-Poisson, NB2) for counts: the observed count is negative binomial with mean the
  simulated count and size k, variance mu + mu^2 / k, so the relative error of a large count is
  1/sqrt(k). k = 25 for the killed (a 20% error: BINUH's documented cases are a floor whose
  coverage varies; same-definition revisions are 0.5-2%, the two definitions 30% apart) and
  k = 16 for kidnappings (25%: kidnappings are the least reported; the two 2023 counts are 26%
  apart). The simulated mean is floored at 0.5 so a run with none is very unlikely, not
  impossible.
- `Interval` for ranges and bounds: log-likelihood 0 inside [low, high] and -d^2/2 outside, d the
  distance to the nearer end in units of `scale` (on the log scale for counts), so it grows
  quadratically: a flat-topped likelihood. Scale 0.05 for the shares (the capital's, the
  displaced's), 0.1 for RN1, 0.15 (log) for the displacement lower bound, 0.2 (log) for the
  killed-or-injured bounds and the lynched's 2023 floor.
- `LogNormal` for stocks known as one figure: -z^2/2 with z = log(simulated / observed) / sigma
  (relative error). sigma = 0.15 for displacement (rounds are estimates from key informants;
  a release revised Dec 2023 from 313,901 to 315,000), 0.05 for the police headcount (a payroll
  count), 0.2 for the people under gang control.

Weights: 1 for each figure, except restatements and figures of weaker definition, at 0.5: the
capital's "80%" restated in Sep 2023 and Jan 2024, the unattributed "some two million" under gang
control of Jun 2023, the Dec 2024 displacement round (coverage
changed), the two killed-or-injured bounds, of the killed in the state's operations the
derived 2024-Q3 figure and the 2024-Q4 bound, and of the lynched the two floors (2023-Q2,
2024-Q3). `evaluate` returns per target and replicate the simulated value, the log-likelihood
and the distance (best attainable log-likelihood minus the log-likelihood: 0 for a perfect fit),
and the weighted
totals. Log-likelihoods are up to constants
that do not depend on the run (the log-normal's normalising term is dropped). The map target
counts only when the RN1 share is given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import gammaln

from sim.model import geography

D = dt.date
FIRST_DATE, LAST_DATE = D(2023, 1, 1), D(2024, 12, 31)  # the fitted record; 2025 is out of sample
MIN_MEAN = 0.5  # floor of a simulated count's mean in the negative binomial


@dataclass(frozen=True)
class NegBin:
    """Negative binomial (gamma-Poisson) with size `dispersion` and mean the simulated count."""

    dispersion: float


@dataclass(frozen=True)
class Interval:
    """0 inside [low, high], -d^2/2 outside, d in units of `scale` (of the log when `log`)."""

    low: float
    high: float
    scale: float
    log: bool = False


@dataclass(frozen=True)
class LogNormal:
    """Relative error: -z^2/2, z = log(simulated / observed) / sigma."""

    sigma: float


Likelihood = NegBin | Interval | LogNormal


@dataclass(frozen=True)
class Target:
    """One observed figure and how runs meet it.

    A stock (`period` None) is the state on `when`; a flow is the total over `when`..`period`'s
    end, both included; a map target (`metric` "") is read from the control map on `when`.
    `shown` is the figure as the source gives it, `value` a number to plot (the middle of a
    range, the bound of a bound)."""

    label: str
    metric: str
    when: dt.date
    shown: str
    value: float
    source: str
    likelihood: Likelihood
    weight: float = 1.0
    until: dt.date | None = None  # the last day of a flow's period
    share: bool = False  # a share (shown as a percentage) rather than a count

    @property
    def flow(self) -> bool:
        return self.until is not None

    @property
    def period(self) -> str:
        """The date, or the period as the record names it (2024-Q1)."""
        if not self.flow:
            return self.when.isoformat()
        return f"{self.when.year}-Q{(self.when.month - 1) // 3 + 1}"

    def simulated(self, values: np.ndarray, names: list[str], start: dt.date) -> np.ndarray:
        """This figure in runs: `values` is (replicate, day, metric), day 0 on `start`."""
        column = values[:, :, names.index(self.metric)]
        first = (self.when - start).days
        if not self.flow:
            return column[:, first]
        return column[:, first:(self.until - start).days + 1].sum(axis=1)


def _quarter(year: int, q: int) -> tuple[dt.date, dt.date]:
    first = D(year, 3 * q - 2, 1)
    nxt = D(year + q // 4, 3 * q % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def _share(when, shown, low, high, source, weight=1.0) -> Target:
    return Target("Capital under gang control, by area", "capital_gang_share_area", when, shown,
                  (low + high) / 2, source, Interval(low, high, 0.05), weight, share=True)


def _under_gangs(when, shown, value, source, weight=1.0) -> Target:
    return Target("People living under gang control", "gang_controlled_population", when, shown,
                  value, source, LogNormal(0.2), weight)


def _displaced(when, shown, value, source, likelihood=LogNormal(0.15), weight=1.0) -> Target:
    return Target("Displaced people", "displaced", when, shown, value, source, likelihood, weight)


def _provinces(when, shown, low, high, source) -> Target:
    return Target("Displaced living outside the capital (share)", "displaced_in_provinces_share",
                  when, shown, (low + high) / 2, source, Interval(low, high, 0.05), share=True)


def _count(label, metric, year, q, shown, value, source, likelihood, weight=1.0) -> Target:
    first, last = _quarter(year, q)
    return Target(label, metric, first, shown, value, source, likelihood, weight, until=last)


KILLED = NegBin(25.0)
KIDNAPPED = NegBin(16.0)
KILLED_BOUND = "killed or injured: an upper bound on the killed"


def _killed(year, q, shown, value, source, likelihood=KILLED, weight=1.0) -> Target:
    return _count("Killed in the quarter (BINUH: gangs, police operations, self-defence)",
                  "killed", year, q, shown, value, source, likelihood, weight)


def _in_operations(year, q, shown, value, source, likelihood=KILLED, weight=1.0) -> Target:
    return _count("Killed in the state's operations in the quarter (BINUH: law enforcement "
                  "operations)", "killed_in_state_operations", year, q, shown, value, source,
                  likelihood, weight)


def _lynched(year, q, shown, value, source, likelihood=KILLED, weight=1.0) -> Target:
    return _count("Killed by self-defence groups in the quarter (BINUH: lynchings)",
                  "killed_by_self_defence", year, q, shown, value, source, likelihood, weight)


def _kidnapped(year, q, value, source) -> Target:
    return _count("Kidnapped in the quarter (BINUH)", "kidnappings", year, q, f"{value:,}",
                  value, source, KIDNAPPED)


TARGETS = (
    _share(D(2023, 1, 21), "60%", 0.55, 0.65, "UN estimate, AP 21 Jan 2023"),
    _share(D(2023, 5, 18), "~80%", 0.75, 0.85, "UN, WION 18 May 2023"),
    _share(D(2023, 9, 15), "80%", 0.75, 0.85, "UN Panel of Experts S/2023/674", weight=0.5),
    _share(D(2024, 1, 15), "80%", 0.75, 0.85, "BINUH (SRSG Salvador), UNSC Jan 2024", weight=0.5),
    _share(D(2024, 9, 15), "80-90%", 0.80, 0.90, "OHCHR, Report on Haiti, Sep 2024"),
    _under_gangs(D(2023, 6, 19), "some two million (UN estimates)", 2_000_000,
                 "UN estimates, Reuters 19 Jun 2023", weight=0.5),
    _under_gangs(D(2024, 4, 22), "2.7 million", 2_700_000,
                 "UNICEF Executive Director to the UNSC, 22 Apr 2024"),
    _displaced(D(2023, 6, 30), ">165,000", 165_000, "IOM, Jun 2023",
               Interval(165_000, np.inf, 0.15, log=True)),
    _displaced(D(2023, 12, 31), "313,901", 313_901, "IOM Haiti, Jan 2024"),
    _displaced(D(2024, 3, 1), "362,551", 362_551, "IOM DTM, Mar 2024 (round of early 2024)"),
    _displaced(D(2024, 6, 30), "578,074", 578_074, "IOM DTM round 7 (Jun 2024)"),
    _displaced(D(2024, 9, 30), "702,973", 702_973, "IOM DTM round 8 (Sep 2024)"),
    _displaced(D(2024, 12, 31), "1,041,000", 1_041_000, "IOM DTM round 9, 14 Jan 2025",
               weight=0.5),
    _provinces(D(2024, 6, 30), "68%", 0.63, 0.73, "IOM DTM round 7 (Jun 2024)"),
    _provinces(D(2024, 9, 30), "~75%", 0.70, 0.80,
               "IOM DTM round 8 (Sep 2024), OCHA bulletin and ACAPS, Oct 2024"),
    Target("Police officers", "police_officers", D(2023, 12, 31), "13,196", 13_196,
           "BINUH/SG report, Jan 2024", LogNormal(0.05)),
    _killed(2023, 1, "846", 846, "OHCHR/BINUH Q1 2023 (Jurist May 2023)"),
    _killed(2023, 3, f"1,576 ({KILLED_BOUND})", 1_576, "BINUH Q3 2023",
            Interval(0, 1_576, 0.2, log=True), weight=0.5),
    _killed(2023, 4, "1,104", 1_104, "BINUH Q4 2023 (AFP)"),
    _killed(2024, 1, "1,660", 1_660, "BINUH Q1 2024 (19 Apr 2024)"),
    _killed(2024, 2, f"1,379 ({KILLED_BOUND})", 1_379, "BINUH Q2 2024 (30 Jul 2024)",
            Interval(0, 1_379, 0.2, log=True), weight=0.5),
    _killed(2024, 3, "1,223", 1_223, "BINUH Q3 2024 (29 Oct 2024)"),
    _killed(2024, 4, "1,732", 1_732, "BINUH Q4 2024 (4 Feb 2025)"),
    _in_operations(2024, 1, "590", 590, "BINUH Q1 2024 (19 Apr 2024)"),
    _in_operations(2024, 3, "~45% of the 1,223 killed (~550)", 550,
                   "BINUH Q3 2024 (29 Oct 2024), as UN News reported it", weight=0.5),
    _in_operations(2024, 4, f"771 ({KILLED_BOUND})", 771, "BINUH Q4 2024 (4 Feb 2025)",
                   Interval(0, 771, 0.2, log=True), weight=0.5),
    _lynched(2023, 2, "at least 238 (24 Apr-30 Jun: Bwa Kale's first weeks)", 238,
             "BINUH Q2 2023 report", Interval(238, np.inf, 0.2, log=True), weight=0.5),
    _lynched(2024, 1, "141", 141, "BINUH Q1 2024 (19 Apr 2024)"),
    _lynched(2024, 3, "at least 122 (~8% of the killings)", 122,
             "BINUH Q3 2024 (29 Oct 2024), as UN News reported it", weight=0.5),
    _lynched(2024, 4, "268", 268, "BINUH Q4 2024 (4 Feb 2025)"),
    _kidnapped(2023, 1, 395, "OHCHR/BINUH Q1 2023"),
    _kidnapped(2023, 2, 298, "BINUH Q2 2023"),
    _kidnapped(2023, 3, 585, "BINUH Q3 2023"),
    _kidnapped(2023, 4, 698, "SG report S/2024/62 (Q4 2023)"),
    _kidnapped(2024, 1, 438, "BINUH Q1 2024"),
    _kidnapped(2024, 2, 428, "BINUH Q2 2024"),
    _kidnapped(2024, 3, 170, "BINUH Q3 2024"),
    _kidnapped(2024, 4, 431, "BINUH Q4 2024"),
    Target("Share of RN1 cells in Artibonite held by gangs", "", D(2023, 11, 28),
           "gangs control RN1 along ~80 km of ~107 km", 0.75,
           "BINUH/OHCHR report on Lower Artibonite, Nov 2023", Interval(0.6, 0.9, 0.1),
           share=True),
)
STOCKS = tuple(t for t in TARGETS if t.metric and not t.flow)
FLOWS = tuple(t for t in TARGETS if t.flow)
RN1_ARTIBONITE = next(t for t in TARGETS if not t.metric)
MAP_DATES = (RN1_ARTIBONITE.when,)  # keep the control map on these days (engine.Observe)


def rn1_artibonite_share(held: np.ndarray, geo) -> np.ndarray:
    """Share of the RN1 cells in Artibonite that gangs hold: `held` is True where a gang holds
    a cell of `geo` (cells, or replicates x cells: one share per replicate)."""
    road = geo.roads["RN1"]
    in_artibonite = road[geo.department[road] == geo.department_index("Artibonite")]
    return np.asarray(held, dtype=bool)[..., in_artibonite].mean(axis=-1)


def synthetic(simulated: np.ndarray, targets: tuple[Target, ...] = TARGETS) -> tuple[Target, ...]:
    """The record as one run made it (`simulated`: each target's value in that run): same dates,
    likelihoods and weights, the run's figures in place of the observed ones (an interval moved
    to be centred on it). A calibration against it should recover the run's parameters
    (parameter-recovery tests)."""
    out = []
    for t, x in zip(targets, simulated, strict=True):
        lk = t.likelihood
        if isinstance(lk, Interval):
            half = (lk.high - lk.low) / 2 if np.isfinite(lk.high) else None
            lk = (Interval(max(x - half, 0.0), x + half, lk.scale, lk.log) if half is not None
                  else Interval(x, np.inf, lk.scale, lk.log))
        out.append(dataclasses.replace(t, value=float(x), shown=f"{x:,.3g} (synthetic)",
                                       likelihood=lk))
    return tuple(out)


def observed_range(t: Target) -> tuple[float, float]:
    """The observation as a range: an interval's bounds (an open upper bound: the figure twice
    over, for drawing), or the figure itself."""
    lk = t.likelihood
    if isinstance(lk, Interval):
        return lk.low, (lk.high if np.isfinite(lk.high) else 2 * t.value)
    return t.value, t.value


def met(t: Target, low: float, high: float) -> bool:
    """Whether a simulated band [low, high] meets the observation (or touches its interval)."""
    lo, hi = observed_range(t)
    if isinstance(t.likelihood, Interval) and not np.isfinite(t.likelihood.high):
        hi = np.inf
    return bool(high >= lo and low <= hi)


# ---- likelihoods: vectorised, simulated x of any shape against one observation y -----------

def nbinom_logpmf(y: float, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """log P(y) for a negative binomial of `mean` and size `dispersion` (scipy's nbinom with
    n = dispersion, p = dispersion / (dispersion + mean))."""
    mu = np.maximum(np.asarray(mean, dtype=float), MIN_MEAN)
    k = dispersion
    return (gammaln(y + k) - gammaln(k) - gammaln(y + 1)
            + k * np.log(k / (k + mu)) + y * np.log(mu / (k + mu)))


def interval_distance(x: np.ndarray, low: float, high: float, scale: float,
                      log: bool = False) -> np.ndarray:
    """Distance of x outside [low, high] in units of `scale` (0 inside)."""
    x = np.asarray(x, dtype=float)
    if log:  # the bounds of a count or stock, compared on the log scale
        with np.errstate(divide="ignore"):
            x, low, high = np.log(np.maximum(x, MIN_MEAN)), np.log(low), np.log(high)
    return np.maximum(np.maximum(low - x, x - high), 0.0) / scale


def log_likelihood(likelihood: Likelihood, y: float, x: np.ndarray) -> np.ndarray:
    """Log-likelihood of the observation y given the simulated values x (one per replicate); an
    interval's likelihood has its observation in its bounds and ignores y."""
    if isinstance(likelihood, NegBin):
        return nbinom_logpmf(y, x, likelihood.dispersion)
    if isinstance(likelihood, Interval):
        d = interval_distance(x, likelihood.low, likelihood.high, likelihood.scale, likelihood.log)
        return -0.5 * d ** 2
    z = np.log(np.maximum(np.asarray(x, dtype=float), MIN_MEAN) / y) / likelihood.sigma
    return -0.5 * z ** 2


def best_log_likelihood(likelihood: Likelihood, y: float) -> float:
    """The highest log-likelihood a run can reach (simulated value = the observation)."""
    if isinstance(likelihood, NegBin):
        return float(nbinom_logpmf(y, np.array(y), likelihood.dispersion))
    return 0.0


# ---- evaluation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Fit:
    """How runs meet the targets: per target (rows, in `targets` order) and replicate (columns).
    NaN rows are targets the runs could not be read for (the map target without a map)."""

    targets: tuple[Target, ...]
    simulated: np.ndarray
    log_likelihood: np.ndarray
    distance: np.ndarray
    weights: np.ndarray

    @property
    def total_log_likelihood(self) -> np.ndarray:
        """Weighted sum over targets, one per replicate."""
        return np.nansum(self.weights[:, None] * self.log_likelihood, axis=0)

    @property
    def total_distance(self) -> np.ndarray:
        """Weighted sum over targets of the distance, one per replicate: 0 is a perfect fit."""
        return np.nansum(self.weights[:, None] * self.distance, axis=0)


@lru_cache(maxsize=64)
def _plan(targets: tuple[Target, ...], names: tuple[str, ...], start: dt.date, n_days: int):
    """Columns and days to read, computed once per layout of the runs."""
    def day(d: dt.date) -> int:
        i = (d - start).days
        if not 0 <= i < n_days:
            raise ValueError(f"target date {d} is outside the runs ({start}, {n_days} days)")
        return i

    stock = [i for i, t in enumerate(targets) if t.metric and not t.flow]
    flow = [i for i, t in enumerate(targets) if t.flow]
    flow_metrics = sorted({targets[i].metric for i in flow})
    return (np.array(stock, int), np.array([names.index(targets[i].metric) for i in stock], int),
            np.array([day(targets[i].when) for i in stock], int),
            np.array(flow, int), np.array([names.index(m) for m in flow_metrics], int),
            np.array([flow_metrics.index(targets[i].metric) for i in flow], int),
            np.array([day(targets[i].when) for i in flow], int),
            np.array([day(targets[i].until) + 1 for i in flow], int),
            tuple(i for i, t in enumerate(targets) if not t.metric))


def simulate(values: np.ndarray, names, start: dt.date, rn1_share: np.ndarray | None = None,
             targets: tuple[Target, ...] = TARGETS) -> np.ndarray:
    """Every target's simulated value, (target, replicate): `values` is (replicate, day,
    metric) with day 0 on `start`; `rn1_share` one RN1 share per replicate (or None: NaN)."""
    values = np.asarray(values)
    stock, s_col, s_day, flow, f_cols, f_which, f_first, f_end, maps = _plan(
        tuple(targets), tuple(names), start, values.shape[1])
    out = np.full((len(targets), values.shape[0]), np.nan)
    out[stock] = values[:, s_day, s_col].T
    if len(flow):
        cum = np.zeros((values.shape[0], values.shape[1] + 1, len(f_cols)))
        np.cumsum(values[:, :, f_cols], axis=1, out=cum[:, 1:])
        out[flow] = (cum[:, f_end, f_which] - cum[:, f_first, f_which]).T
    if rn1_share is not None:
        out[list(maps)] = np.asarray(rn1_share, dtype=float)
    return out


def evaluate(values: np.ndarray, names, start: dt.date, rn1_share: np.ndarray | None = None,
             targets: tuple[Target, ...] = TARGETS) -> Fit:
    """Simulated values, log-likelihoods, distances and weights of `targets` for the runs (see
    `simulate`); a target with no simulated value (NaN) counts zero in the totals."""
    sim = simulate(values, names, start, rn1_share, targets)
    ll = np.full_like(sim, np.nan)
    dist = np.full_like(sim, np.nan)
    for i, t in enumerate(targets):  # one vectorised call per target, never per day or run
        if np.isnan(sim[i]).all():
            continue
        ll[i] = log_likelihood(t.likelihood, t.value, sim[i])
        dist[i] = best_log_likelihood(t.likelihood, t.value) - ll[i]
    return Fit(tuple(targets), sim, ll, dist, np.array([t.weight for t in targets]))


def evaluate_outputs(outputs, targets: tuple[Target, ...] = TARGETS, geo=None) -> Fit:
    """`evaluate` on `engine.run` outputs of one scenario (replicates), run with
    `engine.Observe(map_dates=MAP_DATES)` for the map target (without it, it counts zero)."""
    outputs = list(outputs)
    first = outputs[0]
    values = np.stack([o.values for o in outputs])
    return evaluate(values, list(first.metrics), first.start, rn1_of_outputs(outputs, geo),
                    targets)


def rn1_of_outputs(outputs, geo=None) -> np.ndarray | None:
    """The RN1 target's share in each of `outputs` (replicates of one scenario), from their map
    snapshot on its date; None where the runs kept no such snapshot."""
    first = outputs[0]
    when = (RN1_ARTIBONITE.when - first.start).days
    if first.snapshot_steps is None or when not in list(first.snapshot_steps):
        return None
    held = np.stack([o.held_map_on(when) for o in outputs])
    return rn1_artibonite_share(held, geo or geography.load())
