"""The target search: the smallest value of a lever for which a goal's probability reaches P.

`search(evaluate, low, high, probability)` is a pure function of `evaluate(levels, replicates)`,
which returns whether each replicate meets the goal at each lever value (a replicates x levels
array of booleans). `haiti-sim target` passes one that runs the model (`sim.running.levels`);
the tests pass a toy response whose answer is known. Replicate r is the same replicate (the same
seed) at every lever value, so the curve is traced with common random numbers: neighbouring
values differ by the lever's effect, not by luck, and each level's replicates are a prefix
0..n-1 of one sequence, so any two levels share their first replicates.

How it searches. The probability of the goal is assumed to rise with the lever (more troops,
more interdiction); nothing else about its shape is assumed.

1. A coarse grid (5 values from `low` to `high`, both included) on a few replicates (12).
2. A monotone fit: the isotonic regression (pool-adjacent-violators) of the share of replicates
   meeting the goal at each value, weighted by replicates, makes the curve non-decreasing and
   brackets the crossing of P between two run values. A logistic curve in the lever, with a
   non-negative slope, over the two values on each side of the crossing, places the answer
   where it crosses P, pooling the replicates of the nearby values rather than those of one.
   Where every run fails at the lower value and meets the goal at the upper one, nothing is
   known in between: the next value run is the middle (bisection).
3. The answer's uncertainty: a bootstrap over replicates (whole replicates are resampled, each
   with its outcomes at every value, which keeps the pairing of common random numbers) repeats
   the fit; the 5th and 95th percentiles of its answers are the 90% interval of the answer,
   those of its fitted P at the answer the interval of P there.
4. Replicates go where the curve crosses P: each round runs the answer (or a value already
   run close to it) on the replicates that should bring P's interval
   there to `precision` (its half-width; 0.05 by default), at least 1.5 times as many as its
   neighbourhood had, at most `max_replicates`; an end of the answer's interval with no value
   run on its side gets the neighbourhood's replicates, to trace the curve's slope. The search
   stops once P at the answer is known that well and a value run close to the answer (within
   half its interval's width) has a Wilson interval within 1.5 times the precision (a fit is
   not trusted across a stretch without runs, however narrow its bootstrap), once the
   answer's interval is narrower than the lever's resolution (a thousandth of the range; a
   whole unit for a whole-number lever), or once the replicates are spent.

Where the runs still separate when the search stops (every run fails at one value and meets the
goal at the next one run), the answer is the upper of the two, the smallest value known to reach
P, and its interval the gap between them.

If P is not reached even at `high` (the isotonic share there is below P), the search adds
replicates at `high` until its 90% Wilson interval lies below P (or replicates run out), and
reports that; likewise if P is already reached at `low`. Every point of the curve keeps its
Wilson interval (`sim.analysis.stats.wilson`), so the chart shows what each value's runs say on
their own.

Cost. Under common random numbers the runs of one replicate at nearby values mostly agree, so
P at the answer is known to +-5 points only from about z^2 P (1 - P) / 0.05^2 distinct
replicates near it (173 at P = 0.8, 270 at 0.5): that, not the search, sets the time a precise
answer takes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.analysis import compare, stats
from sim.analysis.goals import Goal
from sim.model.parameters import PARAMS
from sim.model.scenario import Scenario, apply_event
from sim.running.design import Design, Factor

Evaluate = Callable[[np.ndarray, np.ndarray], np.ndarray]
FOUND, NOT_REACHED, ALREADY = "found", "not reached", "already reached"
# A weak ridge on the logistic slope (per unit of the standardised lever) keeps the fit finite
# where the runs separate perfectly (every run fails below a value and succeeds above).
RIDGE = 0.05
# The finest step of a lever that is not a whole number, as a share of the range searched: the
# answer is not sought more finely (20 troops of 0 to 20,000).
RESOLUTION = 1e-3


class SearchError(ValueError):
    """A search that cannot run as asked; `str()` is the message for the user."""


@dataclass(frozen=True)
class Settings:
    """How the search spends replicates (see the module docstring)."""

    first_levels: int = 5
    first_replicates: int = 12
    max_replicates: int = 256  # the most replicates any lever value gets
    precision: float = 0.05  # wanted half-width of the 90% interval of P at the answer
    max_rounds: int = 12
    bootstrap: int = 200
    integer: bool = False  # a lever of whole numbers: values and the answer are whole too
    seed: int = 0  # of the bootstrap's resampling


@dataclass(frozen=True)
class Point:
    """One lever value of the curve: `successes` of `n` replicates met the goal."""

    level: float
    successes: int
    n: int

    @property
    def p(self) -> float:
        return self.successes / self.n

    @property
    def interval(self) -> tuple[float, float]:
        return stats.wilson(self.successes, self.n)


@dataclass(frozen=True)
class Curve:
    """A fit of the probability against the lever: `status`, the crossing `answer` and the
    fitted probability there; `isotonic` per level; the logistic `intercept` and `slope` (on the
    lever standardised by `centre` and `scale`) over `window` (its lowest and highest levels)."""

    status: str
    answer: float | None = None
    p_at_answer: float | None = None
    levels: np.ndarray = field(default_factory=lambda: np.empty(0))
    isotonic: np.ndarray = field(default_factory=lambda: np.empty(0))
    window: tuple[float, float] | None = None
    intercept: float = 0.0
    slope: float = 0.0
    centre: float = 0.0
    scale: float = 1.0
    gap: tuple[float, float] | None = None  # no run between: every run fails below, passes above

    def p(self, level) -> np.ndarray:
        """The fitted probability at `level`: the logistic within the window, the isotonic
        curve (linear between levels) outside it."""
        level = np.asarray(level, dtype=float)
        out = np.interp(level, self.levels, self.isotonic)
        if self.window is not None:
            inside = (level >= self.window[0]) & (level <= self.window[1])
            logistic = _sigmoid(self.intercept + self.slope * (level - self.centre) / self.scale)
            out = np.where(inside, logistic, out)
        return out


@dataclass(frozen=True)
class Search:
    """What the search found: `status` (FOUND, NOT_REACHED at `high`, ALREADY reached at
    `low`), the `answer` and its 90% `interval` (FOUND), the probability of the goal at the
    answer (or at the end of the range) with its 90% interval, every point of the curve and the
    final fit."""

    probability: float
    low: float
    high: float
    status: str
    answer: float | None
    interval: tuple[float, float] | None
    p_at: tuple[float, float, float]  # (p, low, high) at the answer, or at `low`/`high`
    points: tuple[Point, ...]
    curve: Curve
    rounds: int

    @property
    def runs(self) -> int:
        return sum(pt.n for pt in self.points)


# ---------------------------------------------------------------------------- fitting
def _sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


def isotonic(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence closest to `y` in weighted least squares (pool adjacent
    violators); a value of weight 0 takes its block's value."""
    blocks: list[list[float]] = []  # [value, weight, count]
    for value, weight in zip(np.asarray(y, float), np.asarray(w, float), strict=True):
        blocks.append([value if weight > 0 else -np.inf, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            total = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / total if total else max(v1, v2), total, c1 + c2])
    out = np.repeat([b[0] for b in blocks], [int(b[2]) for b in blocks])
    # leading weightless values take the first weighted block's value
    finite = np.isfinite(out)
    return np.where(finite, out, out[finite][0] if finite.any() else np.nan)


def _logistic(x: np.ndarray, s: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of the logistic maximising the binomial likelihood of `s` of `n`
    at standardised `x`, slope >= 0 and weakly ridged (Newton's method)."""
    pooled = np.clip(s.sum() / n.sum(), 1e-6, 1 - 1e-6)
    a, b = math.log(pooled / (1 - pooled)), 0.0
    for _ in range(50):
        p = _sigmoid(a + b * x)
        weight = n * p * (1 - p)
        grad = np.array([np.sum(s - n * p), np.sum((s - n * p) * x) - RIDGE * b])
        hess = np.array([[weight.sum(), (weight * x).sum()],
                         [(weight * x).sum(), (weight * x * x).sum() + RIDGE]])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        a, b = a + step[0], b + step[1]
        if np.abs(step).max() < 1e-9:
            break
    if not b > 0:  # the best non-negative slope is none: a flat curve at the pooled share
        return math.log(pooled / (1 - pooled)), 0.0
    return float(a), float(b)


def fit(levels: np.ndarray, successes: np.ndarray, n: np.ndarray, probability: float) -> Curve:
    """The monotone fit of the curve and where it crosses `probability` (see the module
    docstring); `levels` rising, levels without replicates ignored."""
    keep = n > 0
    x, s, n = levels[keep], successes[keep].astype(float), n[keep].astype(float)
    q = isotonic(s / n, n)
    if q[0] >= probability:
        return Curve(ALREADY, levels=x, isotonic=q)
    if q[-1] < probability:
        return Curve(NOT_REACHED, levels=x, isotonic=q)
    j = int(np.argmax(q >= probability))  # the first level at or above P; j >= 1
    x0, x1 = x[j - 1], x[j]
    if s[j - 1] == 0 and s[j] == n[j]:  # every run fails below, succeeds above: bisect
        middle = float((x0 + x1) / 2)
        return Curve(FOUND, middle, float(np.interp(middle, x, q)), x, q,
                     gap=(float(x0), float(x1)))
    # the logistic near the crossing: the two levels on each side of it
    w = slice(max(j - 2, 0), min(j + 2, len(x)))
    centre = float(np.average(x[w], weights=n[w]))
    scale = float(np.sqrt(np.average((x[w] - centre) ** 2, weights=n[w]))) or 1.0
    a, b = _logistic((x[w] - centre) / scale, s[w], n[w])
    if b > 0:
        crossing = centre + scale * (math.log(probability / (1 - probability)) - a) / b
        answer = float(np.clip(crossing, x[w][0], x[w][-1]))
    else:  # the isotonic curve, linear between the two levels that bracket P
        answer = float(x0 + (probability - q[j - 1]) / (q[j] - q[j - 1]) * (x1 - x0))
    curve = Curve(FOUND, answer, None, x, q, (float(x[w][0]), float(x[w][-1])), a, b, centre,
                  scale)
    return dataclasses.replace(curve, p_at_answer=float(curve.p(answer)))


@dataclass(frozen=True)
class Estimate:
    """A fit of the data so far, with its bootstrap: the answer's 90% interval and that of the
    probability at the answer."""

    curve: Curve
    interval: tuple[float, float] | None = None
    p_interval: tuple[float, float] | None = None


def _table(data: dict[float, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(outcomes as replicates x levels, 0/1 with NaN where not run; levels rising)."""
    levels = np.array(sorted(data))
    rows = max(len(v) for v in data.values())
    table = np.full((rows, len(levels)), np.nan)
    for k, level in enumerate(levels):
        table[:len(data[level]), k] = data[level]
    return levels, table, np.isfinite(table)


def estimate(data: dict[float, np.ndarray], probability: float, low: float, high: float,
             draws: int, rng: np.random.Generator) -> Estimate:
    """Fit the outcomes so far (`data`: each level's replicates 0..n-1) and bootstrap them."""
    levels, table, ran = _table(data)
    met = np.where(ran, table, 0.0)
    curve = fit(levels, met.sum(axis=0), ran.sum(axis=0), probability)
    if curve.status != FOUND or draws == 0:
        return Estimate(curve)
    if curve.gap is not None:  # the answer is anywhere in the gap, P there anything
        return Estimate(curve, curve.gap, (0.0, 1.0))
    rows = len(table)
    counts = rng.multinomial(rows, np.full(rows, 1 / rows), size=draws).astype(float)
    successes, trials = counts @ met, counts @ ran
    answers, at_answer = np.empty(draws), np.empty(draws)
    for d in range(draws):
        c = fit(levels, successes[d], trials[d], probability)
        answers[d] = c.answer if c.status == FOUND else (high if c.status == NOT_REACHED
                                                         else low)
        at_answer[d] = c.p(curve.answer)
    interval = tuple(float(v) for v in np.clip(np.quantile(answers, (stats.Q_LOW, stats.Q_HIGH)),
                                               low, high))
    p_interval = tuple(float(v) for v in np.quantile(at_answer, (stats.Q_LOW, stats.Q_HIGH)))
    return Estimate(curve, interval, p_interval)


# ---------------------------------------------------------------------------- searching
def _run(evaluate: Evaluate, data: dict[float, np.ndarray], wanted: dict[float, int]) -> None:
    """Bring each wanted level to its number of replicates. Replicates are asked for in ranges
    that every level short of them needs, so each replicate runs once per call, with all the
    levels that need it (one shared history)."""
    have = {level: len(data.get(level, ())) for level in wanted}
    cuts = sorted({*have.values(), *wanted.values()})
    for start, stop in zip(cuts, cuts[1:], strict=False):
        levels = [lv for lv in wanted if have[lv] <= start < wanted[lv]]
        if not levels:
            continue
        replicates = np.arange(start, stop)
        got = np.asarray(evaluate(np.array(levels, float), replicates), dtype=bool)
        if got.shape != (len(replicates), len(levels)):
            raise ValueError(f"evaluate returned shape {got.shape}, not "
                             f"{(len(replicates), len(levels))}")
        for k, level in enumerate(levels):
            data[level] = np.concatenate([data.get(level, np.empty(0)), got[:, k]])


def _snap(value: float, low: float, high: float, integer: bool) -> float:
    value = min(max(value, low), high)
    return float(math.ceil(value - 1e-9)) if integer else float(value)


def _supported(answer: float, interval: tuple[float, float], data: dict[float, np.ndarray],
               resolution: float, precision: float) -> bool:
    """Whether the fit at the answer rests on runs there: a value run within half the width of
    the answer's interval from it (a value the answer cannot be told apart from), whose own 90%
    Wilson interval is within 1.5 times the precision wanted (a fit is not trusted across a
    stretch without runs, however narrow its bootstrap)."""
    near = [lv for lv in data if abs(lv - answer) <= max((interval[1] - interval[0]) / 2,
                                                          resolution)]
    for level in near:
        low, high = stats.wilson(int(data[level].sum()), len(data[level]))
        if (high - low) / 2 <= 1.5 * precision:
            return True
    return False


def _next(est: Estimate, data: dict[float, np.ndarray], low: float, high: float,
          probability: float, settings: Settings) -> dict[float, int]:
    """The levels to run next and their replicates, or {} to stop."""
    curve = est.curve
    if curve.status in (NOT_REACHED, ALREADY):  # is the end of the range clear of P?
        end = max(data) if curve.status == NOT_REACHED else min(data)
        outcomes = data[end]
        lo, hi = stats.wilson(int(outcomes.sum()), len(outcomes))
        clear = hi < probability if curve.status == NOT_REACHED else lo >= probability
        if clear or len(outcomes) >= settings.max_replicates:
            return {}
        return {end: min(2 * len(outcomes), settings.max_replicates)}
    lo, hi = est.interval
    resolution = 1.0 if settings.integer else (high - low) * RESOLUTION
    if hi - lo <= resolution:
        return {}
    if curve.gap is not None:  # bisect the gap, on as many replicates as its ends have
        x = _snap(curve.answer, low, high, settings.integer)
        return {} if x in data else {x: max(len(data[end]) for end in curve.gap)}
    p_lo, p_hi = est.p_interval
    if ((p_hi - p_lo) / 2 <= settings.precision
            and _supported(curve.answer, est.interval, data, resolution, settings.precision)):
        return {}
    # More replicates at the answer, as many as should bring P's interval there to the precision
    # wanted (its width shrinks as one over the root of the replicates), at least 1.5 and at
    # most 4 times as many as its neighbourhood has. A value already run close to the answer
    # (as `_supported` reads it) takes them: with common random numbers, a new value near it
    # would mostly repeat its replicates' outcomes. An end of the interval with no run on its
    # side of the answer (within the interval's width) gets the neighbourhood's replicates, to
    # trace the slope.
    n = max([len(v) for lv, v in data.items() if lo <= lv <= hi] or [settings.first_replicates])
    wanted_n = 1.2 * n * ((p_hi - p_lo) / 2 / settings.precision) ** 2
    n_next = min(int(math.ceil(min(max(wanted_n, 1.5 * n), 4 * n))), settings.max_replicates)
    answer = _snap(curve.answer, low, high, settings.integer)
    close = [lv for lv in data if abs(lv - curve.answer) <= max((hi - lo) / 2, resolution)]
    if close:
        answer = min(close, key=lambda level: abs(level - curve.answer))
    wanted = {answer: n_next}
    width = max(hi - lo, resolution)
    for end, side in ((lo, -1), (hi, 1)):
        if not any(0 <= side * (lv - curve.answer) <= width for lv in data):
            wanted.setdefault(_snap(end, low, high, settings.integer), n)
    if all(len(data.get(level, ())) >= n for level, n in wanted.items()):
        return {}  # the replicates are spent
    return wanted


def search(evaluate: Evaluate, low: float, high: float, probability: float,
           settings: Settings = Settings(),
           on_round: Callable[[int, Estimate], None] | None = None) -> Search:
    """The smallest lever value in [low, high] at which the goal's probability reaches
    `probability` (see the module docstring). `on_round(round, estimate)` is told each fit."""
    if not 0 < probability < 1:
        raise SearchError(f"--probability must lie strictly between 0 and 1, got {probability}")
    if not low < high:
        raise SearchError(f"--low ({low:g}) must be below --high ({high:g})")
    if settings.first_levels < 2 or settings.first_replicates < 1:
        raise SearchError("the first round needs at least 2 levels and 1 replicate")
    if settings.max_replicates < settings.first_replicates:
        raise SearchError(f"--replicates must be at least {settings.first_replicates}, the "
                          f"first round's, got {settings.max_replicates}")
    rng = np.random.default_rng(settings.seed)
    grid = dict.fromkeys(_snap(x, low, high, settings.integer)
                         for x in np.linspace(low, high, settings.first_levels))
    data: dict[float, np.ndarray] = {}
    _run(evaluate, data, dict.fromkeys(grid, settings.first_replicates))
    for round_ in range(1, settings.max_rounds + 1):
        est = estimate(data, probability, low, high, settings.bootstrap, rng)
        if on_round is not None:
            on_round(round_, est)
        wanted = _next(est, data, low, high, probability, settings)
        if not wanted or round_ == settings.max_rounds:
            break
        _run(evaluate, data, wanted)
    return _result(est, data, probability, low, high, settings, round_)


def _result(est: Estimate, data: dict[float, np.ndarray], probability: float, low: float,
            high: float, settings: Settings, rounds: int) -> Search:
    points = tuple(Point(level, int(data[level].sum()), len(data[level]))
                   for level in sorted(data))
    curve = est.curve
    if curve.gap is not None:  # the smallest value run at which every run meets the goal
        answer = curve.gap[1]
        first = next(pt for pt in points if pt.level == answer)
        return Search(probability, low, high, FOUND, answer, curve.gap,
                      (first.p, *first.interval), points, curve, rounds)
    if curve.status == FOUND:
        answer = _snap(curve.answer, low, high, settings.integer)
        lo, hi = est.interval
        if settings.integer:
            lo, hi = float(math.floor(lo)), float(math.ceil(hi))
        interval = (min(lo, answer), max(hi, answer))
        p_at = (curve.p_at_answer, *est.p_interval)
        return Search(probability, low, high, FOUND, answer, interval, p_at, points, curve,
                      rounds)
    end = points[-1] if curve.status == NOT_REACHED else points[0]
    return Search(probability, low, high, curve.status, None, None, (end.p, *end.interval),
                  points, curve, rounds)


# ---------------------------------------------------------------------------- reading the result
def levers() -> list[str]:
    """The levers a search may move: the policy choices of the parameter table with a numeric
    range (not a choice among names)."""
    return [n for n, p in PARAMS.items() if p.lever and not p.choices]


def lever(name: str, option: str = "--lever"):
    """The declaration of a lever the search may move (one of `levers()`); a SearchError naming
    `option` if `name` is not one."""
    levers_ = levers()
    if name not in PARAMS:
        near = difflib.get_close_matches(name, levers_, n=1, cutoff=0.6)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise SearchError(f"{option}: unknown parameter '{name}'{hint}; haiti-sim params --role "
                          "lever lists the levers")
    p = PARAMS[name]
    if not p.lever:
        raise SearchError(f"{option} {name} is {'an' if p.role[0] in 'aeiou' else 'a'} "
                          f"{p.role}, not a lever (a policy choice); haiti-sim params --role "
                          "lever lists the levers")
    if p.choices:
        raise SearchError(f"{option} {name} is a choice among names ({', '.join(p.choices)}), "
                          "not a quantity to search over; compare its choices with "
                          "haiti-sim batch")
    return p


@dataclass(frozen=True)
class Line:
    """Levers moved together: `lever`, searched from `low` to `high`, and each lever of `follow`
    (name, its value at `low`, its value at `high`) on the straight line through those two
    values, e.g. the funding that pays for the troops searched. The search stays
    one-dimensional, over `lever`; every run sets all of them (`values`). A line with nothing
    to follow is the single lever."""

    lever: str
    low: float
    high: float
    follow: tuple[tuple[str, float, float], ...] = ()

    @property
    def followers(self) -> list[str]:
        return [name for name, _, _ in self.follow]

    def values(self, level: float) -> dict[str, float]:
        """Every lever's value where `lever` is `level` (a whole-number lever rounded)."""
        out = {self.lever: float(level)}
        share = (level - self.low) / (self.high - self.low)
        for name, at_low, at_high in self.follow:
            value = at_low + share * (at_high - at_low)
            out[name] = float(round(value)) if PARAMS[name].integer else float(value)
        return out

    def describe(self) -> dict:
        """The line as JSON: each follower's ends and its intercept and slope in `lever`."""
        def slope(at_low, at_high):
            return (at_high - at_low) / (self.high - self.low)

        return {"lever": self.lever, "low": self.low, "high": self.high, "with": [
            {"name": name, "at_low": at_low, "at_high": at_high,
             "intercept": at_low - slope(at_low, at_high) * self.low,
             "slope": slope(at_low, at_high)} for name, at_low, at_high in self.follow]}

    def design(self, levels: Sequence[float]) -> Design:
        """The design of a search that has run these values of the lever, in the order first
        run: a point of every lever's value at each, each lever a factor over the line's range,
        and the line and the values in its settings, so that a resumed search makes the same
        plan again."""
        factors = (Factor(self.lever, self.low, self.high),
                   *(Factor(name, min(a, b), max(a, b)) for name, a, b in self.follow))
        return Design("line", factors, tuple(self.values(level) for level in levels),
                      settings={"line": self.describe(), "values": [float(v) for v in levels]})

    def shown(self, level: float) -> str:
        """"; with NAME = VALUE, ..." of the followers at `level` ("" if none): what the answer
        line adds after the lever's own value."""
        if not self.follow:
            return ""
        values = self.values(level)
        return "; with " + ", ".join(f"{name} = {show_value(name, values[name])}"
                                     for name in self.followers)


def line(lever_name: str, low: float, high: float,
         follow: dict[str, tuple[float, float]] | None = None) -> Line:
    """The line of the lever searched over [low, high] with the levers of `follow` (name: its
    values at `low` and at `high`), each checked as --with: a lever (a policy choice, numeric),
    not the one searched, and within its allowed range at both ends (a straight line between
    two values in range stays in range)."""
    follow = dict(follow or {})
    for name, ends in follow.items():
        p = lever(name, "--with")
        if name == lever_name:
            raise SearchError(f"--with {name}: it is the lever searched (--lever); give another "
                              "lever to move with it")
        for value, end, at in zip(ends, ("--low", "--high"), (low, high), strict=True):
            if not p.low <= value <= p.high:
                raise SearchError(
                    f"--with {name}: the line gives it {show_value(name, value)} at {end} "
                    f"({show_level(at, PARAMS[lever_name].integer)}), outside its allowed "
                    f"range, {show_value(name, p.low)} to {show_value(name, p.high)} "
                    f"({p.unit}); change its values or the range searched")
    return Line(lever_name, float(low), float(high),
                tuple((name, float(a), float(b)) for name, (a, b) in follow.items()))


def show_level(value: float | None, integer: bool) -> str:
    """A lever value as the answer line and tables print it: whole numbers without decimals,
    others to four significant digits."""
    if value is None:
        return "-"
    return f"{value:.0f}" if integer or abs(value) >= 1000 else f"{value:.4g}"


def show_value(name: str, value: float, among: Sequence[float] = ()) -> str:
    """A lever's value as the answer line and the table say it: money by `compare.show_money`
    (in the unit of `value` and the values `among` shown with it, a table's column), others as
    `show_level`."""
    p = PARAMS[name]
    if p.unit.startswith("USD"):
        return compare.show_money(value, compare.money_unit([value, *among]))
    return show_level(value, p.integer)


def to_dict(result: Search, line: Line | None = None) -> dict:
    """The result as JSON: status, answer, interval, P there and every point of the curve; with
    `line`, the line and every lever's value at each point, at the answer and at its
    interval's ends."""
    p, p_low, p_high = result.p_at
    c = result.curve
    moved = {} if line is None else {"line": {
        **line.describe(),
        "points": [line.values(pt.level) for pt in result.points],
        "answer": None if result.answer is None else line.values(result.answer),
        "interval": None if result.interval is None else [line.values(end)
                                                          for end in result.interval]}}
    return {
        "probability": result.probability,
        "range": [result.low, result.high],
        "status": result.status,
        "answer": result.answer,
        "interval": list(result.interval) if result.interval else None,
        "p_at": {"level": result.answer if result.status == FOUND else
                 (result.high if result.status == NOT_REACHED else result.low),
                 "p": p, "low": p_low, "high": p_high},
        "points": [{"level": pt.level, "n": pt.n, "successes": pt.successes, "p": pt.p,
                    "low": pt.interval[0], "high": pt.interval[1]} for pt in result.points],
        "fit": {"isotonic": [float(v) for v in c.isotonic], "logistic_window":
                list(c.window) if c.window else None, "intercept": c.intercept,
                "slope": c.slope, "centre": c.centre, "scale": c.scale},
        "rounds": result.rounds,
        "runs": result.runs,
        "replicates": max(pt.n for pt in result.points),
        **moved,
    }


def table(result: Search, lever_name: str, integer: bool,
          line: Line | None = None) -> compare.TextTable:
    """The curve's points: how many replicates met the goal at each value, with the 90% Wilson
    interval (and the value of every lever `line` moves with it)."""
    followers = [] if line is None else line.followers
    column = {name: [line.values(pt.level)[name] for pt in result.points] for name in followers}
    rows = [[show_level(pt.level, integer),
             *(show_value(name, column[name][k], column[name]) for name in followers),
             str(pt.n), compare.show_probability(stats.Probability(pt.p, *pt.interval, pt.n))]
            for k, pt in enumerate(result.points)]
    return compare.TextTable(f"Chance of the goal at each value of {lever_name} run: share of "
                             "replicates [90% interval]",
                             [lever_name, *followers, "replicates", "chance"], rows)


def lever_notes(s: Scenario, line: Line) -> list[str]:
    """What can keep the levers of `line` from acting as set: the scenario's own later changes
    of them, and the caps on troops at the top of the range, with the values the line gives
    there (the command line prints them as notes, the app as warnings)."""
    lever, high = line.lever, line.high
    notes = [f"the scenario itself sets {e.name} on {e.date} ({e.note or e.op}); the value "
             f"{'searched' if e.name == lever else 'the line gives'} holds until then"
             for e in s.events
             if e.name in line.values(high) and s.branch and e.date > s.branch]
    if lever == "mission_troops_target":
        # Imported here: the mission's module brings in Mesa, which the command line's start
        # and a batch's parent need not load (only this note reads the mission's rates).
        from sim.model import mission

        values = dict(s.parameters)  # in force on the branch date, when the lever acts
        for e in s.events:
            if s.branch is None or e.date <= s.branch:
                values[e.name] = apply_event(values, e)
        values.update(line.values(high))
        ceiling, r = values["mission_troop_ceiling"], mission.rates(values)
        if high > ceiling:
            notes.append(f"mission_troop_ceiling is {ceiling:,.0f} in this scenario: a target "
                         "above it deploys no more troops; raise it with --set "
                         "mission_troop_ceiling=N")
        funded = mission.funded_troops(r)
        if high > funded:
            where = " at --high, on the line," if line.follow else ""
            notes.append(f"the pledges in force{where} pay for about {funded:,.0f} troops "
                         "(after the disbursement shortfall and fixed costs): a target above "
                         "it deploys no more once any reserve is spent; raise the funding with "
                         "--set funding_mission_others=USD")
        months = high / max(r.arrivals_per_day * 365 / 12, 1e-9)
        if months > 12:
            notes.append(f"at {r.arrivals_per_day * 365 / 12:,.0f} troops a month, "
                         f"{high:,.0f} take {months:,.0f} months to arrive; raise the pace with "
                         "--set mission_deploy_troops_per_month=N")
    return notes


def summary(result: Search, param, goal: Goal, precision: float,
            line: Line | None = None) -> tuple[list[str], str]:
    """The lines that say what a search found, and its last line (`answer: NAME = VALUE (90%
    interval LO to HI)`, or that the goal is not reached at --high or already at --low, then
    `; with OTHER = VALUE` for each lever `line` moves with it); `param` is the lever's
    declaration (`lever`)."""
    def followers(level):
        return "" if line is None else line.shown(level)

    def show(value):
        return show_level(value, param.integer)

    p, low, high = result.p_at
    chance = f"{p:.0%} [{low:.0%}-{high:.0%}]"
    lines = [f"Goal: {goal.describe()}, with a chance of at least {result.probability:.0%}."]
    if result.status == FOUND:
        lo, hi = result.interval
        lines.append(f"Chance of the goal at {param.name} = {show(result.answer)}: {chance} "
                     "(90% interval).")
        lines.append(f"The answer is read off the fitted curve, where it reaches "
                     f"{result.probability:.0%}: a logistic in the lever over the values run on "
                     "each side of the crossing, pooling their replicates, so a value run on its "
                     "own may fall on either side of it by chance (see its interval in the "
                     "table).")
        ends = [f"{'--low' if end == result.low else '--high'} ({show(end)})"
                for end in (lo, hi) if end in (result.low, result.high)]
        if ends:
            lines.append(f"note: the interval reaches {' and '.join(ends)}: the answer may lie "
                         "beyond the range searched")
        half = (high - low) / 2
        if half > precision:
            lines.append(f"note: the chance at the answer is known to +-{half * 100:.0f} points "
                         "only (more --replicates would narrow it)")
        return lines, (f"answer: {param.name} = {show(result.answer)} (90% interval {show(lo)} "
                       f"to {show(hi)}){followers(result.answer)}")
    if result.status == NOT_REACHED:
        return lines, (f"answer: not reached: at --high {param.name} = {show(result.high)} the "
                       f"chance of the goal is only {chance}, below {result.probability:.0%}"
                       f"{followers(result.high)}")
    return lines, (f"answer: already reached: at --low {param.name} = {show(result.low)} the "
                   f"chance of the goal is {chance}, at least {result.probability:.0%}"
                   f"{followers(result.low)}")


# ---------------------------------------------------------------------------- the model's runs
@dataclass(frozen=True)
class MeetsGoal:
    """Whether one run meets `goal`, flows counted from `origin`: what the app's runner reduces
    each run to in the worker that ran it (so only a boolean travels back), and what the command
    line's search reads of each run from its files (`sim.running.levels`)."""

    goal: Goal
    origin: dt.date

    def __call__(self, out) -> bool:
        dates = np.datetime64(out.start, "D") + np.arange(len(out.values))
        values = dict(zip(out.metrics, out.values.T, strict=True))
        runs = compare.scenario_runs(out.scenario, out.scenario, "memory", None, 1,
                                     [(out.replicate, out.seed, dates, values,
                                       out.owner_is_gang)], keep=self.goal.outcome.metrics)
        return bool(self.goal.met(runs.outcome(self.goal.outcome, self.origin), runs.dates,
                                  self.origin)[0])
