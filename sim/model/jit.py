"""Compiled loops, and the random streams they draw from.

A day of the model visits 4,322 cells and 18,818 edges several times but changes few of them.
Written as numpy array operations, that is some three hundred small calls a day, each paying
numpy's fixed overhead of microseconds, which made the calls, not the arithmetic, the cost of a
run. The daily loops over cells, edges and engagements are therefore compiled with Numba (`kernel`):
one pass each, no temporary arrays. Compiled code is cached on disk next to the sources (or in
Numba's user cache where the package directory is read-only), so only the first run after an
install pays the compilation. Kernels call kernels of other modules (the day's kernel in
`sim.model.world` calls all of them), and Numba's cache would only notice a change of the
calling function's own file; so the cache of every kernel here is stamped with all of
`sim/model`'s sources (`_ModelSourcesStamp`), and a change to any of them recompiles.

Random streams. Handing a numpy `Generator` to compiled code costs some 20 microseconds a call
(Numba rebuilds its interface each time), more than the loops it feeds. So each stream is a
xoshiro256** generator (Blackman and Vigna 2018; period 2^256 - 1) whose 256-bit state is a small
numpy array, seeded from the run's `numpy.random.SeedSequence`: it is copied with the model (forks
continue exactly), costs nothing to pass, and its Poisson draws use numpy's own algorithms
(multiplication for small means, Hoermann's PTRS transformed rejection from 10 up).
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import numba
import numpy as np
from numba.core import caching

MODEL_DIR = Path(__file__).resolve().parent


@functools.cache
def _model_sources_stamp() -> tuple:
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                 for p in sorted(MODEL_DIR.glob("*.py")))


class _ModelSourcesStamp:
    """Cache-locator mixin: a kernel of `sim.model` is fresh only while no model source changed."""

    def get_source_stamp(self):
        return _model_sources_stamp()

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(os.path.abspath(py_file)).parent != MODEL_DIR:
            return None
        return super().from_function(py_func, py_file)


class _InTree(_ModelSourcesStamp, caching.InTreeCacheLocator):
    pass


class _UserWide(_ModelSourcesStamp, caching.UserWideCacheLocator):
    pass


# Tried first, and only for the files of sim/model (other packages keep Numba's own locators).
caching.CacheImpl._locator_classes[:0] = [_InTree, _UserWide]

kernel = numba.njit(cache=True, nogil=True)


def stream(seed: np.random.SeedSequence) -> np.ndarray:
    """A new stream's state (four 64-bit words, never all zero) from a seed sequence."""
    state = seed.generate_state(4, np.uint64)
    if not state.any():
        state[0] = 1
    return state


@kernel
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@kernel
def uniform(state) -> float:
    """The next double in [0, 1) from `state` (xoshiro256**), advancing it."""
    result = _rotl(state[1] * np.uint64(5), 7) * np.uint64(9)
    t = state[1] << np.uint64(17)
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = _rotl(state[3], 45)
    return float(result >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@kernel
def below(state, n) -> int:
    """A uniform integer in [0, n)."""
    return min(int(uniform(state) * n), n - 1)


@kernel
def poisson(state, lam) -> int:
    """A Poisson draw with mean `lam` (numpy's methods: multiplication below 10, PTRS above)."""
    if lam != lam:
        raise ValueError("a Poisson mean is NaN")
    if lam <= 0:
        return 0
    if lam < 10:
        limit, k, product = math.exp(-lam), 0, uniform(state)
        while product > limit:
            k += 1
            product *= uniform(state)
        return k
    slam, loglam = math.sqrt(lam), math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = uniform(state) - 0.5
        v = uniform(state)
        us = 0.5 - abs(u)
        if us == 0:  # the one draw (u = -0.5) that the next line cannot take
            continue
        k = math.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b)
                <= -lam + k * loglam - math.lgamma(k + 1)):
            return k
