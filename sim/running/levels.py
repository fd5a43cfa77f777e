"""One scenario at many values of a lever, run as an experiment that grows while a search learns.

What the target search evaluates (`sim.analysis.search`): `line_runs(...)` gives
`evaluate(levels, replicates)`, which runs the scenario at each value of the lever (a point of a
line: the values of every lever moved with it) for each replicate and returns what `reduce`
makes of each run (whether it meets the goal), as a replicates x levels array.

The runs are an experiment's (`sim.running.batch`), not a second machinery: the plan is the
scenario at every value asked for so far, labelled `<scenario>.s<k>` in the order first asked,
with as many replicates as the most any value has had. Each call grows it
(`Recording.extend`) and runs only the runs asked for that are not done (`batch.drain`), on the
batch's workers or a Dask cluster, with its handling of dead workers and its seeds (replicate r
with seed BASE + r and posterior draw r at every value: common random numbers, and the values a
replicate asks for in one call share one simulated history). So a search leaves the standard
results directory: manifest, journal, experiments.parquet (every lever's value per run), each
run's series and map, which `haiti-sim compare` reads like a batch's. The runs of a value beyond
the replicates the search gave it stay pending in the plan: they were never asked for.

What a run says is read back from its files (checked against their sha256), for the runs just
done as for those an earlier process left, so the answer does not depend on which process ran
them. That makes a search resumable: the search is a deterministic function of its runs'
outcomes (its bootstrap is seeded), so a resumed one (`resume=True`) replays the same rounds,
finds their runs done and runs only those the interrupted search had not finished. It refuses a
directory whose plan differs (the scenario files, seed, --set, parameter draws or model: the
batch's own check and messages) or whose question does (`question`: what was asked, by option).

Cost: the workers keep each replicate's history at the branch on disk (`sim.running.histories`,
the user's cache), so a replicate visited again, in a later round or by a later search from the
same record, starts at the branch: a run from a kept history takes ~0.16 s instead of ~0.45 s.
Each worker reads and writes those files itself; nothing is sent back and forth (an earlier cache
here pickled the models through the parent and did not pay for itself). Each run's files are
written and read back (about 30 ms).

`lever_scenarios`, `pack` and `unpack` are the app's: its runner schedules the same runs in its
own pool and keeps a search's histories between rounds.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.model.scenario import Scenario
from sim.running import batch
from sim.running.batch import BatchError, Plan, Recording
from sim.running.results import ResultsDir, RunOutput

COMMAND = "target"


class RunFailed(RuntimeError):
    """A run raised inside the model (a bug); the message holds its traceback."""


@dataclass
class LineRuns:
    """`evaluate(levels, replicates)` for the search, writing into `results` (see the module
    docstring). `plan_of(values, replicates)` is the plan of the scenario at those lever values;
    `metrics` are those `reduce` reads."""

    results: ResultsDir
    plan_of: Callable[[list[float], int], Plan]
    reduce: Callable[[RunOutput], object]
    metrics: Sequence[str]
    pool: tuple  # batch.backend's (executor, tasks in flight, renew)
    question: dict
    progress: object  # told of runs planned (`plan(runs)`) and done (`update(labels)`)
    values: list[float] = field(default_factory=list)  # the lever's, in the plan's order
    recording: Recording | None = None
    ran: int = 0  # runs done by this process (the others were found on disk)

    def reopen(self) -> None:
        """Continue the search recorded in `results`: its plan again (refused if the scenario,
        seed, --set, draws or model differ) and its question (refused if any option differs)."""
        try:
            manifest = self.results.read_manifest()
        except FileNotFoundError:
            raise BatchError(f"{self.results.path} holds no search to resume (no "
                             "manifest.json)") from None
        if manifest.get("command") != COMMAND:
            raise BatchError(f"{self.results.path} holds a {manifest.get('command')}, not a "
                             "target search; choose another --out")
        _check_same_question(manifest.get("search", {}), self.question, self.results.path)
        plan = manifest["plan"]
        self.values = [float(v) for v in plan["design"]["settings"]["values"]]
        self.recording = Recording(self.results, self.plan_of(self.values, plan["replicates"]),
                                   COMMAND, resume=True)

    def __call__(self, levels: np.ndarray, replicates: np.ndarray) -> np.ndarray:
        self._grow([float(level) for level in levels], int(max(replicates)) + 1)
        label = dict(zip(self.values, (lb for lb, _ in self.recording.plan.scenarios),
                         strict=True))
        labels = [label[float(level)] for level in levels]
        only = {int(r): labels for r in replicates}
        todo = sum(len(missing) for _, missing in self.recording.pending(only))
        self.progress.plan(todo)
        self.ran += todo
        executor, slots, renew = self.pool
        batch.drain(executor, slots, self.recording.plan, self.recording, self.progress, renew,
                    only)
        return self._outcomes(labels, [int(r) for r in replicates])

    def _grow(self, levels: list[float], replicates: int) -> None:
        new = [level for level in dict.fromkeys(levels) if level not in self.values]
        have = self.recording.plan.replicates if self.recording is not None else 0
        if self.recording is not None and not new and replicates <= have:
            return
        self.values += new
        plan = self.plan_of(list(self.values), max(replicates, have))
        if self.recording is not None:
            self.recording.extend(plan)
            return
        self.recording = Recording(self.results, plan, COMMAND)
        self.recording.manifest["search"] = self.question
        self.results.write_manifest(self.recording.manifest)

    def _outcomes(self, labels: list[str], replicates: list[int]) -> np.ndarray:
        """`reduce` of each run, read back from its files."""
        reader = ResultsDir(self.results.path)
        finished = reader.read_manifest()["runs"].finished
        plan = self.recording.plan
        out = np.empty((len(replicates), len(labels)), dtype=object)
        for i, r in enumerate(replicates):
            for k, label in enumerate(labels):
                record = finished.get((label, r), {})
                if record.get("status") != "done":
                    raise RunFailed(f"{label}, replicate {r} (seed {plan.seed(r)}):\n"
                                    f"{record.get('traceback') or record.get('error')}")
                dates, values = reader.read_run(label, r, list(self.metrics))
                out[i, k] = self.reduce(RunOutput(
                    label, r, plan.seed(r), dates[0].item(), tuple(values),
                    np.column_stack(list(values.values())), reader.read_map(label, r)))
        return out


def _check_same_question(old: dict, new: dict, out: Path) -> None:
    """Refuse to resume a search that asked something else: its answer would not be this
    question's. Compared as JSON, as the manifest keeps it."""
    new = json.loads(json.dumps(new, default=str))
    for key, value in new.items():
        before = old.get(key)
        if before != value:
            def shown(v):
                if isinstance(v, list):
                    return ", ".join(map(str, v)) or "nothing"
                return v.get("description", v) if isinstance(v, dict) else v

            raise BatchError(f"{key} was {shown(before)} in the search in {out}, not "
                             f"{shown(value)}; resume with the search's own options, or start "
                             "a new search in another --out")


@contextlib.contextmanager
def line_runs(plan_of: Callable[[list[float], int], Plan], out: str | Path,
              reduce: Callable[[RunOutput], object], metrics: Sequence[str], question: dict,
              progress, *, resume: bool = False, workers: int | None = None,
              scheduler: str | None = None):
    """`evaluate(levels, replicates)` for the search, while `out` is locked and the workers
    are up (`batch.backend`: local processes, `workers` at most the cores, 1 in this process;
    or the Dask cluster at `scheduler`). With `resume`, the search recorded in `out` goes on.
    The manifest ends complete, or interrupted if anything stops the search (Ctrl-C, a full
    disk, a failed run): `resume` then continues it."""
    results = ResultsDir(out)
    with results.lock(), batch.backend(workers, scheduler) as pool:
        runs = LineRuns(results, plan_of, reduce, metrics, pool, question, progress)
        if resume:
            runs.reopen()
        try:
            yield runs
        except BaseException:
            if runs.recording is not None:
                with contextlib.suppress(OSError):  # a full disk may refuse this too
                    runs.recording.close("interrupted")
            raise
        if runs.recording is not None:
            runs.recording.close()


def lever_scenarios(scenario: Scenario,
                    points: Sequence[dict[str, float]]) -> list[tuple[str, Scenario]]:
    """`scenario` at each point, labelled NAME=VALUE by its first parameter (the lever
    searched; the others follow it): the scenarios of one replicate of the app's search,
    which its runner schedules in its own pool."""
    return [(f"{next(iter(point))}={next(iter(point.values())):.10g}",
             scenario.with_overrides(point)) for point in points]


def pack(history: tuple[bytes, list]) -> bytes:
    """A history at the branch (`engine.run`'s `histories` value), compressed to keep."""
    return zlib.compress(pickle.dumps(history, pickle.HIGHEST_PROTOCOL), 1)


def unpack(packed: bytes) -> tuple[bytes, list]:
    return pickle.loads(zlib.decompress(packed))  # noqa: S301 - made by this program's runs
