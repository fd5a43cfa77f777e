"""Compiled loops, and the random streams they draw from.

A day of the model visits 4,322 cells and 18,818 edges several times but changes few of them.
Written as numpy array operations, that is some three hundred small calls a day, each paying
numpy's fixed overhead of microseconds, which made the calls, not the arithmetic, the cost of a
run. The daily loops over cells, edges and engagements are therefore compiled with Numba (`kernel`):
one pass each, no temporary arrays. Compiled code is cached on disk next to the sources (or in
Numba's user cache where the package directory is read-only, or in `NUMBA_CACHE_DIR` if set), so
only the first run after an install pays the compilation. Where none of these can be written (a
read-only install with an unwritable HOME) Numba would refuse to load the kernels at all, so
`NUMBA_CACHE_DIR` is pointed at a private temporary folder before Numba is imported
(`_cache_dir`); the compiled code then lasts as long as that folder, and workers inherit it.
Kernels call kernels of other modules (the day's kernel in `sim.model.world` calls all of them),
and Numba's cache would only notice a change of the calling function's own file; so the cache of
every kernel here is stamped with all of `sim/model`'s sources (`_ModelSourcesStamp`), and a
change to any of them recompiles.

Random streams. Every random draw of a day comes from a xoshiro256** generator (Blackman and Vigna
2018; period 2^256 - 1) whose 256-bit state is derived, when it is needed, from a key: the run's
seed, the kind of draw (a stream id below), the day and a slot (the group or the cell the draw is
for). The key is hashed with splitmix64, the generator's recommended seeding, which costs a few
nanoseconds, so kernels derive a fresh state for every group or cell they draw for
(`reseed`). A draw therefore depends only on its own (seed, stream, day, slot): a change on one
day, or in one part of the map, leaves the draws of every other day and slot where they were
(common random numbers), and a forked model continues exactly without copying any generator
state. Poisson draws use numpy's own algorithms (multiplication for small means, Hoermann's PTRS
transformed rejection from 10 up). A numpy `Generator` would cost some 20 microseconds a call to
hand to compiled code, more than the loops it feeds.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent


def _writable(folder: Path) -> bool:
    """Numba's own test of a cache folder: it can be made and a file created in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def _numba_user_cache() -> Path:
    """Numba's user-wide cache folder (as its vendored appdirs computes it)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "numba" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "numba"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"


def _private_folder(folder: Path) -> bool:
    """Ours alone: a real folder (no link), owned by this user, that nobody else can write.
    Compiled code is loaded from it, so a folder another user could fill is never used."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_mode & 0o022 == 0
            and (not hasattr(os, "getuid") or info.st_uid == os.getuid()))


def _cache_dir(candidates: Iterable[Path], environ: dict[str, str] | None = None,
               writable: Callable[[Path], bool] = _writable,
               temp: str | None = None) -> str | None:
    """The folder to set as NUMBA_CACHE_DIR, or None to leave Numba's choice alone: when the
    user has set one, or one of Numba's default folders (`candidates`) can be written. Otherwise
    a per-user folder under the temporary directory (`temp`, the system's if None), reused by
    later runs while it is private (`_private_folder`), else a new one of a random name."""
    environ = os.environ if environ is None else environ
    if environ.get("NUMBA_CACHE_DIR") or any(writable(Path(c)) for c in candidates):
        return None
    temp = tempfile.gettempdir() if temp is None else temp
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    shared = Path(temp, f"haiti-sim-numba-{user}")
    with contextlib.suppress(OSError):  # judged just below, whatever the reason
        shared.mkdir(mode=0o700, exist_ok=True)
    if _private_folder(shared) and writable(shared):
        return str(shared)
    return tempfile.mkdtemp(prefix="haiti-sim-numba-", dir=temp)


# Decided before Numba is imported: it reads NUMBA_CACHE_DIR once, at import.
if (_fallback := _cache_dir([MODEL_DIR / "__pycache__", _numba_user_cache()])) is not None:
    os.environ["NUMBA_CACHE_DIR"] = _fallback

import numba  # noqa: E402 - after the cache folder is settled
import numpy as np  # noqa: E402
from numba.core import caching  # noqa: E402


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


class _UserProvided(_ModelSourcesStamp, caching.UserProvidedCacheLocator):
    pass


class _InTree(_ModelSourcesStamp, caching.InTreeCacheLocator):
    pass


class _UserWide(_ModelSourcesStamp, caching.UserWideCacheLocator):
    pass


# Tried first, in Numba's own order, and only for the files of sim/model (other packages keep
# Numba's own locators).
caching.CacheImpl._locator_classes[:0] = [_UserProvided, _InTree, _UserWide]

kernel = numba.njit(cache=True, nogil=True)


# Stream ids: one per kind of draw, and the slot each is keyed by. Never renumber one: it would
# change every result of that kind.
KIDNAPPINGS = 1  # per group: kidnappings of the day (Poisson)
ATTACK_CHOICE = 2  # per source cell: which of its frontier edges a gang attacks through
OPERATION_CHOICE = 3  # per source cell: which of its edges the state operates through
FIGHT = 4  # per target cell (+ n_cells for a state operation): who wins
LOSSES = 5  # per target cell (+ n_cells for a state operation): combatant and civilian deaths
GANG_KILLINGS = 6  # per group: one-sided killings (Poisson) and the cells they fall in
REVERSION = 7  # per cell: cleared ground falling back to a gang
RELEASE = 8  # per cell: an overstretched coalition letting the cell go
LYNCHINGS = 9  # one a day: the self-defence brigades' killings and where they fall
DRONES = 10  # one a day: the task force's drone operations, where they fall and whom they kill

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def seed_key(seed: np.random.SeedSequence) -> np.uint64:
    """A run's 64-bit key, from its seed sequence."""
    return np.uint64(seed.generate_state(1, np.uint64)[0])


@kernel
def _mix(z):
    """splitmix64's finaliser: a bijection of 64-bit words with good avalanche."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@kernel
def day_key(seed, stream, day):
    """The key of one kind of draw (`stream`, an id above) on one day of a run (`seed`)."""
    k = _mix(np.uint64(seed) + _GOLDEN * np.uint64(1 + stream))
    return _mix(k + _GOLDEN * np.uint64(1 + day))


@kernel
def reseed(state, key, slot) -> None:
    """Set `state` (four 64-bit words) to the generator of `slot` under `key` (`day_key`)."""
    x = _mix(key + _GOLDEN * np.uint64(1 + slot))
    for i in range(4):
        x += _GOLDEN
        state[i] = _mix(x)
    if state[0] == 0 and state[1] == 0 and state[2] == 0 and state[3] == 0:
        state[0] = np.uint64(1)  # the one state xoshiro cannot leave


@kernel
def generator(seed, stream, day, slot):
    """A new generator state for one (seed, stream, day, slot)."""
    state = np.empty(4, np.uint64)
    reseed(state, day_key(seed, stream, day), slot)
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
