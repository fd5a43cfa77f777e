"""Make the analyses the app shows without running them (`sim.analysis.shipped`), with the command
line's own commands, and ship their small outputs in `sim/data/analyses/<name>/`:

    python scripts/ship_analyses.py [--workers 2] [--work runs/shipped] [--only NAME] [--resume]

- `sensitivity-status_quo`: the default Morris of `scenarios/status_quo.yaml` (10 trajectories
  over every uncertainty, to 2027-12-31), as the README's example;
- `discover-gsf_full`: scenario discovery on `scenarios/gsf_full.yaml`, the goal "gangs hold less
  than half of Port-au-Prince on 2027-12-31", 300 runs over the 8 parameters that move the
  capital most in the shipped sensitivity (the README's recommended variant), so it is made after
  it.

The runs stay in `--work` (resumable with `--resume` and the same options); only sensitivity.csv,
discover.csv, boxes.csv and analysis.json (the command, date, runs, seconds, mode, package
version and model fingerprint) are shipped. Refresh them after a change of the model: the app
says a shipped result is stale when the model's fingerprint differs from the one recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analysis import discover, sensitivity, shipped  # noqa: E402
from sim.analysis.goals import Goal  # noqa: E402
from sim.cli import main as cli  # noqa: E402
from sim.running.results import ResultsDir  # noqa: E402

SENSITIVITY_NAME, DISCOVER_NAME = "sensitivity-status_quo", "discover-gsf_full"
GOAL = Goal.of("capital_gang_share_area", 0.5, dt.date(2027, 12, 31), below=True)
DISCOVER_TOP = 8  # parameters of the shipped sensitivity the discovery varies


def _top(name: str, outcome: str, k: int) -> list[str]:
    rows = shipped.load(name).tables["sensitivity.csv"]
    ranked = sorted((r for r in rows if r["outcome"] == outcome), key=lambda r: r["rank"])
    return [r["parameter"] for r in ranked[:k]]


def command(name: str) -> tuple[str, str, list[str]]:
    """(kind, scenario file, the command line's arguments without --out and --workers)."""
    if name == SENSITIVITY_NAME:
        return shipped.SENSITIVITY, "scenarios/status_quo.yaml", ["sensitivity",
                                                                  "scenarios/status_quo.yaml"]
    top = _top(SENSITIVITY_NAME, GOAL.metric, DISCOVER_TOP)
    return shipped.DISCOVER, "scenarios/gsf_full.yaml", [
        "discover", "scenarios/gsf_full.yaml", "--metric", GOAL.metric, "--below",
        f"{GOAL.threshold:g}", "--by", GOAL.by.isoformat(), "--samples", str(discover.SAMPLES),
        *(a for p in top for a in ("--vary", p))]


def _seconds(manifest: dict) -> float | None:
    try:
        return (dt.datetime.fromisoformat(manifest["finished"])
                - dt.datetime.fromisoformat(manifest["started"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


def ship(name: str, work: Path, workers: int, resume: bool) -> None:
    kind, scenario_file, args = command(name)
    out = work / name
    argv = [*args, "--workers", str(workers), "--out", str(out)]
    if resume:
        argv.append("--resume")
    print(f"haiti-sim {shlex.join(argv)}", file=sys.stderr)
    started = time.perf_counter()
    status = cli(argv)
    wall_s = time.perf_counter() - started
    if status:
        raise SystemExit(f"{name}: the command failed (status {status}); nothing shipped")
    manifest = ResultsDir(out).read_manifest()
    plan = manifest["plan"]
    meta = {"kind": kind, "name": name, "scenario": Path(scenario_file).name,
            "command": "haiti-sim " + shlex.join([*args, "--workers", str(workers)]),
            "created": dt.date.today().isoformat(), "runs": len(manifest["runs"]),
            "seconds": _seconds(manifest), "seconds_wall": round(wall_s, 1),
            "parameters": plan["ensemble"]["mode"], "package_version": plan["package_version"],
            "model_fingerprint": plan["model_fingerprint"],
            "factors": len(plan["design"]["factors"]), "replicates": plan["replicates"],
            "varied": [f["name"] for f in plan["design"]["factors"]],
            "base_seed": plan["base_seed"]}
    if kind == shipped.SENSITIVITY:
        result = sensitivity.analyse(out, None, plan["base_seed"])
        meta |= {"method": result.method, "points": result.points, "origin": result.origin,
                 "outcomes": [o.name for o in result.outcomes], "notes": result.notes}
        files = {"sensitivity.csv": sensitivity.csv_text(result)}
    else:
        from sim.analysis import compare

        found = discover.discover(out, GOAL, discover.FAIL, discover.MIN_DENSITY)
        meta |= {"goal": GOAL.to_dict(), "cases": found.cases, "min_density": found.min_density,
                 "of_interest": found.of_interest, "summary": discover.summary(found),
                 "notes": found.notes}
        files = {"discover.csv": compare.records_csv(discover.trajectory_records(found),
                                                     discover.TRAJECTORY_FIELDS),
                 "boxes.csv": compare.records_csv(discover.box_records(found),
                                                  discover.BOX_FIELDS)}
    folder = shipped.write(name, meta, files)
    print(f"shipped {name}: {meta['runs']} runs, {meta['seconds']} s, into "
          f"{folder.relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "shipped",
                        help="where the runs go (kept, for --resume)")
    parser.add_argument("--only", choices=[SENSITIVITY_NAME, DISCOVER_NAME],
                        help="one analysis (the discovery reads the shipped sensitivity)")
    parser.add_argument("--resume", action="store_true",
                        help="complete the runs in --work (same options as before)")
    args = parser.parse_args(argv)
    for name in [args.only] if args.only else [SENSITIVITY_NAME, DISCOVER_NAME]:
        ship(name, args.work, args.workers, args.resume)


if __name__ == "__main__":
    main()
