"""What runs leave on disk: the long-form table of daily outcomes, end-of-run control maps, and the
manifest, written atomically so that a crash never leaves a half-written file behind.

A results directory (written by `haiti-sim run` and `haiti-sim batch` alike) holds:

    manifest.json                              what was run, with what, and the batch's status
    runs.jsonl                                 the journal: one line per finished run (done or
                                               failed), with the sha256 and size of its files
    experiments.parquet                        one row per run: label, scenario, sample, replicate,
                                               seed, draw (the posterior draw, null in point
                                               mode), and the value of every varied parameter
    series/<scenario>/replicate-00000.parquet  scenario, replicate, date, metric, value (one row per
                                               metric per simulated day, stocks and daily flows)
    maps/<scenario>/replicate-00000.parquet    scenario, replicate, cell, owner_is_gang (end of run)

One file per run keeps memory flat while a batch writes (each run is written as it finishes and
dropped) and lets an interrupted batch be resumed run by run. All series files share one schema,
so `pyarrow.dataset.dataset(DIR / "series")` (or pandas/duckdb over the same folder) reads the
whole batch as one table; `read_series` does so for the runs the manifest marks done.

Why a journal. The manifest says what a batch is (its plan) and how it stands (running,
interrupted, complete); each finished run appends one fsynced line to the journal instead of
rewriting the manifest, so recording a run costs the same in the millionth run as in the first.
A run's status is its latest line; a run with no line is pending. A line cut by a kill is ignored.

Why checksums. A flipped byte in a Parquet file can decode into a date span of centuries or a
value of 1e290 without any error. Every reader (`read_run`, `read_map`, and so `compare`) checks a
file's size and sha256 against its journal line first, refusing a damaged file by name
(`ResultsError`), and sizes its arrays from the manifest (the scenario's start and end), never
from what a file says; `--resume` redoes every run whose files do not match. The experiments
table's size and sha256 are in the manifest (`experiments_file`), checked by `read_experiments`;
it is made from the plan alone, so every start and resume writes it anew.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SERIES_SCHEMA = pa.schema([
    ("scenario", pa.dictionary(pa.int32(), pa.string())),
    ("replicate", pa.int32()),
    ("date", pa.date32()),
    ("metric", pa.dictionary(pa.int32(), pa.string())),
    ("value", pa.float64()),
])
MAP_SCHEMA = pa.schema([
    ("scenario", pa.dictionary(pa.int32(), pa.string())),
    ("replicate", pa.int32()),
    ("cell", pa.int32()),
    ("owner_is_gang", pa.bool_()),
])
TEMP_SUFFIX = ".partial"
JOURNAL = "runs.jsonl"
LOCK = ".lock"


class ResultsError(ValueError):
    """A results directory that cannot be read or written as asked (a damaged file, a batch
    already writing into it); `str()` is the message for the user."""


def package_version() -> str:
    """The installed haiti-sim version, recorded with every result."""
    try:
        return metadata.version("haiti-sim")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class RunOutput:
    """What one run returns to the process that writes it: compact arrays, no tables.

    `values` is the run's Recorder array (days x metrics); `owner_is_gang` the control map at the
    end. Where the run was asked for map snapshots (`sim.running.engine.Observe`),
    `snapshot_steps` are the simulated days done at each, `held_bits` the packed control maps and
    `commune_share` the gang-held share of each commune's residents. A run that raised has
    `error` (and `traceback`) instead of arrays.
    """

    scenario: str
    replicate: int
    seed: int
    start: dt.date
    metrics: tuple[str, ...] = ()
    values: np.ndarray | None = None
    owner_is_gang: np.ndarray | None = None
    error: str | None = None
    traceback: str | None = None
    snapshot_steps: np.ndarray | None = None
    held_bits: np.ndarray | None = None
    commune_share: np.ndarray | None = None

    @classmethod
    def of(cls, scenario: str, replicate: int, seed: int, model) -> RunOutput:
        rec = model.recorder
        return cls(scenario, replicate, seed, model.config.start, tuple(rec.names),
                   rec.values, model.cells.owner >= 0)

    @classmethod
    def failure(cls, scenario: str, replicate: int, seed: int, start: dt.date,
                exc: BaseException) -> RunOutput:
        return cls(scenario, replicate, seed, start, error=f"{type(exc).__name__}: {exc}",
                   traceback="".join(traceback.format_exception(exc)))

    @property
    def ok(self) -> bool:
        return self.error is None

    def held_maps(self) -> np.ndarray:
        """The snapshots' control maps, unpacked: (snapshot, cell), True where a gang holds it."""
        return np.unpackbits(self.held_bits, axis=1, count=len(self.owner_is_gang)).astype(bool)

    def held_map_on(self, step: int) -> np.ndarray:
        """The control map of the snapshot taken with `step` simulated days done."""
        return self.held_maps()[list(self.snapshot_steps).index(step)]


def _label_array(label: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), [label])


def series_table(run: RunOutput) -> pa.Table:
    """The long-form table of one run, metric by metric (each metric's days are contiguous, which
    compresses well and reads back as one slice per metric)."""
    days, k = run.values.shape
    dates = np.datetime64(run.start, "D") + np.arange(days)
    return pa.Table.from_arrays([
        _label_array(run.scenario, days * k),
        pa.array(np.full(days * k, run.replicate, np.int32)),
        pa.array(np.tile(dates, k), pa.date32()),
        pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(k, dtype=np.int32), days)),
                                       list(run.metrics)),
        pa.array(run.values.T.ravel()),
    ], schema=SERIES_SCHEMA)


def map_table(run: RunOutput) -> pa.Table:
    n = len(run.owner_is_gang)
    return pa.Table.from_arrays([
        _label_array(run.scenario, n),
        pa.array(np.full(n, run.replicate, np.int32)),
        pa.array(np.arange(n, dtype=np.int32)),
        pa.array(run.owner_is_gang),
    ], schema=MAP_SCHEMA)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _naming(path: Path):
    """An OSError raised without a file name (ENOSPC from a write) gets `path`, so the user's
    one-line message says where."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise


def write_atomically(path: Path, write) -> None:
    """Write via a temporary file in the same directory, fsync it, then rename it over `path`:
    readers see the old file or the new one, never a partial one, even after a power cut."""
    with _naming(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
        try:
            with open(tmp, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)


def write_parquet(table: pa.Table, path: Path) -> dict:
    """Write `table` atomically; returns what the journal records of the file: its size, sha256
    and rows (hashed from the bytes written, not read back)."""
    # Dictionary-encode only the columns that are dictionaries (scenario, metric): on dates,
    # values and cells it costs time and makes files bigger (a run's series: 315 -> 234 KB).
    dictionaries = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=dictionaries)
    data = sink.getvalue().to_pybytes()
    write_atomically(Path(path), lambda fh: fh.write(data))
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "rows": table.num_rows}


def write_json(obj, path: Path) -> None:
    text = json.dumps(obj, indent=1, default=str).encode()
    write_atomically(Path(path), lambda fh: fh.write(text))


def file_problem(path: Path, recorded: dict) -> str | None:
    """What is wrong with a run's file compared with its journal entry, or None if it matches."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "is missing"
    if size != recorded["bytes"]:
        return f"has {size} bytes, not the {recorded['bytes']} recorded"
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != recorded["sha256"]:
        return "does not match its recorded sha256"
    return None


class Runs(Sequence):
    """Every run of a plan, in the plan's order (replicate by replicate, scenario by scenario),
    computed from the plan and the finished runs rather than stored: a run with no record is
    pending. `len` is the plan's size without building anything."""

    def __init__(self, labels: list[str], replicates: int, base_seed: int,
                 finished: dict[tuple[str, int], dict]):
        self.labels, self.replicates, self.base_seed = labels, replicates, base_seed
        self.finished = finished

    def __len__(self) -> int:
        return self.replicates * len(self.labels)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        replicate, k = divmod(i % len(self), len(self.labels))
        label = self.labels[k]
        return self.finished.get((label, replicate)) or {
            "scenario": label, "replicate": replicate, "seed": self.base_seed + replicate,
            "status": "pending", "error": None, "traceback": None}

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(len(self)))

    def having(self, status: str) -> list[dict]:
        """The finished runs of one status ("done" or "failed"), without listing the pending."""
        return sorted((r for r in self.finished.values() if r["status"] == status),
                      key=lambda r: (r["replicate"], self.labels.index(r["scenario"])
                                     if r["scenario"] in self.labels else 0))


class ResultsDir:
    """A results directory: where each run's files go, and reading them back."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.manifest_path = self.path / "manifest.json"
        self.journal_path = self.path / JOURNAL
        self.lock_path = self.path / LOCK
        self._manifest: dict | None = None

    @property
    def experiments_path(self) -> Path:
        return self.path / "experiments.parquet"

    def write_experiments(self, table: pa.Table) -> dict:
        """Write the experiments table; returns what the manifest records of the file
        (`experiments_file`: size, sha256, rows)."""
        return write_parquet(table, self.experiments_path)

    def read_experiments(self) -> pa.Table:
        """One row per run of the plan (done or not): label, scenario, sample, replicate, seed
        and every varied parameter's value, once the file matches the manifest's record."""
        path = self.experiments_path
        recorded = (self._manifest or self.read_manifest()).get("experiments_file")
        problem = file_problem(path, recorded) if recorded else None
        if problem:
            raise self._damaged(path, problem)
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise self._damaged(path, str(exc)) from None

    def series_path(self, scenario: str, replicate: int) -> Path:
        return self.path / "series" / scenario / f"replicate-{replicate:05d}.parquet"

    def map_path(self, scenario: str, replicate: int) -> Path:
        return self.path / "maps" / scenario / f"replicate-{replicate:05d}.parquet"

    def has_run(self, scenario: str, replicate: int) -> bool:
        return (self.series_path(scenario, replicate).exists()
                and self.map_path(scenario, replicate).exists())

    def write_run(self, run: RunOutput) -> dict:
        """Write a finished run's files; returns their journal entries (size, sha256, rows)."""
        return {"map": write_parquet(map_table(run), self.map_path(run.scenario, run.replicate)),
                "series": write_parquet(series_table(run),
                                        self.series_path(run.scenario, run.replicate))}

    def run_problem(self, record: dict) -> str | None:
        """Why a done run's files cannot be trusted ("<path> is missing", "... does not match
        its recorded sha256"), or None. A run recorded without checksums (a results directory
        from before the journal) is checked only for its files' presence."""
        paths = {"series": self.series_path(record["scenario"], record["replicate"]),
                 "map": self.map_path(record["scenario"], record["replicate"])}
        for kind, path in paths.items():
            recorded = record.get("files", {}).get(kind)
            problem = (file_problem(path, recorded) if recorded
                       else None if path.exists() else "is missing")
            if problem:
                return f"{path} {problem}"
        return None

    # ------------------------------------------------------------------ manifest and journal
    def read_manifest(self) -> dict:
        """The manifest, with `runs`: every run of the plan and its latest status, from the
        journal (raises FileNotFoundError if the directory holds no results, ResultsError if
        the manifest is not one of ours)."""
        try:
            manifest = json.loads(self.manifest_path.read_text())
            if not isinstance(manifest, dict) or "plan" not in manifest:
                raise ValueError("no plan")
            if "runs" not in manifest:  # format 2: the runs are in the journal
                plan = manifest["plan"]
                manifest["runs"] = Runs([s["label"] for s in plan["scenarios"]],
                                        plan["replicates"], plan["base_seed"],
                                        self.read_journal())
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{self.manifest_path} is damaged or not a haiti-sim manifest "
                               f"({type(exc).__name__}: {exc})") from None
        self._manifest = manifest
        return manifest

    def write_manifest(self, manifest: dict) -> None:
        write_json({k: v for k, v in manifest.items() if not isinstance(v, Runs)},
                   self.manifest_path)

    def read_journal(self) -> dict[tuple[str, int], dict]:
        """The latest record of every finished run, by (scenario, replicate). A line that does
        not parse (cut by a kill, or damaged) is skipped: its run counts as pending."""
        finished: dict[tuple[str, int], dict] = {}
        if not self.journal_path.exists():
            return finished
        with open(self.journal_path, "rb") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                    finished[record["scenario"], record["replicate"]] = record
                except (ValueError, KeyError, TypeError):
                    continue
        return finished

    def write_journal(self, records: list[dict]) -> None:
        """Replace the journal with `records` (a new batch, or a resumed one's kept runs)."""
        text = b"".join(json.dumps(r).encode() + b"\n" for r in records)
        write_atomically(self.journal_path, lambda fh: fh.write(text))

    def append_journal(self, records: list[dict]) -> None:
        """Append finished runs' records, fsynced, so a run is recorded once its files are."""
        text = b"".join(json.dumps(r).encode() + b"\n" for r in records)
        with _naming(self.journal_path), open(self.journal_path, "ab") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    @contextlib.contextmanager
    def lock(self):
        """Hold the directory for one writer: a second batch into it refuses, naming the first
        (pid, start time). The lock is the kernel's (flock), so a dead writer's lock is free
        and the next batch takes it over."""
        with _naming(self.path):
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                try:
                    holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
                except ValueError:
                    holder = {}
                raise ResultsError(
                    f"{self.path} is in use by another batch (pid {holder.get('pid', '?')}, "
                    f"started {holder.get('started', '?')}); wait for it to finish or choose "
                    "another --out") from None
            me = json.dumps({"pid": os.getpid(), "started": dt.datetime.now(dt.UTC).isoformat(
                timespec="seconds")}).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, me, 0)
            yield
        finally:
            os.close(fd)  # releases the flock

    def remove_partial_files(self) -> None:
        """Delete temporary files left by a process killed in the middle of a write."""
        for tmp in self.path.rglob(f"*{TEMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)

    def done_runs(self) -> list[dict]:
        """The records of the runs that finished (scenario, replicate, seed, files...)."""
        runs = self.read_manifest()["runs"]
        if isinstance(runs, Runs):
            return runs.having("done")
        return [r for r in runs if r["status"] == "done"]

    # ------------------------------------------------------------------ reading runs
    def _checked(self, scenario: str, replicate: int, kind: str) -> tuple[dict, dict]:
        """(the run's record, its scenario's description) once its file matches the journal."""
        manifest = self._manifest or self.read_manifest()
        described = {s["label"]: s for s in manifest["plan"]["scenarios"]}.get(scenario)
        runs = manifest["runs"]
        record = (runs.finished.get((scenario, replicate)) if isinstance(runs, Runs) else
                  next((r for r in runs if (r["scenario"], r["replicate"]) == (scenario,
                                                                                replicate)),
                       None))
        if described is None or record is None or record["status"] != "done":
            raise ResultsError(f"{self.path} holds no finished run of '{scenario}' replicate "
                               f"{replicate}")
        path = (self.series_path if kind == "series" else self.map_path)(scenario, replicate)
        recorded = record.get("files", {}).get(kind)
        problem = file_problem(path, recorded) if recorded else None
        if problem:
            raise ResultsError(f"{path} {problem}: the file is damaged; redo it with "
                               f"{self._resume_command()}")
        return record, described

    def _damaged(self, path: Path, why: str) -> ResultsError:
        return ResultsError(f"{path} is damaged ({why}); redo it with {self._resume_command()}")

    def _resume_command(self) -> str:
        """What completes this directory: an experiment resumes as one, anything else as a
        batch."""
        command = "experiment" if (self._manifest or {}).get("command") == "experiment" else \
            "batch"
        return f"haiti-sim {command} --resume --out {self.path}"

    def read_run(self, scenario: str, replicate: int,
                 metrics: list[str] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One run's daily series as arrays: (dates as datetime64[D], {metric: values by day}),
        checked against the journal and sized by the scenario's start and end."""
        _, described = self._checked(scenario, replicate, "series")
        path = self.series_path(scenario, replicate)
        first = np.datetime64(described["start"], "D")
        days = int((np.datetime64(described["end"], "D") - first).astype(int)) + 1
        try:
            table = pq.read_table(path, columns=["date", "metric", "value"])
        except (OSError, pa.ArrowException) as exc:
            raise self._damaged(path, str(exc)) from None
        day = (table["date"].to_numpy().astype("datetime64[D]") - first).astype(np.int64)
        if len(day) and (day.min() < 0 or day.max() >= days):
            raise self._damaged(path, f"dates outside {described['start']} to "
                                      f"{described['end']}")
        metric = table["metric"].combine_chunks()
        codes, value = metric.indices.to_numpy(), table["value"].to_numpy()
        out = {}
        for code, name in enumerate(metric.dictionary.to_pylist()):
            if metrics is None or name in metrics:
                sel = codes == code
                out[name] = np.full(days, np.nan)
                out[name][day[sel]] = value[sel]
        return first + np.arange(days), out

    def read_map(self, scenario: str, replicate: int) -> np.ndarray:
        record, _ = self._checked(scenario, replicate, "map")
        path = self.map_path(scenario, replicate)
        try:
            table = pq.read_table(path, columns=["cell", "owner_is_gang"])
        except (OSError, pa.ArrowException) as exc:
            raise self._damaged(path, str(exc)) from None
        cells = record.get("files", {}).get("map", {}).get("rows", len(table))
        cell = table["cell"].to_numpy()
        if len(table) != cells or (len(cell) and (cell.min() < 0 or cell.max() >= cells)):
            raise self._damaged(path, f"cells outside 0..{cells - 1}")
        owner = np.zeros(cells, bool)
        owner[cell] = table["owner_is_gang"].to_numpy(zero_copy_only=False)
        return owner

    def read_series(self) -> pa.Table:
        """Every finished run's long-form table in one Table (all in memory: for small results;
        `sim.analysis.compare` reads run by run instead)."""
        tables = []
        for r in self.done_runs():
            self._checked(r["scenario"], r["replicate"], "series")
            tables.append(pq.read_table(self.series_path(r["scenario"], r["replicate"])))
        return pa.concat_tables(tables) if tables else SERIES_SCHEMA.empty_table()
