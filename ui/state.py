"""The app's settings in the URL, so that a link reproduces the view.

The query string holds what differs from the chosen scenario file: `scenario=gsf_full.yaml`, one
`NAME=VALUE` per changed parameter (the model's units, the names of `haiti-sim params`), `end=`,
`seed=`, `replicates=`, `reference=`, `point=1` when parameter uncertainty is left out, and
`event=DATE|set|NAME|VALUE|NOTE` (repeated) when the events were edited (`event=none`: all
removed). An uploaded file travels in the link itself,
compressed (`upload=` and `file=`), so the link works on another machine running the same version.

Pure functions of dictionaries: the page reads `st.query_params` into `decode` and writes
`encode`'s result back.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass, field

from sim.model.parameters import PARAMS, check_value
from sim.model.scenario import MAX_FILE_BYTES, ScenarioError, check_date, check_seed, printable
from ui.library import EventRow, Settings

DEFAULT_SCENARIO = "status_quo.yaml"
DEFAULT_REPLICATES = 5
# Web servers refuse request lines much longer than this (the app's server: 16 KiB in all); a
# larger scenario does not travel in a link (the page says so: save it as a file instead).
MAX_PACKED_CHARS = 8000
MAX_REPLICATES = 50
NO_REFERENCE = "none"


@dataclass
class View:
    """Everything a link carries."""

    scenario: str = DEFAULT_SCENARIO  # a library file, or "upload"
    upload_name: str = ""
    upload_text: str = ""
    settings: Settings = field(default_factory=Settings)
    replicates: int = DEFAULT_REPLICATES
    reference: str | None = None  # a library file, NO_REFERENCE, or None: the default
    point: bool = False  # every replicate at the defaults, not under the posterior's draws


def fits_in_link(text: str) -> bool:
    return len(pack(text)) <= MAX_PACKED_CHARS


def pack(text: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def unpack(data: str) -> str:
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    d = zlib.decompressobj()
    text = d.decompress(raw, MAX_FILE_BYTES + 1)  # a link cannot inflate into a huge file
    if len(text) > MAX_FILE_BYTES or d.unconsumed_tail:
        raise ValueError("the scenario in the link is too large")
    return text.decode()


def _event_text(row: EventRow) -> str:
    return "|".join([row.date.isoformat(), row.op, row.name, f"{row.value:g}",
                     row.note.replace("|", "/")])


def _event(text: str) -> EventRow:
    date, op, name, value, *note = text.split("|")
    if op not in ("set", "scale") or name not in PARAMS:
        raise ValueError(f"'{text}' is not DATE|set|NAME|VALUE|NOTE")
    number = float(value)
    if op == "set":
        check_value(name, number)
    return EventRow(check_date(date), name, op, number, "|".join(note))


def encode(view: View) -> dict[str, str | list[str]]:
    """The query parameters of `view`."""
    q: dict[str, str | list[str]] = {"scenario": view.scenario}
    if view.scenario == "upload":
        q["file"] = view.upload_name
        packed = pack(view.upload_text)
        if len(packed) <= MAX_PACKED_CHARS:
            q["upload"] = packed
    s = view.settings
    for name, value in sorted(s.parameters.items()):
        q[name] = f"{value:.10g}"
    if s.end is not None:
        q["end"] = s.end.isoformat()
    if s.seed is not None:
        q["seed"] = str(s.seed)
    if view.replicates != DEFAULT_REPLICATES:
        q["replicates"] = str(view.replicates)
    if view.reference is not None:
        q["reference"] = view.reference
    if view.point:
        q["point"] = "1"
    if s.events is not None:
        q["event"] = [_event_text(r) for r in s.events] or ["none"]
    return q


def decode(query: dict[str, list[str]]) -> tuple[View, list[str]]:
    """A view from query parameters (each key with all its values), and a note per value that
    could not be used (the rest of the link still applies). Values are checked as a scenario
    file's are (`check_seed`, `check_date`, `check_value`); a note shows a bad value cut."""
    view, notes = View(), []
    one = {k: v[-1] for k, v in query.items() if v}
    view.scenario = one.pop("scenario", DEFAULT_SCENARIO)
    if view.scenario == "upload":
        try:
            if "upload" not in one:
                raise ValueError("it was too large to travel in the link; open the file itself")
            view.upload_text = unpack(one.pop("upload"))
            view.upload_name = one.pop("file", "upload.yaml")
        except (ValueError, zlib.error, UnicodeDecodeError) as exc:
            notes.append(f"the uploaded scenario in the link cannot be read ({exc})")
            view.scenario = DEFAULT_SCENARIO
    s = view.settings
    for key, text in one.items():
        try:
            if key in PARAMS:
                s.parameters[key] = check_value(key, float(text))
            elif key == "end":
                s.end = check_date(text)
            elif key == "seed":
                s.seed = check_seed(text, "link")
            elif key == "replicates":
                view.replicates = min(max(int(text), 1), MAX_REPLICATES)
            elif key == "reference":
                view.reference = text
            elif key == "point":
                if text not in ("0", "1"):
                    raise ValueError("must be 1 (at the defaults) or 0 (posterior ensemble)")
                view.point = text == "1"
            elif key == "event":
                rows = query["event"]
                s.events = [] if rows == ["none"] else [_event(r) for r in rows]
            elif key not in ("upload", "file"):
                notes.append(f"'{printable(key)}' is not a setting of this app; ignored")
        except ScenarioError as exc:
            notes.append(f"{key}={printable(text)}: {exc.message}; ignored")
        except ValueError as exc:
            notes.append(f"{key}={printable(text)}: {printable(str(exc), 300)}; ignored")
    return view, notes
