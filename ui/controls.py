"""The lever widgets, generated from the parameter table (`sim.model.parameters.PARAMS`), and the
editor of timed events.

Nothing here names a parameter: a parameter added to, or re-ranged in, the table shows up here
with its unit, range, documentation and source. The featured levers (`Param.featured`: troops,
funding, police intake, interdiction) come first and open; the other levers sit in one expander,
and the parameters of the world in one expander per group, so the sidebar is short until the user
asks for more.
Amounts in US dollars of ten million or more are shown in millions; where their range spans
three powers of ten or more (a donor's 0 to 60 billion a year, when the mission costs tens to
hundreds of millions), the slider is on a log scale of round values and the box beside it takes
any value. Counts from none to 10^5 or more (troops up to 100,000, when missions have had
hundreds to thousands) are on the same log scale, from a thousandth of their top. Categorical
parameters (`choices`, or a unit like "0 = embargo, 1 = relaxed") are a choice of names.

Widget values live in `st.session_state` under `lever.<name>`, in display units; `read_levers`
turns them back into the model's units and keeps only what differs from the scenario file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import streamlit as st

from sim.analysis.report import parameter_label
from sim.model import mission
from sim.model.parameters import GROUPS, PARAMS, Param
from ui.library import EventRow, Source, format_value
from ui.session import plain

KEY = "lever."
ENTRY = "entry."  # the number typed beside a slider (one pixel of a slider is ~1/250 of its range)
SWITCH = re.compile(r"0 = (.+), 1 = (.+)")
MILLION = 1e6
LOG_DECADES = 3  # a range of money this many powers of ten above US$ 1 M gets a log-scale slider


@dataclass(frozen=True)
class Display:
    """How a parameter is shown: in `unit`, `scale` model units per display unit."""

    scale: float
    unit: str
    step: float
    fmt: str
    options: tuple[str, ...] = ()  # names of a categorical parameter's values
    stops: tuple[float, ...] = ()  # the values of a log-scale slider, in display units

    def to_display(self, value: float):
        if self.options:
            return int(value)
        shown = value / self.scale
        return int(round(shown)) if self.fmt == "%d" else float(shown)

    def to_model(self, shown) -> float:
        return float(shown) * self.scale


def _nice_step(span: float) -> float:
    raw = span / 500
    exponent = math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * 10**exponent >= raw:
            return m * 10**exponent
    return 10 ** (exponent + 1)


def log_stops(low: float, high: float, finest: float) -> tuple[float, ...]:
    """The values of a log-scale slider from `low` to `high`: the two ends and the round values
    from `finest` up, each at most 5% above the one before (100, 105, ..., 195, then two
    significant figures: 200, 210, ..., 990), so each power of ten takes the same share of the
    slider and a step is a like share of the value wherever the thumb is."""
    mantissas = (*range(100, 200, 5), *range(200, 1000, 10))  # hundredths of a power of ten
    first = max(low, finest)
    stops = {float(low), float(high)}
    exponent = math.floor(math.log10(first))
    while 10.0**exponent <= high:
        for m in mantissas:
            value = float(m * 10**(exponent - 2) if exponent >= 2 else m / 10**(2 - exponent))
            if first <= value <= high:
                stops.add(value)
        exponent += 1
    return tuple(sorted(stops))


def display(p: Param) -> Display:
    switch = SWITCH.fullmatch(p.unit)
    if p.choices:
        return Display(1, "", 1, "%d", tuple(p.choices))
    if p.integer and p.low == 0 and p.high == 1 and switch:
        return Display(1, "", 1, "%d", (switch.group(1), switch.group(2)))
    if p.unit.startswith("USD") and p.high >= 10 * MILLION:
        low, high = p.low / MILLION, p.high / MILLION
        stops = log_stops(low, high, 1.0) if high >= 10**LOG_DECADES else ()
        return Display(MILLION, "million " + p.unit, 1.0, "%.1f", stops=stops)
    if p.low == 0 and p.high >= 10 ** (LOG_DECADES + 2):  # a count from none to 10^5 or more
        finest = p.high / 10**LOG_DECADES
        stops = tuple(int(v) for v in log_stops(0, p.high, finest))
        return Display(1, p.unit, 1, "%d", stops=stops)
    if p.integer:
        return Display(1, p.unit, 1, "%d")
    step = _nice_step(p.high - p.low)
    decimals = max(0, -math.floor(math.log10(step)))
    return Display(1, p.unit, float(step), f"%.{decimals}f")


def help_text(p: Param, d: Display) -> str:
    if d.options:
        allowed = ", ".join(f"{i} = {o}" for i, o in enumerate(d.options))
    else:
        allowed = f"{p.low:g} to {p.high:g} {p.unit}"
    return (f"`{p.name}`: {p.doc}\n\nAllowed: {allowed}. Default {format_value(p, p.default)}."
            f"\n\nSource: {p.source}")


# ------------------------------------------------------------------------------ levers
def set_levers(source: Source, parameters: dict[str, float]) -> None:
    """Put the widgets at the source's values, with `parameters` changed (call before the widgets
    are drawn, or from a callback)."""
    values = {**source.lever_values, **parameters}
    for name, p in PARAMS.items():
        value = min(max(values[name], p.low), p.high)
        st.session_state[KEY + name] = display(p).to_display(value)


def ensure_levers(source: Source, parameters: dict[str, float]) -> None:
    """Restore widgets Streamlit dropped (it forgets the state of widgets not drawn in a run, e.g.
    after a visit to another page)."""
    if any(KEY + name not in st.session_state for name in PARAMS):
        set_levers(source, parameters)


def read_levers(source: Source) -> dict[str, float]:
    """The parameters whose widget differs from the source's value, in the model's units."""
    changed = {}
    for name, p in PARAMS.items():
        shown = st.session_state.get(KEY + name)
        if shown is None:
            continue
        value = display(p).to_model(shown)
        if p.integer:
            value = float(round(value))
        before = source.lever_values[name]
        if not math.isclose(value, before, rel_tol=1e-9, abs_tol=1e-12):
            d = display(p)
            if d.to_display(before) == shown:  # the file's value is off the widget's grid
                continue
            changed[name] = min(max(value, p.low), p.high)
    return changed


def _typed(name: str) -> None:
    """The number typed beside a slider moves the slider."""
    st.session_state[KEY + name] = st.session_state[ENTRY + name]


def _widget(p: Param) -> None:
    d = display(p)
    key = KEY + p.name
    help_ = help_text(p, d)
    if d.stops:
        help_ += ("\n\nThe slider is on a log scale, in steps of at most 5%; the box beside it "
                  "takes any value.")
    if d.options:
        st.selectbox(parameter_label(p.name), range(len(d.options)), key=key, help=help_,
                     format_func=lambda i, o=d.options: o[i],
                     persist_state="session")
        return
    low, high = d.to_display(p.low), d.to_display(p.high)
    step = int(d.step) if d.fmt == "%d" else d.step
    label = (f"{parameter_label(p.name)} ({d.unit}{', log scale' if d.stops else ''}; "
             f"{low:,g} to {high:,g})")
    # The label spans the sidebar, above the pair: in the slider's column it wrapped to 3-4 lines.
    st.markdown(f":small[{plain(label)}]", help=help_)
    slider, entry = st.columns([2, 1], vertical_alignment="center")
    if d.stops:
        shown = st.session_state.get(key)
        stops = d.stops if shown is None or shown in d.stops else sorted({*d.stops, shown})
        slider.select_slider(label, stops, key=key, help=help_, format_func=lambda v: f"{v:,.10g}",
                             persist_state="session", label_visibility="collapsed")
    else:
        slider.slider(label, min_value=low, max_value=high, step=step, format=d.fmt, key=key,
                      help=help_, persist_state="session", label_visibility="collapsed")
    if key in st.session_state:  # the box shows the slider's value, and typing moves it
        st.session_state[ENTRY + p.name] = st.session_state[key]
    entry.number_input(f"{parameter_label(p.name)}, typed", low, high, step=step, format=d.fmt,
                       key=ENTRY + p.name, on_change=_typed, args=(p.name,),
                       label_visibility="collapsed")


def cap_notes(values: dict[str, float]) -> list[str]:
    """What keeps the mission's troops below their target under `values` (every parameter, as
    in force when the levers take effect), from the model's own numbers (`mission.rates`): the
    authorised ceiling, and the troops the yearly money pays for; and the deployment pace."""
    r = mission.rates(values)
    target = values["mission_troops_target"]
    notes = []
    if target > values["mission_troop_ceiling"]:
        ceiling = values["mission_troop_ceiling"]
        notes.append(f"The target ({target:,.0f}) is above the authorised ceiling "
                     f"(mission_troop_ceiling, {ceiling:,.0f}): raise the ceiling to deploy more.")
    paid = mission.funded_troops(r)
    if min(target, values["mission_troop_ceiling"]) > paid:
        notes.append(f"The yearly pledges (${r.pledged_usd_per_year / 1e6:,.0f} M, "
                     f"{r.disbursement_share:.0%} disbursed, less "
                     f"${r.fixed_cost_usd_per_year / 1e6:,.0f} M fixed, at "
                     f"${r.cost_usd_per_troop_year / 1e3:,.0f}k a troop-year) pay for about "
                     f"{paid:,.0f} troops at the calibrated medians: raise the funding to deploy "
                     "more. (Each posterior draw has its own costs, and a balance from the record "
                     "keeps more for a while.)")
    if notes:
        notes.append(f"Troops arrive at about {r.arrivals_per_day * 365 / 12:,.0f} a month "
                     "(mission_deploy_troops_per_month).")
    return notes


def _by_group(params: list[Param], source: Source) -> None:
    """The widgets of `params` under a heading per group, in the table's order; under the troop
    target, what caps the troops."""
    for group in GROUPS:
        in_group = [p for p in params if p.group == group]
        if in_group:
            st.markdown(f"**{group.capitalize()}**")
        for p in in_group:
            _widget(p)
            if p.name == "mission_troops_target":
                notes = cap_notes({**source.lever_values, **read_levers(source)})
                if notes:  # one box, a line each: three boxes took half the sidebar
                    st.warning("\n".join(f"- {note}" for note in notes))


def levers(source: Source) -> None:
    """The featured levers (`Param.featured`) open, then the other levers and the parameters of
    the world by group, in collapsed expanders."""
    if source.is_policy:
        st.caption(f"Levers take effect on the branch date, {source.policy_start}. The other "
                   "parameters describe the world: a change holds from the start, "
                   f"{source.resolved.start}, and so simulates the history anew (slower).")
    else:
        st.caption(f"Values in effect from the start, {source.policy_start}; the file's events "
                   "still apply later.")
    _by_group([p for p in PARAMS.values() if p.featured], source)
    other = [p for p in PARAMS.values() if p.lever and not p.featured]
    if other:
        groups = ", ".join(dict.fromkeys(p.group for p in other))
        with st.expander(f"Other levers: {groups} ({len(other)})"):
            _by_group(other, source)
    st.markdown("**The world** (uncertainties, starting values, constants)")
    for group in GROUPS:
        rest = [p for p in PARAMS.values() if p.group == group and not p.lever]
        if rest:
            with st.expander(f"{group.capitalize()} ({len(rest)})"):
                for p in rest:
                    _widget(p)


# ------------------------------------------------------------------------------ events
TEMPLATES = ("Donor cut", "Deployment wave", "Conversion to UN peacekeeping", "Any parameter")
DONORS = tuple(n for n in PARAMS if n.startswith("funding_mission_"))


def donor_name(name: str) -> str:
    """'the United States' from the doc "Funding of the mission from the United States."."""
    doc = PARAMS[name].doc
    return doc.split(" from ", 1)[-1].rstrip(".") if " from " in doc else parameter_label(name)


def _template_rows(kind: str, date: dt.date, source: Source) -> list[EventRow] | None:
    """The inputs of one kind of event and the rows it adds (None until they are complete)."""
    values = source.lever_values
    if kind == "Donor cut":
        donor = st.selectbox("Donor", DONORS, key="event.donor", format_func=donor_name)
        share = st.slider("Share of its funding kept", 0.0, 1.0, 0.0, 0.05, key="event.kept")
        note = f"donor cut: {donor_name(donor)} keeps {share:.0%} of its funding"
        return [EventRow(date, donor, "scale", share, note)]
    if kind == "Deployment wave":
        p = PARAMS["mission_troops_target"]
        troops = st.number_input(f"Troops ready to deploy ({p.unit})", int(p.low), int(p.high),
                                 int(max(values[p.name], 0)) + 1000, 100, key="event.troops")
        ceiling = max(troops, values["mission_troop_ceiling"])
        note = f"deployment wave: {troops:,} troops pledged"
        rows = [EventRow(date, p.name, "set", float(troops), note)]
        if ceiling > values["mission_troop_ceiling"]:
            rows.append(EventRow(date, "mission_troop_ceiling", "set", float(ceiling), note))
        return rows
    if kind == "Conversion to UN peacekeeping":
        p = PARAMS["funding_mission_un_assessed"]
        musd = st.number_input("UN assessed funding (million USD/year)", 0.0, p.high / 1e6, 490.6,
                               10.0, key="event.assessed")
        note = "conversion to a UN peacekeeping operation"
        return [EventRow(date, "mission_mandate", "set",
                         float(PARAMS["mission_mandate"].choices.index("un_peacekeeping")), note),
                EventRow(date, p.name, "set", musd * 1e6, note)]
    changeable = [n for n, p in PARAMS.items() if not p.initial]
    name = st.selectbox("Parameter", changeable, key="event.param",
                        format_func=lambda n: f"{parameter_label(n)} ({n})")
    p, d = PARAMS[name], display(PARAMS[name])
    op = st.radio("Change", ("set", "scale"), key="event.op", horizontal=True,
                  format_func=lambda o: "set to" if o == "set" else "multiply by",
                  disabled=bool(d.options))
    if op == "scale" and not d.options:
        factor = st.number_input("Factor", 0.0, 100.0, 0.5, 0.1, key="event.factor")
        return [EventRow(date, name, "scale", factor, "")]
    if d.options:
        shown = st.selectbox("Value", range(len(d.options)), key=f"event.value.{name}",
                             format_func=lambda i, o=d.options: o[i])
    else:
        shown = st.number_input(f"Value ({d.unit})", d.to_display(p.low), d.to_display(p.high),
                                d.to_display(values[name]), key=f"event.value.{name}",
                                step=int(d.step) if d.fmt == "%d" else d.step, format=d.fmt)
    return [EventRow(date, name, "set", d.to_model(shown), "")]


def events_editor(source: Source, rows: list[EventRow], end: dt.date) -> list[EventRow]:
    """List the scenario's own events with a remove button each, and add new ones. Returns the
    rows as edited (the caller stores them)."""
    rows = list(rows)
    if source.inherited_events:
        with st.popover(f"{len(source.inherited_events)} events inherited from the base"):
            st.caption("From the scenarios this one builds on (read-only).")
            for e in source.inherited_events:
                p = PARAMS[e.name]
                change = (f"× {e.value:g}" if e.op == "scale" else f"= {format_value(p, e.value)}")
                note = f"— {plain(e.note)}" if e.note else ""
                st.markdown(f"- {e.date} `{e.name}` {change} {note}")
    if not rows:
        st.caption("No events of this scenario's own.")
    for i, row in enumerate(rows):
        note = f"  \n{plain(row.note)}" if row.note else ""
        st.markdown(f"**{row.date}** `{row.describe()}`{note}")
        if st.button("Remove", key=f"event.remove.{i}.{row.date}.{row.name}", type="tertiary",
                     icon=":material/delete:", help="Remove this event"):
            del rows[i]
            st.session_state["events"] = rows
            st.rerun()
    st.markdown("**Add an event**")
    kind = st.selectbox("Kind", TEMPLATES, key="event.kind")
    first = source.policy_start + dt.timedelta(days=1 if source.is_policy else 0)
    default = min(max(first, dt.date(first.year, 7, 1)), end)
    date = st.date_input("Date", default, min_value=source.policy_start, max_value=end,
                         key="event.date")
    new = _template_rows(kind, date, source)
    if st.button("Add event", key="event.add", disabled=not new):
        rows = sorted(rows + new, key=lambda r: r.date)
        st.session_state["events"] = rows
        st.rerun()
    return rows
