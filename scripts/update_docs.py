"""Regenerate the generated parts of docs/odd.md: the parameter table and the validation table.

The parameter table comes from `sim.model.parameters.markdown_table()`; the validation table runs
the
historical scenario (`scenarios/history.yaml`) for several replicates and sets the median and 90%
interval of each simulated figure beside the observed one (`sim.analysis.validation`). Run after any
change of mechanism or default, in the same commit:

    python scripts/update_docs.py [--replicates 20]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim.analysis import validation
from sim.model import scenario
from sim.model.parameters import markdown_table
from sim.model.world import HaitiModel

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "odd.md"

def run_replicates(n: int) -> tuple[np.ndarray, list[str], np.ndarray, scenario.Scenario]:
    """(replicate x day x metric values, metric names, RN1 shares, the scenario) of n runs."""
    sc = scenario.load(ROOT / "scenarios" / "history.yaml")
    values, rn1 = [], []
    for seed in tqdm(range(1, n + 1), desc="history replicates", unit="run"):
        model = HaitiModel(sc, seed=seed)
        model.run(until=validation.RN1_ARTIBONITE.when)
        rn1.append(validation.rn1_artibonite_share(model))
        model.run()
        values.append(model.recorder.values.copy())
    return np.stack(values), list(model.recorder.names), np.array(rn1), sc


def fmt(x: float, share: bool) -> str:
    return f"{x:.0%}" if share else f"{x:,.0f}"


def validation_table(n: int) -> str:
    values, names, rn1, sc = run_replicates(n)
    rows = ["| figure | date | observed | simulated median [90% interval] | source |",
            "|---|---|---|---|---|"]
    for obs in validation.STOCKS + validation.FLOWS:
        rows.append(_row(obs, obs.simulated(values, names, sc.start)))
    rows.append(_row(validation.RN1_ARTIBONITE, rn1))
    return "\n".join(rows) + f"\n\n{n} replicates (seeds 1 to {n}) of `scenarios/history.yaml`."


def _row(obs: validation.Observed, series: np.ndarray) -> str:
    lo, med, hi = np.percentile(series, [5, 50, 95])
    return (f"| {obs.label} | {obs.when} | {obs.shown} | {fmt(med, obs.share)} "
            f"[{fmt(lo, obs.share)} to {fmt(hi, obs.share)}] | {obs.source} |")


def fill(text: str, marker: str, content: str) -> str:
    pattern = re.compile(rf"(<!-- {marker}:begin -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{ODD}: markers for '{marker}' not found")
    return pattern.sub(lambda m: m.group(1) + content + "\n" + m.group(2), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    args = parser.parse_args()
    text = ODD.read_text(encoding="utf-8")
    text = fill(text, "parameters", markdown_table())
    text = fill(text, "validation", validation_table(args.replicates))
    ODD.write_text(text, encoding="utf-8")
    print(f"updated {ODD}")


if __name__ == "__main__":
    main()
