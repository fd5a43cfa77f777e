"""The one way to run the model: some scenarios under one seed, each shared history simulated once.

Every caller goes through `run`: `haiti-sim run` and `batch`, experiments, the app's workers, the
documentation's scripts and the tests. What differs between them is only what they keep of a run
(`Observe`) and whether they cache histories, so a fix or a speed-up here reaches all of them, and
the app cannot compute a run differently from the command line.

Shared histories. Policy scenarios that branch from the same history share it exactly: same
start, branch date, events before the branch, parameters in force at the start (which include
the world's uncertainties, see `sim.model.scenario`) and seed (`history_key`). `run` simulates each
history once and forks one model per policy at the branch (`HaitiModel.fork`). A caller that
passes `histories` (a mapping) gets the model at the branch kept there, pickled
(`sim.running.histories.dumps`: the shipped geography by reference), with the map snapshots taken
before it, and later calls start from it: the app keeps a bounded cache in memory so that moving a
slider only simulates the years after the branch, and batches, sweeps and target searches of
policies keep them on disk (`sim.running.histories.Store`) for the next command.

Parameter uncertainty. With `ensemble` (`sim.running.ensemble`), each scenario runs under draw
`replicate` of the posterior, applied before anything else: the history keys and run keys then
hold the drawn values, so runs under different draws never share a history or a cached result,
and scenarios of one replicate (same seed, same draw) still share theirs. Without it (point mode)
a run uses the scenario's own values.

Errors are caught per run (or per history, which fails all its forks) and returned as failed
`RunOutput`s, so one bad run never loses the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, MutableMapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.model.scenario import Scenario
from sim.running import histories as kept_histories
from sim.running.ensemble import Ensemble
from sim.running.results import RunOutput

Progress = Callable[[int], None]  # called with simulated days done since the last call


@dataclass(frozen=True)
class Observe:
    """What a run keeps besides its daily series (always kept) and its control map at the end.

    `monthly_maps`: the control map (and the gang-held share of each commune's residents) on the
    start, on the first of every month and at the end, for the app's date slider. `map_dates`:
    extra days whose control map is kept (a validation target read on a given day).
    """

    monthly_maps: bool = False
    map_dates: tuple[dt.date, ...] = ()

    def snapshot_steps(self, s: Scenario) -> np.ndarray:
        """Simulated days done at each map snapshot (the map of the morning of that day; the
        last, `s.days`, is the map at the end of the run)."""
        steps = {(d - s.start).days for d in self.map_dates}
        if self.monthly_maps:
            steps |= {0, s.days}
            month = dt.date(s.start.year, s.start.month, 1)
            while month <= s.end:
                steps.add((month - s.start).days)
                month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        return np.array(sorted(d for d in steps if 0 <= d <= s.days), dtype=np.int64)


ENDS_ONLY = Observe()


def history_key(s: Scenario, seed: int) -> tuple:
    """Policy scenarios with equal keys share their history up to the branch date exactly."""
    before = tuple((e.date, e.name, e.op, e.value) for e in s.events if e.date < s.branch)
    return s.start, s.branch, before, tuple(sorted(s.parameters.items())), seed


def run_key(s: Scenario, seed: int) -> tuple:
    """What a run's results depend on: not the scenario's name, description, file or notes."""
    return (s.start, s.end, s.branch, tuple(sorted(s.parameters.items())),
            tuple((e.date, e.name, e.op, e.value) for e in s.events), seed)


def snapshot(model) -> tuple[np.ndarray, np.ndarray]:
    """Today's control map, packed (one bit a cell), and the gang-held share of each commune's
    residents."""
    geo, cells = model.geo, model.cells
    held = cells.owner >= 0
    n = len(geo.commune_name)
    residents = np.bincount(geo.commune, cells.residents, minlength=n)
    under = np.bincount(geo.commune, cells.residents * held, minlength=n)
    return np.packbits(held), (under / np.maximum(residents, 1e-9)).astype(np.float32)


def _advance(model, s: Scenario, last_step: int, steps: np.ndarray, snaps: list,
             progress: Progress | None) -> None:
    """Run `model` to `last_step` days done, taking the snapshots due on the way; `snaps` holds
    those already taken (a history's), one per snapshot step, in order."""
    for step in [int(d) for d in steps if d <= last_step][len(snaps):]:
        _run_to(model, s.start + dt.timedelta(days=step), progress)
        snaps.append(snapshot(model))
    _run_to(model, s.start + dt.timedelta(days=last_step), progress)


def _run_to(model, until: dt.date, progress: Progress | None) -> None:
    if progress is None:
        model.run(until=until)
        return
    last = model.steps

    def report(steps: int) -> None:  # the model reports days done every 30 days
        nonlocal last
        progress(steps - last)
        last = steps

    model.run(until=until, progress=report)
    report(model.steps)


def _output(label: str, replicate: int, seed: int, model, steps: np.ndarray,
            snaps: list) -> RunOutput:
    out = RunOutput.of(label, replicate, seed, model)
    if len(steps):
        out.snapshot_steps = steps
        out.held_bits = np.stack([h for h, _ in snaps])
        out.commune_share = np.stack([c for _, c in snaps])
    return out


def _kept(histories, key: Hashable, s: Scenario, observe: Observe) -> tuple[bytes, list] | None:
    """The history kept under `key`, if there is one with every map snapshot `observe` takes up
    to the branch (a history kept with more, the app's monthly maps, serves a run that observes
    less: it ignores them)."""
    if histories is None:
        return None
    try:
        blob, snaps = histories[key]
    except KeyError:
        return None
    before = observe.snapshot_steps(s) <= (s.branch - s.start).days
    return (blob, snaps) if len(snaps) >= int(before.sum()) else None


def run(scenarios: Sequence[tuple[str, Scenario]], seed: int, *, replicate: int = 0,
        ensemble: Ensemble | None = None, observe: Observe = ENDS_ONLY,
        histories: MutableMapping[Hashable, tuple[bytes, list]] | None = None,
        progress: Progress | None = None) -> list[RunOutput]:
    """Run each labelled scenario once with `seed`; return their outputs in the given order.

    `replicate` labels the outputs and, with `ensemble`, picks the posterior draw every scenario
    runs under (`Ensemble.apply`; None: point mode, the scenarios' own values).
    `progress(days)` is called as simulated days are done (histories once, then each fork).
    """
    # Imported here, in the worker: a batch's parent only schedules and writes, and the model's
    # imports (Mesa and what it pulls in) would double its memory.
    from sim.model.world import HaitiModel

    if ensemble is not None:
        scenarios = [(label, ensemble.apply(s, replicate)) for label, s in scenarios]
    groups: dict[Hashable, list[int]] = {}
    for i, (_, s) in enumerate(scenarios):
        key = history_key(s, seed) if s.branch is not None else ("own", i)
        groups.setdefault(key, []).append(i)
    outputs: dict[int, RunOutput] = {}
    for key, group in groups.items():
        first = scenarios[group[0]][1]
        try:
            if first.branch is None:
                base, snaps = HaitiModel(first, seed), []
            elif (kept := _kept(histories, key, first, observe)) is not None:
                blob, snaps = kept
                base = kept_histories.loads(blob)
            else:
                base, snaps = HaitiModel(first, seed), []
                _advance(base, first, (first.branch - first.start).days,
                         observe.snapshot_steps(first), snaps, progress)
                if histories is not None:
                    histories[key] = (kept_histories.dumps(base), list(snaps))
        except Exception as exc:
            for i in group:
                label, s = scenarios[i]
                outputs[i] = RunOutput.failure(label, replicate, seed, s.start, exc)
            continue
        for i in group:
            label, s = scenarios[i]
            try:
                model = base.fork(s) if s.branch is not None else base
                steps, own = observe.snapshot_steps(s), list(snaps)
                _advance(model, s, s.days, steps, own, progress)
                outputs[i] = _output(label, replicate, seed, model, steps, own)
            except Exception as exc:
                outputs[i] = RunOutput.failure(label, replicate, seed, s.start, exc)
    return [outputs[i] for i in range(len(scenarios))]
