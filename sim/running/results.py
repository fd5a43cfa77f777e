"""What runs leave on disk: the long-form table of daily outcomes, end-of-run control maps, and the
manifest, written atomically so that a crash never leaves a half-written file behind.

A results directory (written by `haiti-sim run` and `haiti-sim batch` alike) holds:

    manifest.json                              what was run, with what, and the status of each run
    experiments.parquet                        one row per run: label, scenario, sample, replicate,
                                               seed, and the value of every varied parameter
    series/<scenario>/replicate-00000.parquet  scenario, replicate, date, metric, value (one row per
                                               metric per simulated day, stocks and daily flows)
    maps/<scenario>/replicate-00000.parquet    scenario, replicate, cell, owner_is_gang (end of run)

One file per run keeps memory flat while a batch writes (each run is written as it finishes and
dropped) and lets an interrupted batch be resumed run by run. All series files share one schema,
so `pyarrow.dataset.dataset(DIR / "series")` (or pandas/duckdb over the same folder) reads the
whole batch as one table; `read_series` does so for the runs the manifest marks done.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import traceback
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


def _write_atomically(path: Path, write) -> None:
    """Write via a temporary file in the same directory, fsync it, then rename it over `path`:
    readers see the old file or the new one, never a partial one, even after a power cut."""
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


def write_parquet(table: pa.Table, path: Path) -> None:
    # Dictionary-encode only the columns that are dictionaries (scenario, metric): on dates,
    # values and cells it costs time and makes files bigger (a run's series: 315 -> 234 KB).
    dictionaries = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    _write_atomically(Path(path), lambda fh: pq.write_table(
        table, fh, compression="zstd", use_dictionary=dictionaries))


def write_json(obj, path: Path) -> None:
    text = json.dumps(obj, indent=1, default=str).encode()
    _write_atomically(Path(path), lambda fh: fh.write(text))


class ResultsDir:
    """A results directory: where each run's files go, and reading them back."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.manifest_path = self.path / "manifest.json"

    @property
    def experiments_path(self) -> Path:
        return self.path / "experiments.parquet"

    def write_experiments(self, table: pa.Table) -> None:
        write_parquet(table, self.experiments_path)

    def read_experiments(self) -> pa.Table:
        """One row per run of the plan (done or not): label, scenario, sample, replicate, seed
        and every varied parameter's value."""
        return pq.read_table(self.experiments_path)

    def series_path(self, scenario: str, replicate: int) -> Path:
        return self.path / "series" / scenario / f"replicate-{replicate:05d}.parquet"

    def map_path(self, scenario: str, replicate: int) -> Path:
        return self.path / "maps" / scenario / f"replicate-{replicate:05d}.parquet"

    def has_run(self, scenario: str, replicate: int) -> bool:
        return (self.series_path(scenario, replicate).exists()
                and self.map_path(scenario, replicate).exists())

    def write_run(self, run: RunOutput) -> None:
        write_parquet(map_table(run), self.map_path(run.scenario, run.replicate))
        write_parquet(series_table(run), self.series_path(run.scenario, run.replicate))

    def read_manifest(self) -> dict:
        """The manifest (raises FileNotFoundError if the directory holds no results)."""
        return json.loads(self.manifest_path.read_text())

    def write_manifest(self, manifest: dict) -> None:
        write_json(manifest, self.manifest_path)

    def remove_partial_files(self) -> None:
        """Delete temporary files left by a process killed in the middle of a write."""
        for tmp in self.path.rglob(f"*{TEMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)

    def done_runs(self) -> list[dict]:
        """The manifest's entries of the runs that finished (scenario, replicate, seed...)."""
        return [r for r in self.read_manifest()["runs"] if r["status"] == "done"]

    def read_run(self, scenario: str, replicate: int,
                 metrics: list[str] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One run's daily series as arrays: (dates as datetime64[D], {metric: values by day})."""
        table = pq.read_table(self.series_path(scenario, replicate),
                              columns=["date", "metric", "value"])
        dates = table["date"].to_numpy().astype("datetime64[D]")
        first = dates.min()
        day = (dates - first).astype(np.int64)
        days = int(day.max()) + 1
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
        table = pq.read_table(self.map_path(scenario, replicate), columns=["cell", "owner_is_gang"])
        owner = np.zeros(len(table), bool)
        owner[table["cell"].to_numpy()] = table["owner_is_gang"].to_numpy(zero_copy_only=False)
        return owner

    def read_series(self) -> pa.Table:
        """Every finished run's long-form table in one Table (all in memory: for small results;
        `sim.analysis.compare` reads run by run instead)."""
        tables = [pq.read_table(self.series_path(r["scenario"], r["replicate"]))
                  for r in self.done_runs()]
        return pa.concat_tables(tables) if tables else SERIES_SCHEMA.empty_table()
