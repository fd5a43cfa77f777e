"""Regenerate the generated parts of docs/odd.md: the parameter table and the validation table.

The parameter table comes from `sim.model.parameters.markdown_table()`; the validation table runs
the
historical scenario (`scenarios/history.yaml`) for several replicates and sets the median and 90%
interval of each simulated figure beside the observed one (`sim.analysis.targets`). Run after any
change of mechanism or default, in the same commit:

    python scripts/update_docs.py [--replicates 20] [--odd docs/odd.md]

Runs go through the one run function, `sim.running.engine.run`, keeping the control map on the
RN1 target's date.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim.analysis import stats, targets
from sim.model import scenario
from sim.model.parameters import markdown_table
from sim.running import engine

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "odd.md"

def run_replicates(n: int) -> tuple[np.ndarray, list[str], np.ndarray, scenario.Scenario]:
    """(replicate x day x metric values, metric names, RN1 shares, the scenario) of n runs."""
    sc = scenario.load(ROOT / "scenarios" / "history.yaml")
    observe = engine.Observe(map_dates=targets.MAP_DATES)
    outputs = []
    for seed in tqdm(range(1, n + 1), desc="history replicates", unit="run"):
        [out] = engine.run([("history", sc)], seed, replicate=seed - 1, observe=observe)
        if not out.ok:
            raise SystemExit(f"seed {seed} failed:\n{out.traceback}")
        outputs.append(out)
    values = np.stack([o.values for o in outputs])
    return values, list(outputs[0].metrics), targets.rn1_of_outputs(outputs), sc


def fmt(x: float, share: bool) -> str:
    return f"{x:.0%}" if share else f"{x:,.0f}"


def validation_table(n: int) -> str:
    values, names, rn1, sc = run_replicates(n)
    rows = ["| figure | date | observed | simulated median [90% interval] | source |",
            "|---|---|---|---|---|"]
    simulated = targets.simulate(values, names, sc.start, rn1)
    for obs, series in zip(targets.TARGETS, simulated, strict=True):
        rows.append(_row(obs, series))
    return "\n".join(rows) + f"\n\n{n} replicates (seeds 1 to {n}) of `scenarios/history.yaml`."


def _row(obs: targets.Target, series: np.ndarray) -> str:
    s = stats.interval(series)
    return (f"| {obs.label} | {obs.period} | {obs.shown} | {fmt(s.median, obs.share)} "
            f"[{fmt(s.low, obs.share)} to {fmt(s.high, obs.share)}] | {obs.source} |")


def fill(text: str, marker: str, content: str, path: Path = ODD) -> str:
    pattern = re.compile(rf"(<!-- {marker}:begin -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: markers for '{marker}' not found")
    return pattern.sub(lambda m: m.group(1) + content + "\n" + m.group(2), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--odd", type=Path, default=ODD, help="the file to update (default: "
                        "docs/odd.md; a copy to try the script without touching the docs)")
    args = parser.parse_args()
    text = args.odd.read_text(encoding="utf-8")
    text = fill(text, "parameters", markdown_table(), args.odd)
    text = fill(text, "validation", validation_table(args.replicates), args.odd)
    args.odd.write_text(text, encoding="utf-8")
    print(f"updated {args.odd}")


if __name__ == "__main__":
    main()
