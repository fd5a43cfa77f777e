"""One browser tab's state, and what all tabs share.

Shared, once per server process: the `Runner` (worker processes and the caches of runs and
histories, keyed by content, so sharing them cannot mix two users' results). Per tab
(`st.session_state`): the chosen scenario, the levers, the events, the uploads, the runs made, and
the jobs. Nothing a tab does changes what another tab sees.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field

import streamlit as st

from sim.model.scenario import Scenario, ScenarioError
from sim.running import ensemble
from sim.running.ensemble import Ensemble
from ui import library
from ui.library import Source
from ui.runner import Job, OverBudget, Runner, reference, shutdown
from ui.state import DEFAULT_REPLICATES, DEFAULT_SCENARIO, NO_REFERENCE

log = logging.getLogger(__name__)
MAX_SESSION_SOURCES = 12  # uploads and runs kept per tab (oldest dropped)
PREWARM = os.environ.get("HAITI_SIM_APP_PREWARM", "1") != "0"


@st.cache_resource(show_spinner=False, on_release=shutdown)
def runner() -> Runner:
    """The server's runner. It starts its workers at once and, unless HAITI_SIM_APP_PREWARM=0,
    runs the page's default (the status quo, its default replicates) in the background: the
    2023 to March 2026 history of those seeds is then cached for every policy, so a user's first run
    simulates only the policy years. Nothing is shown until the user presses Run."""
    r = Runner()

    def start() -> None:  # in the background: starting the workers takes seconds
        r.warm_up()
        if PREWARM and DEFAULT_SCENARIO in library.library():
            s = library.load_library(DEFAULT_SCENARIO).resolved
            r.submit([("prewarm", s)], [s.seed + i for i in range(DEFAULT_REPLICATES)],
                     ensemble=posterior())

    threading.Thread(target=start, daemon=True, name="haiti-sim-warm-up").start()
    return r


def posterior() -> Ensemble | None:
    """The shipped posterior ensemble, or None while none is shipped (runs at the defaults)."""
    return ensemble.shipped()


UNCERTAINTY_LABEL = "Include parameter uncertainty (posterior ensemble)"


def uncertainty_help() -> str:
    """What the run settings' checkbox does, and why it is off while no posterior is shipped."""
    if posterior() is None:
        return f"Not available: {ensemble.NOT_SHIPPED}."
    return ("On (the default): replicate i of every scenario runs under draw i of the "
            "calibration's posterior, the parameter sets that reproduce the 2023-2024 record, "
            "so the bands show what is not known about the parameters as well as the dice. The "
            "values you set are kept. Off: every replicate at the posterior median (the "
            "defaults), for teaching or speed; the bands then show only the dice.")


def parameters_caption(job: Job) -> str:
    """How a job's replicates treated the calibrated parameters, for its caption."""
    return draws_caption(job.ensemble, len(job.seeds))


def draws_caption(draws: Ensemble | None, replicates: int, what: str = "bands") -> str:
    """How `replicates` replicates under `draws` (None: point mode) treated the calibrated
    parameters; `what` names what their spread shows (bands, intervals)."""
    if draws is None:
        return f"every replicate at the parameter defaults ({what}: the dice only)"
    n, first = len(draws), draws.number(0)
    used = (f"all {n} posterior draws" if replicates >= n else
            f"posterior draws {first} to {draws.number(max(replicates, 1) - 1)} of {n}")
    stale = ensemble.stale_note(draws)
    return f"{used} ({what} include parameter uncertainty)" + (
        f". Warning: {stale}" if stale else "")


def owner() -> str:
    """This tab's id, which its jobs carry (the runner's budget is per tab)."""
    return st.session_state.setdefault("session_id", uuid.uuid4().hex)


def submit(scenarios: list[tuple[str, Scenario]], seeds: list[int],
           uncertainty: bool = True) -> Job | None:
    """Start a job for this tab, within its compute budget (`runner.SESSION_RUN_DAYS`), under
    the posterior ensemble if `uncertainty` (and one is shipped); over the budget, or with a
    draw the scenario's events cannot take, None, and the message waits for `show_refusal`."""
    try:
        job = runner().submit(scenarios, seeds, owner=owner(),
                              ensemble=posterior() if uncertainty else None)
    except (OverBudget, ScenarioError) as exc:
        st.session_state["refused"] = str(exc)
        return None
    st.session_state.pop("refused", None)
    return job


def show_refusal() -> None:
    """The message of the last run refused for the budget, once."""
    if message := st.session_state.pop("refused", None):
        st.warning(message)


@dataclass
class Run:
    """A job started from a page, with what is needed to show it."""

    job: Job
    names: dict[str, str]  # job label -> name shown (and file-safe name for downloads)
    text: str = ""  # the scenario file the user ran (explore page)
    reference: str | None = None  # the reference's job label
    asked: tuple = ()  # what was asked for (scenario, seeds, reference): to tell when it is stale
    shown_runs: int = -1  # runs the page last drew (a full redraw when it changes)
    shown_at: float = 0.0  # when the page last drew them (time.monotonic)
    cache: dict = field(default_factory=dict)  # figures and tables, by (what, runs done)

    def cached(self, what: str, make, version=None):
        """`make()`, kept until more runs are done (or `version` changes)."""
        key = (what, self.job.runs_done if version is None else version)
        if key not in self.cache:
            self.cache = {k: v for k, v in self.cache.items() if k[0] != what}
            self.cache[key] = make()
        return self.cache[key]


def sources() -> dict[str, Source]:
    """Scenarios this tab uploaded or ran, by label (newest last)."""
    return st.session_state.setdefault("sources", {})


def add_source(source: Source) -> None:
    own = sources()
    own.pop(source.label, None)
    own[source.label] = source
    while len(own) > MAX_SESSION_SOURCES:
        own.pop(next(iter(own)))


def take_upload(uploader_key: str, error_key: str) -> Source | None:
    """Read the file in uploader `uploader_key` as a scenario and add it to this tab's sources.

    A bad file leaves the command line's message in `error_key` and returns None."""
    uploaded = st.session_state.get(uploader_key)
    if uploaded is None:
        return None
    try:
        src = library.from_upload(uploaded.name, uploaded.getvalue())
    except ScenarioError as exc:
        st.session_state[error_key] = str(exc)
        return None
    st.session_state[error_key] = None
    add_source(src)
    return src


def all_labels() -> list[str]:
    return library.library() + list(sources())


def get_source(label: str) -> Source:
    """A source by label: a library file, or an upload or run of this tab."""
    if label in sources():
        return sources()[label]
    return library.load_library(label)


# What makes Markdown (and Streamlit's additions: colours, icons, LaTeX) fetch, link, format or
# nest; ':' and '.' break bare web addresses, which would become links. A '-' or '+' could only
# start a list, and the program's own titles hold them.
MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#.!|~$:")


def plain(text: str) -> str:
    """`text` (a name, note or description from a file a user gave, or a title that holds one)
    for Markdown, shown as written: what Markdown or Streamlit would read as markup is escaped,
    so an image or link in it is neither fetched nor followed."""
    return "".join("\\" + c if c in MARKDOWN_SPECIAL else c for c in text)


def show_error(message: str, warning: bool = False) -> None:
    """A message for the user, verbatim (a YAML parser's message points at a column with '^',
    and a file's several mistakes take a line each, which Markdown would reflow); as a warning
    when what it refuses was replaced (a link's file)."""
    first, _, rest = message.partition("\n")
    first = first.replace("*", "\\*").replace("_", "\\_")
    (st.warning if warning else st.error)(f"{first}\n```\n{rest}\n```" if rest else first)


def show_bug(exc: BaseException) -> None:
    """An unexpected error: its traceback to the server's log, a short message with a reference
    to it for the user (a traceback shows the server's paths and code)."""
    ref = reference()
    log.error("app error (reference %s)", ref, exc_info=exc)
    st.error(f"Something went wrong on the server ({type(exc).__name__}); this is a bug. Please "
             f"report it with the reference **{ref}**. Reloading the page starts afresh.")


def guarded(fn):
    """`fn` with unexpected errors shown by `show_bug` (for fragments, which rerun alone, outside
    the page's guard in `app.py`)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # st.rerun and st.stop raise BaseExceptions, which pass
            show_bug(exc)
    return wrapper


def describe(label: str) -> str:
    try:
        return f"{label} · {get_source(label).name}" if label.endswith(".yaml") else label
    except ScenarioError:
        return label


def describer(labels: list[str], none: str | None = None):
    """A format function for widgets listing `labels`: computed now, so it does not need the
    session when Streamlit (or a test) calls it later."""
    names = {label: describe(label) for label in labels}
    if none is not None:
        names[none] = "no reference"
    return lambda label: names.get(label, label)


def default_reference(source: Source) -> str:
    """The status quo for library policies other than itself; no reference otherwise."""
    if (source.kind == "library" and source.is_policy and source.label != library.REFERENCE
            and library.REFERENCE in library.library()):
        return library.REFERENCE
    return NO_REFERENCE


def reference_scenario(label: str, end: dt.date) -> Scenario | None:
    """The reference, run to the same end as the scenario it is compared with."""
    if label == NO_REFERENCE:
        return None
    s = get_source(label).resolved
    if end <= s.start or (s.branch is not None and end < s.branch):
        return None
    return library.with_end(s, end)


def next_run_label(name: str) -> str:
    n = st.session_state.get("run_count", 0) + 1
    st.session_state["run_count"] = n
    return f"run {n}: {name}"


def settings_source(text: str, label: str) -> Source:
    return library.from_text(text, label, "run")

