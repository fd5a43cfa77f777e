"""Check that a change of the model moved results only within noise.

Runs one simulated year of the historical scenario (cut like tests/test_baseline.py) for a range
of seeds and saves every metric at the last day (stocks) and its yearly total (flows):

    python scripts/compare_runs.py run --seeds 1 200 --out before.npz      (before the change)
    python scripts/compare_runs.py run --seeds 1001 1200 --out after.npz   (after it)
    python scripts/compare_runs.py compare before.npz after.npz

`compare` prints, for every metric, the two means and the z-score of their difference
(difference of means over its standard error, the two sets of seeds being independent), sorted
by |z|. A change that only reshuffles random draws leaves |z| below about 3 for every metric
(with ~70 metrics, the largest of them is typically 2-3).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from pathlib import Path

# this checkout's sim, not whichever one is installed (run as a script, sys.path[0] is
# the script's folder)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from sim.model import scenario  # noqa: E402
from sim.model.outcomes import FLOWS  # noqa: E402
from sim.running import engine  # noqa: E402

HISTORY = Path(__file__).resolve().parents[1] / "scenarios" / "history.yaml"
DAYS = 365


def outcomes(seed: int, sc: scenario.Scenario) -> tuple[list[str], np.ndarray]:
    """Names and values: each stock on the last day, each flow summed over the run."""
    [run] = engine.run([("check", sc)], seed)
    flows = set(FLOWS)
    names = [f"{n}_total" if n in flows else f"{n}@day{DAYS - 1}" for n in run.metrics]
    values = np.array([run.values[:, i].sum() if n in flows else run.values[-1, i]
                       for i, n in enumerate(run.metrics)])
    return names, values


def run(first: int, last: int, out: Path) -> None:
    history = scenario.load(HISTORY)
    end = history.start + dt.timedelta(days=DAYS - 1)
    sc = dataclasses.replace(history, end=end,
                             events=tuple(e for e in history.events if e.date <= end))
    rows, names = [], []
    for seed in range(first, last + 1):
        names, values = outcomes(seed, sc)
        rows.append(values)
    np.savez(out, names=np.array(names), values=np.array(rows),
             seeds=np.arange(first, last + 1))
    print(f"wrote {out}: {len(rows)} runs, {len(names)} metrics")


def compare(before: Path, after: Path, show: int) -> float:
    a, b = np.load(before), np.load(after)
    assert list(a["names"]) == list(b["names"]), "the two files record different metrics"
    x, y = a["values"], b["values"]
    se = np.sqrt(x.var(0, ddof=1) / len(x) + y.var(0, ddof=1) / len(y))
    diff = y.mean(0) - x.mean(0)
    z = np.where(se > 0, diff / np.where(se > 0, se, 1), np.where(diff == 0, 0.0, np.inf))
    order = np.argsort(-np.abs(z))
    print(f"{len(x)} runs before, {len(y)} after; {len(z)} metrics; |z| largest first")
    print(f"{'metric':48s} {'mean before':>14s} {'mean after':>14s} {'z':>7s}")
    for i in order[:show]:
        print(f"{a['names'][i]:48s} {x[:, i].mean():14.6g} {y[:, i].mean():14.6g} {z[i]:7.2f}")
    print(f"largest |z| = {np.abs(z).max():.2f}; metrics with |z| > 3: "
          f"{int((np.abs(z) > 3).sum())}")
    return float(np.abs(z).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--seeds", type=int, nargs=2, default=(1, 200), metavar=("FIRST", "LAST"))
    r.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--show", type=int, default=25)
    args = parser.parse_args()
    if args.command == "run":
        run(args.seeds[0], args.seeds[1], args.out)
    else:
        compare(args.before, args.after, args.show)


if __name__ == "__main__":
    main()
