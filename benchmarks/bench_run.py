"""Benchmark of one default run: two simulated years of the historical scenario.

Target on the project's 2-core machine: at most 0.15 s best per run, peak memory under 400 MB
(a batch of 8 policies x 100 replicates in under 3 minutes needs about 0.4 s, see
bench_batch.py). Where a day goes (2026-12, ~0.17 ms): the compiled day (`world._day`) ~0.1 ms,
of which engagements ~30 us; recording ~10 us; Mesa's event loop and the agents ~15 us; and
the setup of a run ~15 ms.
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
import sys
import time
from pathlib import Path

# this checkout's sim, not whichever one is installed (run as a script, sys.path[0] is
# the script's folder)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.model import scenario  # noqa: E402
from sim.model.world import HaitiModel  # noqa: E402

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
