"""Histories at the branch kept on disk, so that a later command starts its policies from them.

Why. A policy scenario replays the record (`scenarios/history.yaml`: 2023-01-01 to 2026-03-31)
before its policy starts, and that replay is about two thirds of a run (0.30 s of 0.45 s). A
target search needs ~170 distinct replicates near its answer to know P there to +-5 points, so
its first search pays for ~170 replays however it schedules them. A user who asks the question
again (another goal, probability, lever or line, another policy on the same record) asks for the
same replays: same start, branch, events before the branch, parameters at the start (with the
replicate's posterior draw) and seed (`engine.history_key`). Kept here, they are simulated once.

What is kept. `engine.run`'s history value, (the model at the branch, pickled; the map snapshots
taken before it), compressed, one file per key. The file's name is the sha256 of the key and of
the model's fingerprint (`sim.running.fingerprint.model`: its code and data), so a history made by
another version of the model is never found; a kept history with fewer map snapshots than a run
observes is not used by it (`engine.run` checks). The shipped geography is pickled by reference,
not copied into every file (0.26 MB a history instead of 0.45 MB).

Where. `$HAITI_SIM_CACHE/histories` if that is set (`off`: keep nothing), else
`$XDG_CACHE_HOME/haiti-sim/histories`, else `~/.cache/haiti-sim/histories`. At most `LIMIT_BYTES`:
past it, the histories used longest ago go (checked every `TRIM_EVERY` writes of a process: a
scan of the folder costs as much as a write). Files are written whole, as the results are
(`results.write_atomically`), and a file that cannot be read (damaged, truncated, from another
Python) counts as missing and is removed, so the store can only cost time, never change a
result: a run from a kept history is identical to a run that simulates it (tested). The files are
pickles this program wrote into the user's own cache; like the results directories, they are to
be trusted no more than that folder.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import itertools
import os
import pickle
import zlib
from collections.abc import Hashable
from pathlib import Path

from sim.running import fingerprint
from sim.running.results import write_atomically

ENV = "HAITI_SIM_CACHE"
LIMIT_BYTES = 2 * 1024 ** 3
SUFFIX = ".history"
TRIM_EVERY = 16  # writes of a process between two checks of the store's size
_WRITES = itertools.count()  # this process's writes


def _geography():
    from sim.model import geography  # the model's imports stay in the workers (`engine.run`)
    return geography.load()


def _by_reference(geo) -> dict[int, str]:
    """id -> name of the geography and of each of its arrays (the world holds some of them)."""
    named = {id(geo): ""}
    named.update({id(value): name for name, value in vars(geo).items()
                  if hasattr(value, "__array__")})
    return named


class _Pickler(pickle.Pickler):
    def __init__(self, file, named: dict[int, str]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.named = named

    def persistent_id(self, obj):
        name = self.named.get(id(obj))
        return None if name is None else ("geography", name)


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        kind, name = pid
        if kind != "geography":
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        geo = _geography()
        return getattr(geo, name) if name else geo


def dumps(model) -> bytes:
    """`model` pickled with the shipped geography by reference."""
    buffer = io.BytesIO()
    _Pickler(buffer, _by_reference(model.geo)).dump(model)
    return buffer.getvalue()


def loads(blob: bytes):
    """A model pickled by `dumps`, on this process's geography."""
    return _Unpickler(io.BytesIO(blob)).load()


def root() -> Path | None:
    """Where histories are kept (see the module docstring), or None if `$HAITI_SIM_CACHE` is
    `off`."""
    chosen = os.environ.get(ENV)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen) / "histories"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "haiti-sim" / "histories"


@functools.cache
def _model_sha() -> str:
    return fingerprint.model()


class Store:
    """Histories on disk, as `engine.run`'s `histories`: `store[key]` (KeyError when missing or
    unreadable) and `store[key] = value`, keyed as the module docstring says. Picklable (it holds
    only its folder), so a batch's workers each open the same folder."""

    def __init__(self, folder: Path, limit_bytes: int = LIMIT_BYTES):
        self.folder, self.limit_bytes = Path(folder), limit_bytes

    def _path(self, key: Hashable) -> Path:
        digest = hashlib.sha256(repr(key).encode() + b"\0" + _model_sha().encode())
        return self.folder / (digest.hexdigest() + SUFFIX)

    def __getitem__(self, key: Hashable) -> tuple[bytes, list]:
        path = self._path(key)
        try:
            packed = path.read_bytes()
            value = pickle.loads(zlib.decompress(packed))  # noqa: S301 - written by this program
            os.utime(path)  # used now: the last to go when the store is trimmed
        except FileNotFoundError:
            raise KeyError(key) from None
        except Exception:  # damaged or unreadable: as if it were not there
            with contextlib.suppress(OSError):
                path.unlink()
            raise KeyError(key) from None
        return value

    def __setitem__(self, key: Hashable, value: tuple[bytes, list]) -> None:
        packed = zlib.compress(pickle.dumps(value, pickle.HIGHEST_PROTOCOL), 1)
        # a full disk or a read-only home costs the cache, never the run
        with contextlib.suppress(OSError):
            write_atomically(self._path(key), lambda fh: fh.write(packed))
            if next(_WRITES) % TRIM_EVERY == 0:
                self._trim()

    def _trim(self) -> None:
        """Remove the histories used longest ago while the folder holds more than its limit."""
        files = []
        for entry in os.scandir(self.folder):
            if entry.name.endswith(SUFFIX):
                with contextlib.suppress(FileNotFoundError):  # another worker's trim
                    stat = entry.stat()
                    files.append((stat.st_mtime, stat.st_size, entry.path))
        used = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if used <= self.limit_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            used -= size


def store() -> Store | None:
    """The user's store (`root`), or None when it is turned off."""
    folder = root()
    return None if folder is None else Store(folder)
