"""Scenario sources for the app (library files, uploads, runs of this session) and the settings a
user makes on top of one, written back as a scenario file the command line runs unchanged.

Everything the app runs goes through `scenario_text` and then `sim.model.scenario.from_text`: the
settings become a YAML file first, and the file is what runs. So the file a user downloads is, by
construction, the scenario they saw (and `tests/test_app.py` round-trips it).

What a setting means follows the parameter's role, as in a file: in a policy scenario (`base:`) a
lever takes effect at the branch date, so the shared history (2023 to March 2026) is not
rewritten, while an uncertainty or a starting value describes the world and holds from the start
(a history of its own); in a scenario without `base:` (the historical record) everything
applies from its start.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.analysis import compare
from sim.model import scenario as scenario_file
from sim.model.parameters import PARAMS
from sim.model.scenario import Event, Scenario, ScenarioError, ScenarioSpec, apply_event

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FIRST = ("status_quo.yaml", "history.yaml")  # shown first in the library
REFERENCE = "status_quo.yaml"  # the natural counterfactual of the policy scenarios

@dataclass(frozen=True)
class EventRow:
    """One timed change of one parameter, as the app lists and edits them."""

    date: dt.date
    name: str
    op: str  # "set" or "scale"
    value: float
    note: str = ""

    def describe(self) -> str:
        p = PARAMS[self.name]
        if self.op == "scale":
            return f"{self.name} × {self.value:g}"
        return f"{self.name} = {format_value(p, self.value)}"


@dataclass(frozen=True)
class Source:
    """A scenario file the app can start from: its text, parsed and resolved."""

    label: str  # the file name, or "upload: name", or "run 3: name"
    kind: str  # "library", "upload" or "run"
    text: str
    spec: ScenarioSpec = field(repr=False)
    resolved: Scenario = field(repr=False)

    @property
    def name(self) -> str:
        return self.resolved.name

    @property
    def is_policy(self) -> bool:
        """A scenario built on another: its levers take effect at the branch date."""
        return self.spec.base is not None

    @property
    def policy_start(self) -> dt.date:
        """When the levers take effect: the branch date, or the start of a scenario without base."""
        return self.resolved.branch if self.is_policy else self.resolved.start

    @functools.cached_property
    def lever_values(self) -> dict[str, float]:
        """Every parameter's value when a change of it takes effect (what the sliders show): a
        lever's at the branch of a policy, everything else's at the start."""
        values = dict(self.resolved.parameters)
        if self.is_policy:
            at_branch = dict(values)
            for e in self.resolved.events:
                if e.date <= self.policy_start:
                    at_branch[e.name] = apply_event(at_branch, e)
            values.update({n: v for n, v in at_branch.items() if PARAMS[n].lever})
        return values

    @functools.cached_property
    def own_events(self) -> tuple[EventRow, ...]:
        """The file's own events, one row per parameter changed."""
        rows = [EventRow(e.date, n, "set", v, e.note.strip()) for e in self.spec.events
                for n, v in e.set.items()]
        rows += [EventRow(e.date, n, "scale", v, e.note.strip()) for e in self.spec.events
                 for n, v in e.scale.items()]
        return tuple(sorted(rows, key=lambda r: r.date))

    @functools.cached_property
    def inherited_events(self) -> tuple[Event, ...]:
        """Events that come from the base chain (the history, a base policy), not this file."""
        own = {(r.date, r.name, r.op, r.value) for r in self.own_events}
        at_branch = {(self.policy_start, n, "set", v) for n, v in self.spec.parameters.items()
                     if PARAMS[n].lever}
        return tuple(e for e in self.resolved.events
                     if (e.date, e.name, e.op, e.value) not in own | at_branch)


def slug(text: str) -> str:
    """A label usable as a file or folder name (results directories, downloads)."""
    return re.sub(r"[^\w.-]+", "_", text).strip("_.") or "scenario"


def format_value(p, value: float, unit: compare.Unit | None = None) -> str:
    """A parameter's value as the app shows it: a choice by its name; money with its unit and
    what it is per ("$1.41 bn/year", "$240,000/troop/year"), in `unit` if given, so that a row
    of values reads in one; else the number."""
    if p.choices:
        return p.choices[int(value)]
    if p.unit.startswith("USD"):
        return compare.show_money(value, unit or compare.money_unit([value])) + p.unit[3:]
    return f"{value:,.0f}" if p.integer or float(value).is_integer() else f"{value:g}"


# ------------------------------------------------------------------------------ sources
def library() -> list[str]:
    """The scenario files of the library, the common starting points first."""
    names = sorted(p.name for p in SCENARIOS.glob("*.yaml"))
    return [n for n in FIRST if n in names] + [n for n in names if n not in FIRST]


def load_library(name: str) -> Source:
    """A library scenario (re-read when its file changes)."""
    path = SCENARIOS / name
    if name not in library():
        raise ScenarioError(name, "", f"not a scenario of the library; allowed: "
                            f"{', '.join(library())}")
    return _load_library(name, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _load_library(name: str, mtime: int) -> Source:
    text = (SCENARIOS / name).read_text(encoding="utf-8")
    return from_text(text, name, "library")


def from_text(text: str, label: str, kind: str) -> Source:
    """A source from YAML text; raises ScenarioError with the command line's message."""
    source = label.removeprefix("upload: ")
    spec = scenario_file.parse_text(text, source)
    resolved = scenario_file.from_text(text, source, SCENARIOS)
    return Source(label, kind, text, spec, resolved)


def from_upload(file_name: str, data: bytes) -> Source:
    """An uploaded file, checked as the command line checks a file: size first, then UTF-8,
    then the schema. Raises ScenarioError naming the file."""
    if len(data) > scenario_file.MAX_FILE_BYTES:
        raise ScenarioError(file_name, "", f"file is larger than "
                            f"{scenario_file.MAX_FILE_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(file_name, "", f"cannot read file as UTF-8 text: {exc}") from None
    spec = scenario_file.parse_text(text, file_name)
    resolved = scenario_file.from_text(text, file_name, SCENARIOS)
    return Source(f"upload: {file_name}", "upload", text, spec, resolved)


# ------------------------------------------------------------------------------ settings -> file
@dataclass
class Settings:
    """What the user changed on top of a source. Values are in the model's units."""

    parameters: dict[str, float] = field(default_factory=dict)  # only values that differ
    events: list[EventRow] | None = None  # the scenario's own events as edited; None: the file's
    end: dt.date | None = None  # None: the file's end
    seed: int | None = None  # None: the file's seed
    name: str | None = None
    description: str | None = None

    def changed(self) -> bool:
        return bool(self.parameters) or self.events is not None or self.end is not None


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def end_of(source: Source, settings: Settings) -> dt.date:
    return settings.end or source.resolved.end


class _Dumper(yaml.SafeDumper):
    """Never writes anchors and aliases (two events on one date share the date object), which
    scenario files refuse."""

    def ignore_aliases(self, data) -> bool:
        return True


def changes_described(source: Source, settings: Settings) -> str:
    """The file's description, followed by what the settings change in it: a file saved with
    other levers must not describe the policy it came from as its own (the default description
    of Save)."""
    changes = [f"{name} {format_value(PARAMS[name], value)} (was "
               f"{format_value(PARAMS[name], source.lever_values[name])})"
               for name, value in settings.parameters.items()]
    if settings.events is not None:
        changes.append("its timed events edited")
    if settings.end is not None:
        changes.append(f"the end {settings.end} (was {source.resolved.end})")
    if not changes:
        return source.spec.description
    note = f"Changed in the app from {source.spec.name}: {'; '.join(changes)}."
    return f"{source.spec.description.strip()} {note}".strip()


def scenario_text(source: Source, settings: Settings) -> str:
    """The scenario file for `settings` on top of `source`: the source's own fields, with the
    changed parameters among its `parameters:` and its own events as edited."""
    spec = source.spec
    name = settings.name or (f"{spec.name} (modified)" if settings.changed() else spec.name)
    doc: dict = {"name": name}
    description = (changes_described(source, settings) if settings.description is None
                   else settings.description)
    if description.strip():
        doc["description"] = " ".join(description.split())
    if spec.base is not None:
        doc["base"] = spec.base
    if spec.start is not None:
        doc["start"] = spec.start
    if spec.branch is not None:
        doc["branch"] = spec.branch
    doc["end"] = end_of(source, settings)
    seed = spec.seed if settings.seed is None else int(settings.seed)
    if seed is not None:  # else the base's seed, as in the file
        doc["seed"] = seed
    parameters = {**spec.parameters, **settings.parameters}
    if parameters:
        doc["parameters"] = {k: _number(v) for k, v in parameters.items()}
    rows = source.own_events if settings.events is None else settings.events
    if rows:
        doc["events"] = [{"date": r.date, r.op: {r.name: _number(r.value)},
                          **({"note": r.note} if r.note else {})}
                         for r in sorted(rows, key=lambda r: r.date)]
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=96,
                     default_flow_style=None)
    where = (f"It builds on {spec.base} (next to this file, or else the library's): run it "
             "from any folder with\n#   haiti-sim run <this file>") if spec.base else (
        "Run it with\n#   haiti-sim run <this file>")
    return (f"# haiti-sim scenario, saved from the app on {dt.date.today()}.\n# {where}\n"
            + body)


def build(source: Source, settings: Settings) -> tuple[str, Scenario]:
    """The file for `settings` and the scenario it resolves to; raises ScenarioError, with the
    message the command line would print for that file."""
    text = scenario_text(source, settings)
    label = source.label.removeprefix("upload: ")
    return text, scenario_file.from_text(text, f"{label} (with your settings)", SCENARIOS)


def with_end(s: Scenario, end: dt.date) -> Scenario:
    """`s` run to another end (the reference follows the scenario's horizon, so the two can be
    compared on the same dates). Events after the end simply never happen."""
    from dataclasses import replace
    return replace(s, end=end)
