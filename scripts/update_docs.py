"""Regenerate the generated parts of docs/odd.md: the parameter table and the validation table.

The parameter table comes from `sim.parameters.markdown_table()`; the validation table runs the
historical scenario (`scenarios/history.yaml`) for several replicates and sets the median and 90%
interval of each simulated figure beside the observed one. Run after any change of mechanism or
default, in the same commit:

    python scripts/update_docs.py [--replicates 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim import scenario
from sim.model import HaitiModel
from sim.parameters import markdown_table

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "odd.md"
D = dt.date

# (label, kind, when, observed value shown, observed number or None, source)
STOCKS = [
    ("Capital under gang control, by area", "capital_gang_share_area", D(2023, 1, 21), "60%", 0.60,
     "UN estimate, AP 21 Jan 2023"),
    ("Capital under gang control, by area", "capital_gang_share_area", D(2023, 5, 18), "~80%", 0.80,
     "UN, WION 18 May 2023"),
    ("Capital under gang control, by area", "capital_gang_share_area", D(2023, 9, 15), "80%", 0.80,
     "UN Panel of Experts S/2023/674"),
    ("Capital under gang control, by area", "capital_gang_share_area", D(2024, 1, 15), "80%", 0.80,
     "BINUH, UNSC Jan 2024"),
    ("Capital under gang control, by area", "capital_gang_share_area", D(2024, 9, 15), "80-90%",
     0.85, "OHCHR Sep 2024"),
    ("Capital under gang control, by population", "capital_gang_share_population",
     D(2024, 9, 15), "80-90%", 0.85, "OHCHR Sep 2024 (share of the capital, basis not stated)"),
    ("Displaced people", "displaced", D(2023, 6, 30), ">165,000", 165_000, "IOM, Jun 2023"),
    ("Displaced people", "displaced", D(2023, 12, 31), "313,901", 313_901, "IOM DTM, Jan 2024"),
    ("Displaced people", "displaced", D(2024, 6, 30), "578,074", 578_074, "IOM DTM round 7"),
    ("Displaced people", "displaced", D(2024, 9, 30), "702,973", 702_973, "IOM DTM round 8"),
    ("Displaced people", "displaced", D(2024, 12, 31), "1,041,000", 1_041_000, "IOM, 14 Jan 2025"),
    ("Police officers", "police_officers", D(2023, 12, 31), "13,196", 13_196, "BINUH/SG, Jan 2024"),
]
FLOWS = [
    ("Killed in 2023 (all sides)", "killed", 2023, "4,789", 4_789, "SG report S/2024/62"),
    ("Killed in 2024 (all sides)", "killed", 2024, "5,601", 5_601, "OHCHR, 7 Jan 2025"),
    ("Kidnapped in 2023", "kidnappings", 2023, "2,490", 2_490, "SG report S/2024/62"),
    ("Kidnapped in 2024", "kidnappings", 2024, "1,494", 1_494, "BINUH Q4 2024"),
]
RN1_CHECK = D(2023, 11, 28)


def run_replicates(n: int) -> tuple[list[np.ndarray], list[str], list[float], scenario.Scenario]:
    sc = scenario.load(ROOT / "scenarios" / "history.yaml")
    values, rn1 = [], []
    for seed in tqdm(range(1, n + 1), desc="history replicates", unit="run"):
        model = HaitiModel(sc, seed=seed)
        model.run(until=RN1_CHECK)
        geo = model.geo
        road = geo.roads["RN1"]
        lower_artibonite = road[geo.department[road] == geo.department_index("Artibonite")]
        rn1.append(float(np.mean(model.cells.owner[lower_artibonite] >= 0)))
        model.run()
        values.append(model.recorder.values.copy())
    return values, list(model.recorder.names), rn1, sc


def fmt(x: float, share: bool) -> str:
    return f"{x:.0%}" if share else f"{x:,.0f}"


def validation_table(n: int) -> str:
    values, names, rn1, sc = run_replicates(n)
    stack = np.stack(values)  # replicate, day, metric
    rows = ["| figure | date | observed | simulated median [90% interval] | source |",
            "|---|---|---|---|---|"]
    for label, metric, when, shown, _, source in STOCKS:
        series = stack[:, (when - sc.start).days, names.index(metric)]
        rows.append(_row(label, str(when), shown, series, "share" in metric, source))
    for label, metric, year, shown, _, source in FLOWS:
        a, b = (D(year, 1, 1) - sc.start).days, (D(year + 1, 1, 1) - sc.start).days
        series = stack[:, a:b, names.index(metric)].sum(axis=1)
        rows.append(_row(label, str(year), shown, series, False, source))
    rows.append(_row("Share of RN1 cells in Artibonite held by gangs", str(RN1_CHECK),
                     "gangs control RN1 along ~80 km", np.array(rn1), True,
                     "BINUH/OHCHR report on Lower Artibonite, Nov 2023"))
    return "\n".join(rows) + f"\n\n{n} replicates (seeds 1 to {n}) of `scenarios/history.yaml`."


def _row(label, when, shown, series, share, source) -> str:
    lo, med, hi = np.percentile(series, [5, 50, 95])
    return (f"| {label} | {when} | {shown} | {fmt(med, share)} [{fmt(lo, share)} to "
            f"{fmt(hi, share)}] | {source} |")


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
