"""A calibration's result as files: equal-weight posterior draws with their provenance, and per
parameter its prior, posterior median and 90% interval, and how far the record narrowed it.

`posterior.csv` (`draw` then one column per parameter) and `posterior.json` (provenance: method,
seed, settings, data and model versions, simulations, generations, date) are what the package
ships in `sim/data/calibration/` and `sim.running.ensemble` reads; `parameters.csv` is the
summary the report, the ODD table and the shipped defaults (`sim/model/calibrated.py`) read.

Identifiability is the posterior's 90% interval over the prior's, both measured in the prior's
unit cube (so a log-uniform prior is judged on its log scale): near 1, the record says nothing
about the parameter and its posterior is its prior; well below 1, the record pins it down.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sim.calibration import abc
from sim.calibration.problem import Problem, data_version
from sim.model.parameters import NOT_NARROWED, PARAMS
from sim.running import fingerprint

DRAWS = 256


@dataclass(frozen=True)
class Marginal:
    name: str
    low: float
    high: float
    log: bool
    median: float
    q05: float
    q95: float
    width_ratio: float
    adapted: bool

    @property
    def identified(self) -> bool:
        return self.width_ratio < NOT_NARROWED


def marginals(problem: Problem, g: abc.Generation, draws: np.ndarray) -> list[Marginal]:
    """Per parameter, from the equal-weight draws (`draws`: indices into the population)."""
    unit = g.unit[draws]
    values = problem.values(unit)
    out = []
    for j, f in enumerate(problem.factors):
        q05, q95 = np.quantile(unit[:, j], [0.05, 0.95])
        median = float(np.median(values[:, j]))
        if PARAMS[f.name].integer:
            median = float(round(median))
        out.append(Marginal(f.name, f.low, f.high, f.log, median,
                            float(np.quantile(values[:, j], 0.05)),
                            float(np.quantile(values[:, j], 0.95)),
                            float((q95 - q05) / 0.9), bool(g.adapted[j])))
    return out


def write(out: str | Path, problem: Problem, generations: list[abc.Generation],
          settings: abc.Settings, n_draws: int = DRAWS) -> list[Marginal]:
    """Write posterior.csv, posterior.json and parameters.csv into `out`; return the marginals."""
    out = Path(out)
    last = generations[-1]
    draws = abc.resample(last, n_draws, settings.seed)
    values = problem.values(last.unit[draws])
    with open(out / "posterior.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["draw", *problem.names])
        for i, row in enumerate(values):
            w.writerow([i, *(repr(float(x)) for x in row)])
    found = marginals(problem, last, draws)
    with open(out / "parameters.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(list(asdict(found[0])) + ["identified"])
        for m in found:
            w.writerow(list(asdict(m).values()) + [m.identified])
    provenance = {
        "method": "ABC-SMC (population Monte Carlo, adaptive thresholds; sim.calibration.abc)",
        "record": f"{problem.scenario.start} to {problem.scenario.end} (sim.analysis.targets)",
        "scenario": problem.source,
        "seed": settings.seed,
        "settings": asdict(settings),
        "draws": n_draws,
        "particles": len(last.weights),
        "parameters": problem.names,
        "adapted": [n for n, a in zip(problem.names, last.adapted, strict=True) if a],
        "generations": len(generations),
        "simulations": sum(g.simulations for g in generations),
        "epsilon": [g.epsilon for g in generations],
        "acceptance": [round(g.acceptance, 4) for g in generations],
        "ess": [round(g.ess, 1) for g in generations],
        "data_sha256": data_version(),
        "model_sha256": fingerprint.calibrated_model(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (out / "posterior.json").write_text(json.dumps(provenance, indent=1))
    return found


def read_marginals(path: str | Path) -> list[Marginal]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [Marginal(r["name"], float(r["low"]), float(r["high"]), r["log"] == "True",
                     float(r["median"]), float(r["q05"]), float(r["q95"]),
                     float(r["width_ratio"]), r["adapted"] == "True") for r in rows]
