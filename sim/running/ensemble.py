"""The posterior ensemble: the parameter sets the calibration accepted, and which one a run uses.

The calibration (`haiti-sim calibrate`, ABC-SMC against the 2023-2024 record) ships its posterior
as equal-weight draws in `sim/data/calibration/posterior.csv` (a `draw` column, 0 to N-1, then one
column per calibrated parameter) with its provenance beside it, `posterior.json` (method, seed,
date, model fingerprint, data checksum). By default replicate i of every scenario runs under draw
i (mod N) with seed base + i: scenarios stay paired by common random numbers (same seed, same
draw), and every band, interval and probability includes the uncertainty about the parameters as
well as the dice. Point mode (`--point`, `ensemble=None`) runs every replicate at the scenarios'
own values, the parameter defaults (the posterior medians) where a scenario sets none.

A draw sets each calibrated parameter from the start, except where the scenario sets it
explicitly (`Scenario.fixed`: its files, `--set`, the app's edits, an experiment's point), so an
explicit value always wins over a draw (`Scenario.with_draw`). The file is data a user may
replace, so it is checked as a scenario file is: every value against the parameter table
(`check_value`), and a mistake is one `EnsembleError` naming the file, line and column. Reading
files lives here, not in `sim.model`, which does no I/O.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.model.parameters import PARAMS, check_value, shown
from sim.model.scenario import Scenario, ScenarioError, printable
from sim.running import fingerprint

POSTERIOR = Path(__file__).parents[1] / "data" / "calibration" / "posterior.csv"
MAX_FILE_BYTES = 32 * 2**20  # 200 draws of 70 parameters take ~0.3 MB
DRAW_RULE = "replicate i of every scenario runs under draw i mod N of the posterior, with seed " \
            "base_seed + i (common random numbers: same seed and same draw across scenarios)"
POINT = {"mode": "point", "rule": "every replicate at the scenarios' own values, the parameter "
                                  "defaults (the posterior medians) where they set none"}
POINT_HELP = ("run every replicate at one point, the posterior median (the parameter defaults), "
              "instead of the posterior ensemble: bands then show only the dice, not what is "
              "unknown about the parameters (for teaching, speed or mechanism checks)")


class EnsembleError(ValueError):
    """A posterior file that cannot be used; `str()` is the message for the user."""


@dataclass(frozen=True)
class Ensemble:
    """Equal-weight posterior draws: `values[k]` holds draw k's value of each of `names`.

    `offset` shifts which draw replicate 0 uses (`starting_at`: `haiti-sim run --draw K`)."""

    path: str
    sha256: str
    names: tuple[str, ...]
    values: np.ndarray = field(repr=False, compare=False)  # sha256 identifies them
    provenance: dict = field(default_factory=dict, compare=False, repr=False)
    offset: int = 0

    def __len__(self) -> int:
        return len(self.values)

    def number(self, replicate: int) -> int:
        """The draw replicate `replicate` uses."""
        return (replicate + self.offset) % len(self.values)

    def draw(self, i: int) -> dict[str, float]:
        """The values of the draw replicate `i` uses (draw i mod N, with no offset)."""
        return dict(zip(self.names, self.values[self.number(i)].tolist(), strict=True))

    def apply(self, s: Scenario, replicate: int) -> Scenario:
        """`s` under the draw of `replicate`: every calibrated parameter the scenario does not
        set explicitly takes the draw's value from the start."""
        return s.with_draw(self.draw(replicate))

    def starting_at(self, draw: int) -> Ensemble:
        """The same draws, replicate 0 running under draw `draw` (and replicate i draw + i)."""
        if not 0 <= draw < len(self.values):
            raise EnsembleError(f"--draw {draw}: {self.path} has draws 0 to "
                                f"{len(self.values) - 1}")
        return dataclasses.replace(self, offset=draw)

    def check(self, s: Scenario, replicates: int, label: str) -> None:
        """Refuse (EnsembleError) a scenario whose events would push a drawn value out of its
        range in one of the draws `replicates` use; only a `scale` of a drawn value can."""
        scaled = {e.name for e in s.events if e.op == "scale"} & set(self.names) - s.fixed
        if not scaled:
            return
        for replicate in range(min(replicates, len(self))):
            try:
                self.apply(s, replicate)
            except ScenarioError as exc:
                raise EnsembleError(f"{label}: under draw {self.number(replicate)} of "
                                    f"{self.path}: {exc.message}") from None

    def describe(self) -> dict:
        """The mode as the manifest records it: a resume must use the same draws."""
        described = {"mode": "ensemble", "posterior": self.path, "sha256": self.sha256,
                     "draws": len(self), "parameters": list(self.names), "rule": DRAW_RULE}
        if self.offset:
            described["first_draw"] = self.offset
        return described


def describe(ensemble: Ensemble | None) -> dict:
    """How a plan treats the calibrated parameters: its ensemble's description, or point mode."""
    return POINT if ensemble is None else ensemble.describe()


def summary(described: dict) -> str:
    """One line for the user about a described mode (`describe`)."""
    if described.get("mode") != "ensemble":
        return ("point mode: every replicate at the parameter defaults; bands show only the "
                "dice, not parameter uncertainty")
    return (f"posterior ensemble: replicate i uses draw i of {described['draws']} "
            f"({Path(described['posterior']).name}, sha256 {described['sha256'][:12]}); "
            "bands include parameter uncertainty")


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise EnsembleError(f"{printable(str(path), 300)}: file is larger than "
                                f"{MAX_FILE_BYTES // 2**20} MiB")
        return path.read_bytes()
    except OSError as exc:
        raise EnsembleError(f"{printable(str(path), 300)}: cannot read file: "
                            f"{exc.strerror or exc}") from None


def _header(names: list[str], where: str) -> tuple[str, ...]:
    if not names or names[0] != "draw":
        raise EnsembleError(f"{where}: line 1: the first column must be 'draw', got "
                            f"{shown(names[0] if names else '')}")
    seen: set[str] = set()
    for column, name in enumerate(names[1:], start=2):
        at = f"{where}: line 1, column {column}"
        if name not in PARAMS:
            near = difflib.get_close_matches(name, list(PARAMS), n=1, cutoff=0.6)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise EnsembleError(f"{at}: unknown parameter {shown(name)}{hint}")
        if not PARAMS[name].uncertain:
            raise EnsembleError(f"{at}: {name} is a {PARAMS[name].role} without a plausible "
                                "range; a posterior holds only uncertain parameters")
        if name in seen:
            raise EnsembleError(f"{at}: {name} is given twice")
        seen.add(name)
    if not seen:
        raise EnsembleError(f"{where}: line 1: no parameter columns after 'draw'")
    return tuple(names[1:])


def _provenance(csv_path: Path, names: tuple[str, ...], draws: int) -> dict:
    """posterior.json beside the file, if there is one; it must agree with the draws."""
    path = csv_path.with_suffix(".json")
    if not path.is_file():
        return {}
    where = printable(str(path), 300)
    try:
        provenance = json.loads(_read(path))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnsembleError(f"{where}: not JSON: {exc}") from None
    if not isinstance(provenance, dict):
        raise EnsembleError(f"{where}: must be a JSON object")
    if "draws" in provenance and provenance["draws"] != draws:
        raise EnsembleError(f"{where}: says {shown(provenance['draws'])} draws, "
                            f"but {csv_path.name} holds {draws}")
    if "parameters" in provenance and sorted(map(str, provenance["parameters"])) != sorted(names):
        raise EnsembleError(f"{where}: its parameters are not the columns of {csv_path.name}")
    return provenance


def load(path: str | Path = POSTERIOR) -> Ensemble:
    """Read and check a posterior file (and its provenance, `.json` beside it); raises
    EnsembleError naming the file, line and column of the first mistake."""
    path = Path(path)
    where = printable(str(path), 300)
    data = _read(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EnsembleError(f"{where}: cannot read file as UTF-8 text: {exc}") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise EnsembleError(f"{where}: not a CSV file: {exc}") from None
    names = _header([c.strip() for c in rows[0]] if rows else [], where)
    lines = [(n, row) for n, row in enumerate(rows[1:], start=2) if row]  # not blank lines
    values = np.empty((len(lines), len(names)))
    for k, (line, row) in enumerate(lines):
        if len(row) != len(names) + 1:
            raise EnsembleError(f"{where}: line {line}: {len(row)} fields, the header has "
                                f"{len(names) + 1}")
        if row[0].strip() != str(k):
            raise EnsembleError(f"{where}: line {line}, column draw: {shown(row[0])}, expected "
                                f"{k} (draws are numbered 0, 1, ... in order)")
        for j, (name, cell) in enumerate(zip(names, row[1:], strict=True)):
            at = f"{where}: line {line}, column {name}"
            try:
                number = float(cell)
            except ValueError:
                raise EnsembleError(f"{at}: {shown(cell)} is not a number") from None
            try:
                values[k, j] = check_value(name, number)
            except ValueError as exc:
                raise EnsembleError(f"{at}: {exc}") from None
    if not len(values):
        raise EnsembleError(f"{where}: holds no draws (only a header)")
    values.setflags(write=False)
    return Ensemble(str(path.resolve()), hashlib.sha256(data).hexdigest(), names, values,
                    _provenance(path, names, len(values)))


@functools.cache
def _shipped(path: Path, mtime_ns: int) -> Ensemble:
    return load(path)


def shipped() -> Ensemble | None:
    """The posterior shipped with the package (read once), or None while there is none."""
    try:
        mtime_ns = POSTERIOR.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    return _shipped(POSTERIOR, mtime_ns)


NOT_SHIPPED = (f"no posterior is shipped yet ({POSTERIOR.relative_to(POSTERIOR.parents[3])}): "
               "every replicate runs at the parameter defaults (point mode)")


def choose(point: bool = False, path: str | Path | None = None) -> tuple[Ensemble | None,
                                                                          str | None]:
    """(the ensemble a command runs under, a note for the user): None with `point`; the file
    `path`; by default the shipped posterior, or point mode with a note while there is none. The
    note also says when the draws were fitted to another version of the model (`stale_note`)."""
    if point:
        if path is not None:
            raise EnsembleError("--point runs at the defaults; it takes no --posterior")
        return None, None
    found = load(path) if path is not None else shipped()
    if found is None:
        return None, NOT_SHIPPED
    return found, stale_note(found)


@functools.cache
def _calibrated_model() -> str:
    return fingerprint.calibrated_model()


def stale_note(draws: Ensemble) -> str | None:
    """A note for the user when `draws` were fitted to another version of the model than the one
    running (its provenance's `model_sha256` against `fingerprint.calibrated_model`): they
    reproduced the record under that version, not necessarily under this one. None when they
    were fitted to this model, or when their file says nothing of it (a user's own draws)."""
    fitted = draws.provenance.get("model_sha256")
    if not isinstance(fitted, str) or fitted == _calibrated_model():
        return None
    return (f"the posterior {Path(draws.path).name} was fitted to another version of the model "
            f"(model sha256 {printable(fitted[:12], 40)}, this one {_calibrated_model()[:12]}), "
            "so its draws may no longer reproduce the 2023-2024 record: refit with 'haiti-sim "
            "calibrate scenarios/history.yaml' (docs/calibration)")
