"""Scenario files: loading them safely, validating them against the parameter table, `base:`.

A scenario file is data written by users, so it is treated as untrusted input: it is size-checked
and nesting-checked from the token stream before anything is built in memory, parsed with the safe
loader (no tags that construct objects), and every mistake is reported as one `ScenarioError` that
names the file, the field and what is allowed.

A policy scenario builds on another (`base: history.yaml`) and branches from it at `branch` (by
default the base's own branch, else the day after the base ends: a policy on the record starts
where the record's sourced inputs stop, and moves with it when the record is extended) and ends
at `end` (by default its base's end if the base is a policy, else two years after the branch): it
inherits the base's start, parameters and events. When
its own `parameters` (and `--set`, the app's edits, an experiment's samples) take effect follows
from each parameter's role (`sim.model.parameters`): a lever is a policy choice and takes effect
at the branch date, as an event; an uncertainty, a starting value or a constant describes the
world, so it holds from the start and defines the history. Runs of the same seed and the same
world therefore share the history exactly up to the branch, whatever their levers.

What a scenario sets explicitly (its chain's `parameters`, `--set`, the app's edits, an
experiment's point) is recorded in `Scenario.fixed`: a draw of the calibrated parameters
(`Scenario.with_draw`, made by `sim.running.ensemble`) sets every other one, from the start, and
leaves these as the scenario says.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from sim.model.parameters import PARAMS, check_value, defaults, shown

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 12
MAX_BASE_CHAIN = 8
DEFAULT_POLICY_HORIZON_YEARS = 2
MAX_HORIZON_YEARS = 30  # longest run, `end` after `start`: a run's cost grows with its days
SEED_MIN, SEED_MAX = 0, 2**32 - 1  # one range for files, uploads, links, the app and --seed
SEED_RANGE = f"a whole number from {SEED_MIN} to {SEED_MAX:_}".replace("_", ",")
MAX_MESSAGE_CHARS = 2000
MAX_PROBLEMS_SHOWN = 10  # after the first, in one message
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(ch: str, allow_newlines: bool = False) -> bool:
    """Characters a terminal or browser would act on rather than show: C0/C1 controls (terminal
    escape sequences start with one), lone surrogates (they cannot be encoded), bidi overrides."""
    if allow_newlines and ch in "\n\t":
        return False
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS


def _escaped(text: str, allow_newlines: bool = False) -> str:
    """`text` with every control character written as an escape, so a message is safe to print."""
    if not any(_is_control(ch, allow_newlines) for ch in text):
        return text
    return "".join(ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   if _is_control(ch, allow_newlines) else ch for ch in text)


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def printable(text: str, limit: int = 80) -> str:
    """Text from a user (a link's value, a file name) as a message may show it: control
    characters escaped, cut to `limit` characters."""
    return _cut(_escaped(text), limit)


class ScenarioError(ValueError):
    """A user's mistake in a scenario file; `str()` is the message to show them, as is.

    Every part is escaped (a file name or key may hold terminal escapes) and cut, so a message is
    always short and safe to print."""

    def __init__(self, source: str, field_path: str, message: str):
        source, field_path = _cut(_escaped(str(source)), 200), _cut(_escaped(field_path))
        message = _cut(_escaped(message, allow_newlines=True), MAX_MESSAGE_CHARS)
        self.source, self.field_path, self.message = source, field_path, message
        where = f"{source}: {field_path}: " if field_path else f"{source}: "
        super().__init__(where + message)

    def __reduce__(self):  # raised in a worker process, it must reach the parent whole
        return type(self), (self.source, self.field_path, self.message)


# The scenario library shipped with the project: a `base:` given as a plain name that is not next
# to the file is looked up here.
LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"


def _suggest(name: str, known: list[str]) -> str:
    near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean '{near[0]}'?)" if near else ""


def split_by_role(values: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """(levers, the rest): in a policy scenario levers take effect at the branch date, the rest
    (uncertainties, starting values, constants) from the start."""
    levers = {n: v for n, v in values.items() if PARAMS[n].lever}
    return levers, {n: v for n, v in values.items() if n not in levers}


def check_seed(value: object, source: str, field_path: str = "seed") -> int:
    """`value` as a seed, else ScenarioError(source, field_path) stating SEED_RANGE.

    Takes a number from a file or the text of a link or command line (digits only: no sign,
    fraction or exponent). Replicate i of a batch runs with seed + i."""
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= len(str(SEED_MAX)):
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not SEED_MIN <= value <= SEED_MAX:
        raise ScenarioError(source, field_path, f"must be {SEED_RANGE}, got {shown(value)}")
    return value


def check_date(value: object) -> dt.date:
    """`value` as a calendar date written YYYY-MM-DD (no time, zone, week date or number), else
    ValueError saying so."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"must be a date like 2026-01-01 (a real calendar date, no time), "
                     f"got {shown(value)}")


def _check_text(value: object, allow_newlines: bool) -> object:
    if isinstance(value, str) and any(_is_control(ch, allow_newlines) for ch in value):
        bad = next(ch for ch in value if _is_control(ch, allow_newlines))
        raise ValueError(f"contains the control character {_escaped(bad)}; "
                         f"only printable text is allowed")
    return value


def _unknown(name: object) -> str:
    return f"unknown parameter {shown(name)}{_suggest(str(name), list(PARAMS))}"


def _refuse(problems: list[str]) -> None:
    """Every problem of one mapping at once, a line each ("NAME: why" names the parameter, which
    `_user_error` moves into the field path)."""
    if problems:
        raise ValueError("\n".join(problems))


AT_AN_EVENT = "sets the starting state; it cannot change at an event"


def _check_param_names(values: dict[str, Any], at_event: bool = False) -> dict[str, float]:
    """Known names and allowed values, all problems at once; at an event, no starting-state
    parameter (`Param.initial`: read once, when the world is built)."""
    checked, problems = {}, []
    for name, value in values.items():
        if name not in PARAMS:
            problems.append(_unknown(name))
            continue
        try:
            checked[name] = check_value(name, value)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
        else:
            if at_event and PARAMS[name].initial:
                problems.append(f"{name}: {AT_AN_EVENT}")
    _refuse(problems)
    return checked


class EventSpec(BaseModel):
    """A timed change: at `date`, `set` parameters to values and/or `scale` them by factors."""

    model_config = ConfigDict(extra="forbid")
    date: dt.date
    set: dict[str, Any] = {}
    scale: dict[str, Any] = {}
    note: str = ""

    @field_validator("set")
    @classmethod
    def _set_known(cls, values: dict[str, Any]) -> dict[str, float]:
        return _check_param_names(values, at_event=True)

    @field_validator("scale")
    @classmethod
    def _scale_known(cls, values: dict[str, Any]) -> dict[str, float]:
        problems = []
        for name, factor in values.items():
            number = isinstance(factor, int | float) and not isinstance(factor, bool)
            if name not in PARAMS:
                problems.append(_unknown(name))
            elif PARAMS[name].initial:
                problems.append(f"{name}: {AT_AN_EVENT}")
            elif not number or not 0 <= factor <= 100:
                problems.append(f"{name}: a scale factor must be a number from 0 to 100, "
                                f"got {shown(factor)}")
        _refuse(problems)
        return {k: float(v) for k, v in values.items()}

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: object) -> dt.date:
        return check_date(value)

    @field_validator("note", mode="before")
    @classmethod
    def _note(cls, value: object) -> object:
        return _check_text(value, allow_newlines=True)

    @model_validator(mode="after")
    def _changes_something(self) -> EventSpec:
        if not self.set and not self.scale:
            raise ValueError("an event must set or scale at least one parameter "
                             "(give 'set:' or 'scale:')")
        return self


class ScenarioSpec(BaseModel):
    """The fields of one scenario file, as written (before `base:` is resolved)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    base: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    branch: dt.date | None = None
    seed: int | None = None  # default: the base's seed, else 1
    parameters: dict[str, Any] = {}
    events: list[EventSpec] = []

    @field_validator("parameters")
    @classmethod
    def _params_known(cls, values: dict[str, Any]) -> dict[str, float]:
        return _check_param_names(values)

    @field_validator("start", "end", "branch", mode="before")
    @classmethod
    def _date(cls, value: object) -> dt.date | None:
        return None if value is None else check_date(value)

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, str):  # a file's seed is a number; "5" is a string there
            raise ValueError(f"must be {SEED_RANGE}, got {shown(value)}")
        try:
            return check_seed(value, "", "seed")
        except ScenarioError as exc:
            raise ValueError(exc.message) from None

    @field_validator("name", "base", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> object:
        return _check_text(value, allow_newlines=False)

    @field_validator("description", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return _check_text(value, allow_newlines=True)


@dataclass(frozen=True)
class Event:
    """A resolved timed change of one parameter."""

    date: dt.date
    name: str
    op: str  # "set" or "scale"
    value: float
    note: str = ""
    # the file that holds the event's line, for messages; not part of what a run depends on
    source: str = field(default="", compare=False)


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: everything a run needs, with `base:` chains flattened."""

    name: str
    description: str
    start: dt.date
    end: dt.date
    seed: int
    parameters: dict[str, float]
    events: tuple[Event, ...] = ()
    branch: dt.date | None = None
    sources: tuple[str, ...] = field(default=())
    # the parameters set explicitly (the files' `parameters`, overrides): a draw leaves them
    fixed: frozenset[str] = frozenset()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def with_overrides(self, overrides: dict[str, float], seed: int | None = None) -> Scenario:
        """A copy with parameters changed (the CLI's --set, the app's controls, an experiment's
        sample).

        In a policy scenario a lever takes effect on the branch date, after the scenario's own
        changes of that day, so the shared history stays untouched; every other parameter holds
        from the start (it describes the world, not the policy), so it makes a history of its
        own. Without a branch everything applies from the start. Raises ScenarioError (source
        "overrides") for an unknown or out-of-range value.
        """
        try:
            checked = _check_param_names(overrides)
        except ValueError as exc:
            raise _several("overrides", _lines("", str(exc))) from None
        params, events = dict(self.parameters), list(self.events)
        if self.branch is None:
            params.update(checked)
        else:
            levers, world = split_by_role(checked)
            params.update(world)
            events += [Event(self.branch, n, "set", v, "override", "overrides")
                       for n, v in levers.items()]
            events.sort(key=lambda e: e.date)
        _check_event_results(params, events, "overrides")
        return dataclasses.replace(self, seed=self.seed if seed is None else seed,
                                   parameters=params, events=tuple(events),
                                   fixed=self.fixed | frozenset(checked))

    def with_draw(self, values: Mapping[str, float]) -> Scenario:
        """A copy under one draw of the calibrated parameters (`sim.running.ensemble`).

        Each drawn value holds from the start, as every uncertainty does, except for the
        parameters the scenario sets itself (`fixed`), which keep its values: an explicit value
        always wins over a draw. The draw is not recorded as explicit, so a later draw replaces
        it. The values must be valid (the ensemble checks them when it loads); the events are
        replayed on them so that a `scale` cannot push one out of its range (ScenarioError,
        source "posterior draw"). A lever cannot be drawn (ValueError): it is a policy choice.
        """
        drawn = {n: v for n, v in values.items() if n not in self.fixed}
        levers = [n for n in drawn if PARAMS[n].lever]
        if levers:
            raise ValueError(f"a draw cannot set the lever {levers[0]}")
        if not drawn:
            return self
        params = {**self.parameters, **drawn}
        _check_event_results(params, list(self.events), "posterior draw")
        return dataclasses.replace(self, parameters=params)


_FIELDS = list(ScenarioSpec.model_fields) + list(EventSpec.model_fields)


class _TooLong(float):
    """A number with more digits than Python reads (4300): infinite, so every check refuses it
    with its range, and shown by its length instead of its digits."""

    def __new__(cls, text: str):
        self = super().__new__(cls, "-inf" if text.startswith("-") else "inf")
        self.chars = len(text)
        return self

    def __repr__(self) -> str:
        return f"a number of {self.chars:,} characters"


class _Loader(yaml.SafeLoader):
    """The safe loader, minus implicit timestamps: dates stay strings for the schema to check, so a
    date like 2023-02-30 is reported on its field instead of failing inside the YAML parser."""

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # Python's limit on the digits of an integer it reads
            return _TooLong(node.value)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _check_depth(text: str, source: str) -> None:
    """Refuse deep nesting and aliases from the token stream, before any object is built."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                raise ScenarioError(source, "", "YAML anchors and aliases are not allowed")
            if isinstance(token, yaml.TagToken):
                raise ScenarioError(source, "", "YAML tags (!...) are not allowed in scenarios")
            if isinstance(token, yaml.BlockMappingStartToken | yaml.BlockSequenceStartToken
                          | yaml.FlowMappingStartToken | yaml.FlowSequenceStartToken):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ScenarioError(source, "", f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(token, yaml.BlockEndToken | yaml.FlowMappingEndToken
                            | yaml.FlowSequenceEndToken):
                depth -= 1
    except yaml.YAMLError as exc:
        raise ScenarioError(source, "", f"invalid YAML: {exc}") from None


def _check_keys(node: yaml.Node, path: str, source: str) -> None:
    """Refuse what YAML resolves silently: a key given twice (YAML says "last one wins", so a
    second `parameters:` block would drop the first) and merge keys (`<<:`), naming the lines."""
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_keys(item, f"{path}[{i}]", source)
    elif isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.tag == "tag:yaml.org,2002:merge":
                raise ScenarioError(source, path, f"line {line}: YAML merge keys ('<<:') are not "
                                    f"allowed; write the fields out")
            if not isinstance(key, yaml.ScalarNode):
                raise ScenarioError(source, path, f"line {line}: a key must be a plain name")
            here = f"{path}.{key.value}" if path else key.value
            first = seen.get((key.tag, key.value))
            if first is not None:
                raise ScenarioError(source, here, f"given twice, on lines {first} and {line}; "
                                    f"each field may appear once")
            seen[key.tag, key.value] = line
            _check_keys(value, here, source)


def parse_text(text: str, source: str) -> ScenarioSpec:
    """Parse and validate the text of one scenario file (`base:` is not followed here)."""
    if len(text.encode()) > MAX_FILE_BYTES:
        raise ScenarioError(source, "", f"file is larger than {MAX_FILE_BYTES // 1024} KiB")
    _check_depth(text, source)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_keys(node, "", source)
        raw = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, "", f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(raw, dict):
        raise ScenarioError(source, "", "a scenario file must be a mapping with at least 'name'")
    try:
        return ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        raise _user_error(exc, source) from None


def _user_error(exc: ValidationError, source: str) -> ScenarioError:
    """Turn pydantic's errors into one message a user can act on: the first problem (an unknown
    field first) names the field, and every other one follows on a line of its own, so that a
    file with several mistakes is mended in one go rather than one reload per mistake."""
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # stable
    return _several(source, [problem for err in errors for problem in _problems(err)])


def _several(source: str, problems: list[tuple[str, str]]) -> ScenarioError:
    """(field path, message) problems as one error: the first names the field, the others
    follow a line each ("also PATH: message")."""
    (path, message), rest = problems[0], problems[1:]
    message += "".join(f"\nalso {p}: {m}" if p else f"\nalso: {m}"
                       for p, m in rest[:MAX_PROBLEMS_SHOWN])
    if len(rest) > MAX_PROBLEMS_SHOWN:
        message += f"\nand {len(rest) - MAX_PROBLEMS_SHOWN} more"
    return ScenarioError(source, path, message)


def _lines(path: str, message: str) -> list[tuple[str, str]]:
    """`_refuse`'s lines as problems: a parameter's own complaint ("NAME: why") moves its name
    into the field path."""
    out = []
    for line in message.split("\n"):
        name, _, rest = line.partition(": ")
        if name in PARAMS and rest:
            out.append((f"{path}.{name}" if path else name, rest))
        else:
            out.append((path, line))
    return out


def _problems(err: dict) -> list[tuple[str, str]]:
    """One pydantic error as (field path, message) pairs: a mapping of parameters can hold
    several, one line each, each moved to its parameter's path."""
    loc = err["loc"]
    path = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
                   for i, p in enumerate(loc))
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return [(path, f"unknown field {shown(key)}{_suggest(key, _FIELDS)}; "
                       f"allowed: {', '.join(ScenarioSpec.model_fields)}")]
    if kind == "missing":
        return [(path, "is required")]
    if kind != "value_error" and loc and loc[-1] in ("date", "start", "end", "branch"):
        return [(path, f"must be a date like 2026-01-01 (a real calendar date, no time), got "
                       f"{shown(err['input'])}")]
    return _lines(path, err["msg"].removeprefix("Value error, "))


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read file: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError(str(path), "", f"file is larger than {MAX_FILE_BYTES // 1024} KiB")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"cannot read file as UTF-8 text: {exc}") from None


def load(path: str | Path) -> Scenario:
    """Load, validate and resolve a scenario file, following its `base:` chain."""
    return _resolve(Path(path), chain=())


def from_text(text: str, source: str, directory: Path) -> Scenario:
    """Resolve a scenario given as text (an upload), with `base:` looked up in `directory`.

    An upload may only build on a file of `directory` named plainly (no path), so it cannot make
    the server read, or echo parts of, any other file.
    """
    spec = parse_text(text, source)
    if spec.base is not None:
        known = sorted(p.name for p in Path(directory).glob("*.yaml"))
        if spec.base not in known:
            raise ScenarioError(source, "base", f"{shown(spec.base)} is not a scenario of the "
                                f"library; allowed: {', '.join(known)}")
    return _resolve_spec(spec, source, directory, chain=())


def _resolve(path: Path, chain: tuple[str, ...]) -> Scenario:
    """Resolve the file `path`, reached through the files `chain` (resolved paths, first the
    one loaded)."""
    source = str(path)
    return _resolve_spec(parse_text(_read(path), source), source, path.parent,
                         chain + (str(path.resolve()),))


def _resolve_spec(spec: ScenarioSpec, source: str, directory: Path,
                  chain: tuple[str, ...]) -> Scenario:
    events = [Event(e.date, name, op, value, e.note, source) for e in spec.events
              for op, changes in (("set", e.set), ("scale", e.scale))
              for name, value in changes.items()]
    if spec.base is None:
        if spec.start is None or spec.end is None:
            missing = "start" if spec.start is None else "end"
            raise ScenarioError(source, missing, "is required when the scenario has no 'base:'")
        params = defaults()
        params.update(spec.parameters)
        start, end, branch, sources = spec.start, spec.end, spec.branch, (source,)
        fixed = frozenset(spec.parameters)
        seed = 1 if spec.seed is None else spec.seed
        if branch is not None and not (start < branch <= end):
            raise ScenarioError(source, "branch", f"{branch} must fall after the start {start} "
                                f"and not after the end {end}")
    else:
        base_path = Path(directory) / spec.base
        # a plain name not next to the file: one of the library's (a file saved from the app,
        # or copied out of scenarios/, runs from any folder)
        if (not base_path.is_file() and Path(spec.base).name == spec.base
                and (LIBRARY / spec.base).is_file()):
            base_path = LIBRARY / spec.base
        if not base_path.is_file():
            raise ScenarioError(source, "base", f"file not found: {_cut(str(base_path), 300)} "
                                "(a plain name is also looked up among the library's scenarios)")
        # A chain error is the fault of this file's `base:` line, so it names this file.
        key = str(base_path.resolve())
        if key in chain:
            names = " -> ".join(Path(k).name for k in chain + (key,))
            raise ScenarioError(source, "base", f"circular 'base:' chain: {_cut(key, 300)} is "
                                f"already in it ({names})")
        if len(chain) >= MAX_BASE_CHAIN:
            raise ScenarioError(source, "base", f"'base:' chain longer than {MAX_BASE_CHAIN}")
        base = _resolve(base_path, chain)
        if spec.start is not None:
            raise ScenarioError(source, "start", "comes from the base scenario; remove it")
        start = base.start
        seed = base.seed if spec.seed is None else spec.seed
        branch = spec.branch or base.branch or base.end + dt.timedelta(days=1)
        # A policy built on a policy keeps its base's horizon (police_surge runs as long as the
        # status quo it is compared with); a policy on the record runs two years from its branch.
        end = spec.end or (base.end if base.branch is not None and branch < base.end else
                           _years_later(branch, DEFAULT_POLICY_HORIZON_YEARS)
                           - dt.timedelta(days=1))
        levers, world = split_by_role(spec.parameters)
        params = {**base.parameters, **world}
        # A child keeps everything its base does (a policy built on a policy keeps the first one's
        # changes) and layers its own on top; same-day changes apply base first.
        inherited = [e for e in base.events if e.date <= end]
        at_branch = [Event(branch, n, "set", v, "policy from branch date", source)
                     for n, v in levers.items()]
        for e in events:
            if e.date < branch:
                raise ScenarioError(source, "events", f"event on {e.date} is before the branch "
                                    f"date {branch}; a policy can only change the future")
        events = inherited + at_branch + events
        sources = base.sources + (source,)
        fixed = base.fixed | frozenset(spec.parameters)
        if not start < branch <= end:  # the line at fault: this file's branch, else its end
            raise ScenarioError(source, "branch" if spec.branch or not spec.end else "end",
                                f"{branch} (the branch) must fall after the start {start} "
                                f"and not after the end {end}")
    if end <= start:
        raise ScenarioError(source, "end", f"{end} must be after the start {start}")
    latest = _years_later(start, MAX_HORIZON_YEARS)
    if end > latest:
        raise ScenarioError(source, "end", f"{end} is more than {MAX_HORIZON_YEARS} years after "
                            f"the start {start}; the longest horizon is {MAX_HORIZON_YEARS} "
                            f"years (end on or before {latest})")
    for e in events:
        if not start <= e.date <= end:
            raise ScenarioError(e.source or source, "events", f"event on {e.date} ({e.name}) "
                                f"is outside the horizon {start} to {end}")
    events.sort(key=lambda e: e.date)
    _check_event_results(params, events, source)
    return Scenario(spec.name, spec.description, start, end, seed, params, tuple(events),
                    branch, sources, fixed)


def apply_event(values: dict[str, float], event: Event) -> float:
    """The new value of `event.name` after `event`; whole-number parameters are rounded."""
    value = event.value if event.op == "set" else values[event.name] * event.value
    return float(round(value)) if PARAMS[event.name].integer else value


def _check_event_results(params: dict[str, float], events: list[Event], source: str) -> None:
    """Replay the events on the parameters so a `scale` cannot push a value out of its range."""
    values = dict(params)
    for e in events:
        try:
            values[e.name] = check_value(e.name, apply_event(values, e))
        except ValueError as exc:
            # name the file that holds the event; the value it acts on may come from `source`
            after = f" (with the values of {source})" if e.source and e.source != source else ""
            raise ScenarioError(e.source or source, "events",
                                f"on {e.date}, {e.name}: {exc}{after}") from None
