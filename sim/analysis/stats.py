"""The statistics over replicates that every analysis shows: the command line, the report and the
app all call these, so a median, an interval or a probability means the same thing everywhere.

Replicates are the first axis of every array. A summary is the median and the 90% interval (5th
and 95th percentiles, numpy's linear interpolation) over the finite values; NaN marks a value that
is undefined (a cumulative outcome before its origin) and is left out, and where no replicate has
a value the result is NaN (arrays) or None (one interval).

Differences between scenarios are paired by replicate: replicate i of every scenario of a batch
shares its random numbers, so the difference of matched replicates isolates the policy's effect,
and its interval is far narrower than the gap between two unpaired intervals.

Probabilities carry a Wilson score interval at the same 90% level. Wilson rather than Jeffreys:
both keep their coverage close to nominal at the few tens of replicates we run (Brown, Cai and
DasGupta 2001, where the textbook Wald interval fails), both stay inside [0, 1] and neither
collapses to zero width when no replicate or every replicate sees the event (0/10 still gives
0-21%), but Wilson is in closed form, so it needs no beta quantile (no scipy) and a test can check
it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVEL = 0.90
Q_LOW, Q_HIGH = (1 - LEVEL) / 2, (1 + LEVEL) / 2
Z = 1.6448536269514722  # the standard normal's quantile at Q_HIGH
# Below this, fewer than one replicate in expectation lies beyond each end of the 90% interval
# (n x 5% < 1): its ends are interpolated between the most extreme runs, and the interval is the
# range of a few runs rather than an estimate of the spread.
MIN_REPLICATES = int(np.ceil(1 / Q_LOW - 1e-9))


@dataclass(frozen=True)
class Interval:
    """Median and 90% interval over `n` replicates with a value."""

    median: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Probability:
    """The share `p` of `n` replicates in which an event happens, and its 90% Wilson interval."""

    p: float
    low: float
    high: float
    n: int


def quantiles(values, q) -> np.ndarray:
    """The quantiles `q` over replicates (axis 0) of the finite values, shaped (len(q), ...rest);
    NaN where no replicate has a finite value."""
    v = np.asarray(values, dtype=float)
    q = np.atleast_1d(q)
    out = np.full((len(q), int(np.prod(v.shape[1:], dtype=int))), np.nan)
    if len(v):
        flat = v.reshape(len(v), -1)
        flat = np.where(np.isfinite(flat), flat, np.nan)
        ok = ~np.isnan(flat).all(axis=0)
        if ok.any():
            out[:, ok] = np.nanquantile(flat[:, ok], q, axis=0)
    return out.reshape((len(q), *v.shape[1:]))


def median(values) -> np.ndarray:
    """The median over replicates of the finite values (NaN where none)."""
    return quantiles(values, 0.5)[0]


def bands(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(median, low, high) over replicates, e.g. of replicates x days for a time series."""
    med, low, high = quantiles(values, (0.5, Q_LOW, Q_HIGH))
    return med, low, high


def interval(values) -> Interval | None:
    """Median and 90% interval of one value over replicates; None if no replicate has one."""
    v = np.asarray(values, dtype=float)
    n = int(np.isfinite(v).sum())
    if not n:
        return None
    med, low, high = (float(x) for x in bands(v))
    return Interval(med, low, high, n)


def pair(replicates, other) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the replicate numbers found in both `replicates` and `other`, in each."""
    _, mine, theirs = np.intersect1d(replicates, other, return_indices=True)
    return mine, theirs


def paired_differences(values, replicates, other_values, other_replicates) -> np.ndarray:
    """`values - other_values` of the replicates both have, matched by replicate number."""
    mine, theirs = pair(replicates, other_replicates)
    return np.asarray(values)[mine] - np.asarray(other_values)[theirs]


def share_of_replicates(events) -> np.ndarray:
    """The share of replicates (axis 0) in which each event happens, e.g. a cell is gang-held."""
    return np.asarray(events, dtype=bool).mean(axis=0)


def probability(events) -> Probability | None:
    """The chance of an event from one yes/no per replicate; None with no replicate."""
    events = np.asarray(events, dtype=bool)
    if not len(events):
        return None
    low, high = wilson(int(events.sum()), len(events))
    return Probability(float(events.mean()), low, high, len(events))


def wilson(successes: int, n: int, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval of `successes` in `n` trials (`z`: 1.645 for 90%, 1.96 for
    95%)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"{successes} successes in {n} trials")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # at 0 and n the bounds are 0 and 1 exactly; the formula gives them up to rounding
    return (0.0 if successes == 0 else float(centre - half),
            1.0 if successes == n else float(centre + half))


def replicates_for(p: float, half_width: float, z: float = Z) -> int:
    """About how many replicates bring the 90% interval of a chance near `p` to +-`half_width`
    (z^2 p (1 - p) / half_width^2, with p kept at least 5% from 0 and 1, where a chance of 0/n
    still has an interval of some width)."""
    p = min(max(p, 0.05), 0.95)
    return int(np.ceil(z * z * p * (1 - p) / half_width ** 2))


def too_few(n: int) -> bool:
    """Whether `n` replicates are too few for the 90% interval shown to be more than the range
    of the runs (see `MIN_REPLICATES`)."""
    return n < MIN_REPLICATES
