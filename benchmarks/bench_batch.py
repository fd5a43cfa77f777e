"""Benchmark of `haiti-sim batch`: wall time and peak memory, and the same runs by mesa.batch_run.

    python benchmarks/bench_batch.py                      # 8 policies x 100 replicates
    python benchmarks/bench_batch.py --scenarios 2 --replicates 10 --mesa   # side by side

Each contender runs in its own process tree; memory is the peak of the summed proportional set size
(PSS) of that tree (the batch, its workers, the forkserver), sampled from /proc every 0.5 s: a
parallel batch's footprint is the sum over its processes, not the largest one, and PSS counts a
page shared by forked processes once rather than in each of them as resident sizes would.

Policies branch from scenarios/history.yaml the day after it ends (2026-04-01) and run (to
2027-12-31); mesa.batch_run has no way to share the history, so it simulates each run from 2023,
and it keeps every run's daily data in memory as dictionaries, which is how it returns results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mesa

from sim.model import scenario
from sim.model.world import HaitiModel
from sim.running.results import ResultsDir

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "scenarios" / "history.yaml"
# Policy levers varied across the benchmark's scenarios: (parameters set at the branch date).
POLICIES = (
    {"mission_troops_target": 1000, "funding_mission_us": 0},
    {"mission_troops_target": 5550, "mission_troop_ceiling": 5550, "funding_mission_us": 6e8},
    {"mission_troops_target": 2500, "funding_mission_us": 2e8, "mission_mandate": 2,
     "funding_mission_un_assessed": 3e8},
    {"arms_interdiction": 0.5},
    {"arms_embargo_relaxed": 1},
    {"police_intake_per_year": 3000, "funding_police_donors": 1e8},
    {"mission_troops_target": 0, "funding_mission_canada": 0, "funding_mission_others": 0,
     "funding_mission_haiti": 0},
    {"mission_troops_target": 5550, "mission_troop_ceiling": 5550, "funding_mission_us": 6e8,
     "arms_interdiction": 0.5, "police_intake_per_year": 3000},
)


def write_scenarios(directory: Path, count: int) -> list[str]:
    files = []
    for i, policy in enumerate(POLICIES[:count]):
        path = directory / f"policy_{i}.yaml"
        lines = [f"name: Benchmark policy {i}", f"base: {HISTORY}",
                 "end: 2027-12-31", "parameters:"]
        lines += [f"  {name}: {value}" for name, value in policy.items()]
        path.write_text("\n".join(lines) + "\n")
        files.append(str(path))
    return files


def _tree(root: int) -> set[int]:
    """`root` and all its descendants, from /proc (Linux)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        children = [c for c, p in parent.items() if p == frontier[-1]]
        frontier.pop()
        tree.update(children)
        frontier += children
    return tree


def _pss_kb_and_cpu_ticks(pid: int) -> tuple[int, int]:
    """Proportional set size and CPU time (user + system) of one process."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    pss = int(next(line for line in rollup if line.startswith("Pss:")).split()[1])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return pss, int(fields[11]) + int(fields[12])


def measure(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MB) of a command and all its descendants.

    CPU seconds say what the work costs even when other jobs share the cores; wall seconds
    depend on those jobs too. Both are sampled per process, since the workers of a forkserver
    pool are not children whose usage the command would collect."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    peak_kb, cpu_ticks = 0, {}
    while process.poll() is None:
        total_kb = 0
        for pid in _tree(process.pid):
            with contextlib.suppress(OSError, StopIteration):  # ended since the listing
                pss, ticks = _pss_kb_and_cpu_ticks(pid)
                total_kb += pss
                cpu_ticks[pid] = ticks
        peak_kb = max(peak_kb, total_kb)
        time.sleep(0.5)  # scanning /proc costs CPU the batch would otherwise use
    if process.returncode:
        raise SystemExit(f"{command[:4]} failed with status {process.returncode}")
    seconds = time.perf_counter() - start
    return seconds, sum(cpu_ticks.values()) / os.sysconf("SC_CLK_TCK"), peak_kb / 1024


class MesaDriven(HaitiModel):
    """HaitiModel as mesa.batch_run wants it: built from keyword arguments, collecting every
    recorded metric each day with a DataCollector."""

    def __init__(self, scenario_file: str, rng: int):
        super().__init__(scenario.load(scenario_file), seed=rng)
        self.datacollector = mesa.DataCollector(model_reporters={
            name: (lambda m, i=i: m.recorder.values[m.day, i])
            for i, name in enumerate(self.recorder.names)})

    def step(self):
        super().step()
        self.datacollector.collect(self)


def _mesa_batch_run(files: list[str], replicates: int, base_seed: int, out: str) -> None:
    """Drive the same model with mesa.batch_run (run in a child process by `measure`)."""
    days = scenario.load(files[0]).days
    results = mesa.batch_run(MesaDriven, {"scenario_file": files}, number_processes=2,
                             rng=[base_seed + i for i in range(replicates)],
                             data_collection_period=1, max_steps=days, display_progress=False)
    last = {f"{Path(r['scenario_file']).stem}/{r['rng']}": r["capital_gang_share_area"]
            for r in results if r["Step"] == days}
    Path(out).write_text(json.dumps(last))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", type=int, default=8, choices=range(1, len(POLICIES) + 1))
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mesa", action="store_true", help="also time mesa.batch_run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = write_scenarios(Path(tmp), args.scenarios)
        out = Path(tmp) / "batch"
        seconds, cpu, peak_mb = measure([sys.executable, "-m", "sim.cli", "batch", *files,
                                    "--replicates", str(args.replicates), "--out", str(out),
                                    "--workers", str(args.workers), "--seed", "1"])
        size_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
        runs = args.scenarios * args.replicates
        print(f"haiti-sim batch: {args.scenarios} scenarios x {args.replicates} replicates "
              f"({runs} runs, branch to 2027-12-31) on {args.workers} workers: "
              f"{seconds:.1f} s wall ({seconds / runs:.2f} s/run), {cpu:.0f} CPU-s, "
              f"peak memory {peak_mb:.0f} MB, "
              f"results {size_mb:.0f} MB on disk")
        if not args.mesa:
            return
        finals = Path(tmp) / "mesa.json"
        code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                f"import bench_batch as b; b._mesa_batch_run({files!r}, {args.replicates}, 1, "
                f"{str(finals)!r})")
        m_seconds, m_cpu, m_peak_mb = measure([sys.executable, "-c", code])
        print(f"mesa.batch_run (same runs, from scratch, DataCollector every day, 2 processes): "
              f"{m_seconds:.1f} s wall, {m_cpu:.0f} CPU-s, peak memory {m_peak_mb:.0f} MB")
        print(f"haiti-sim batch: {m_seconds / seconds:.1f}x as fast (wall), "
              f"{m_cpu / cpu:.1f}x less CPU, {m_peak_mb / peak_mb:.1f}x less peak memory")
        results = ResultsDir(out)
        ours = {f"{r['scenario']}/{r['seed']}": results.read_run(
            r["scenario"], r["replicate"], ["capital_gang_share_area"])[1][
            "capital_gang_share_area"][-1] for r in results.done_runs()}
        theirs = json.loads(finals.read_text())
        print("same final outcomes as mesa.batch_run:", ours == theirs)


if __name__ == "__main__":
    main()
