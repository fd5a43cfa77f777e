"""Analyses shipped with the package: a sensitivity and a discovery of the library's main
scenarios, made by `scripts/ship_analyses.py` and read by the app's "What matters" and "Where a
policy fails" pages, so a reader sees a result without waiting for 820 runs.

Each lives in `sim/data/analyses/<name>/`: the small files the command line writes
(`sensitivity.csv`, or `discover.csv` and `boxes.csv`) and `analysis.json`, how it was made: the
command, when, how many runs in how many seconds, the parameters' mode (point or posterior), the
package version and the model's fingerprint (`sim.running.fingerprint.model`, which leaves
these files out). `current` compares that fingerprint with the running model's: a shipped result
made on another model is stale, and the pages say so.
"""

from __future__ import annotations

import csv
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from sim.running import fingerprint

DIR = Path(__file__).resolve().parents[1] / "data" / "analyses"
SENSITIVITY, DISCOVER = KINDS = ("sensitivity", "discover")
FILES = {SENSITIVITY: ("sensitivity.csv",), DISCOVER: ("discover.csv", "boxes.csv")}
META = "analysis.json"


@dataclass(frozen=True)
class Shipped:
    """One shipped analysis: how it was made (`meta`, analysis.json) and its tables, as rows of
    strings and numbers (`tables[file name]`)."""

    name: str
    meta: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def scenario(self) -> str:
        return self.meta["scenario"]


def _number(text: str):
    """A CSV cell as the records had it: empty is None, True/False booleans, numbers numbers."""
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def names(kind: str | None = None, root: Path = DIR) -> list[str]:
    """The shipped analyses (of `kind`, if given), by name."""
    if not root.is_dir():
        return []
    found = sorted(p.parent.name for p in root.glob(f"*/{META}"))
    return [n for n in found if kind is None or load(n, root).kind == kind]


def load(name: str, root: Path = DIR) -> Shipped:
    folder = root / name
    meta = json.loads((folder / META).read_text())
    return Shipped(name, meta, {f: read_csv(folder / f) for f in FILES[meta["kind"]]})


def write(name: str, meta: dict, files: dict[str, str], root: Path = DIR) -> Path:
    """Write (or replace) the shipped analysis `name`: `meta` as analysis.json, `files` by
    name. Raises ValueError for a kind or files that are not a shipped analysis's."""
    if meta.get("kind") not in KINDS or set(files) != set(FILES[meta["kind"]]):
        raise ValueError(f"a shipped analysis is one of {KINDS} with the files {FILES}")
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in files.items():
        (folder / file).write_text(text)
    (folder / META).write_text(json.dumps(meta, indent=1, default=str) + "\n")
    return folder


@functools.cache
def _running_model() -> str:
    """The running model's fingerprint (hashing the model's files once per process)."""
    return fingerprint.model()


def current(meta: dict) -> bool:
    """Whether a shipped result was made on the model that runs now."""
    return meta.get("model_fingerprint") == _running_model()
