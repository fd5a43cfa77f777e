"""Benchmark of one default run: two simulated years of the historical scenario.

Target on the project's 2-core machine: under 1 second per run, peak memory under 400 MB; a
batch of 8 policies x 100 replicates in under 3 minutes needs about 0.4 s (see bench_batch.py).
Run: `python benchmarks/bench_run.py [--repeat N]`. Prints wall time per run (best and median of
N, after one warm-up run that also loads the geography and the compiled kernels), time per
simulated day, and the peak resident memory of the process. Timings on a shared machine vary by
up to a factor of two from one minute to the next: compare best times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import time
from pathlib import Path

from sim.model import scenario
from sim.model.world import HaitiModel

HISTORY = Path(__file__).resolve().parents[1] / "scenarios" / "history.yaml"
DAYS = 730


def one_run(sc: scenario.Scenario, seed: int) -> float:
    start = time.perf_counter()
    HaitiModel(sc, seed=seed).run(until=sc.start + dt.timedelta(days=DAYS))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sc = scenario.load(HISTORY)
    one_run(sc, seed=0)
    times = [one_run(sc, seed=i + 1) for i in range(args.repeat)]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"two simulated years ({DAYS} days), {args.repeat} runs")
    print(f"  best   {min(times):.3f} s   median {statistics.median(times):.3f} s")
    print(f"  per simulated day {statistics.median(times) / DAYS * 1e3:.3f} ms")
    print(f"  peak resident memory {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
