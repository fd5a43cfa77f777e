"""Running a calibration: ABC-SMC (`abc`) on the record (`problem`), its simulations spread over
the batch's workers or a Dask cluster, every round saved in the output folder, a progress bar.

Each round's points are split into tasks of at most `POINTS_PER_TASK` simulations. A dead local
worker breaks the pool: it is renewed and the round's unfinished tasks run again; a task that
kills its worker twice scores its points as failed runs (infinite distance), which the algorithm
rejects. The result does not depend on the number of workers: rounds are drawn, evaluated and
accepted in a fixed order.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim.calibration import abc
from sim.calibration.problem import FAMILIES, Problem, simulate_points
from sim.running.batch import backend

POINTS_PER_TASK = 8


def _failed(n: int, k: int) -> abc.Evaluations:
    return abc.Evaluations(np.full(n, np.inf), np.full((n, len(FAMILIES)), np.inf),
                           np.full((n, k), np.nan))


def calibrate(problem: Problem, out: str | Path, settings: abc.Settings, budget: int, *,
              workers: int | None = None, scheduler: str | None = None,
              resume: bool = False) -> dict:
    """Calibrate `problem` into the folder `out`; return a summary (generations, simulations,
    seconds). Raises FileExistsError if `out` holds another calibration and not `resume`."""
    store = abc.Store(out)
    store.start({"settings": asdict(settings), "problem": problem.describe()}, resume)
    started = time.monotonic()
    n_targets = len(problem.record)
    already = sum(g.simulations for g in store.generations())
    bar = tqdm(total=budget, initial=min(already, budget), unit="sim", disable=None,
               dynamic_ncols=True, smoothing=0.05)
    with backend(workers, scheduler) as (executor, slots, renew):
        state = {"executor": executor}

        def evaluate(unit: np.ndarray, seeds: np.ndarray) -> abc.Evaluations:
            points = [problem.point(u) for u in unit]
            chunks = [slice(i, i + POINTS_PER_TASK) for i in range(0, len(points),
                                                                   POINTS_PER_TASK)]
            results: dict[int, abc.Evaluations] = {}
            tries = dict.fromkeys(range(len(chunks)), 0)
            todo = list(range(len(chunks)))
            running: dict[cf.Future, int] = {}
            while todo or running:
                # A bounded window, as the batch keeps: Python 3.12's pool can stall when many
                # more tasks wait than it has workers while it replaces one.
                while todo and len(running) < slots:
                    i = todo.pop(0)
                    running[state["executor"].submit(simulate_points, problem.scenario,
                                                     points[chunks[i]], list(seeds[chunks[i]]),
                                                     problem.record)] = i
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                broken = False
                for future in finished:
                    i = running.pop(future)
                    try:
                        results[i] = future.result()
                    except BrokenProcessPool:
                        broken = True
                        tries[i] += 1
                        if tries[i] >= 2:
                            results[i] = _failed(len(points[chunks[i]]), n_targets)
                        else:
                            todo.append(i)
                    except Exception:  # the cluster lost the task: its points count as failed
                        results[i] = _failed(len(points[chunks[i]]), n_targets)
                if broken and renew is not None:
                    todo.extend(running.values())  # lost with the pool
                    running.clear()
                    state["executor"] = renew()
            return abc.Evaluations.join([results[i] for i in range(len(chunks))])

        def progress(n: int, info: dict) -> None:
            eps = info["eps"]
            bar.set_postfix_str(f"generation {info['g']}, epsilon "
                                f"{'inf' if not np.isfinite(eps) else f'{eps:.1f}'}",
                                refresh=False)
            bar.update(n)

        try:
            generations = abc.calibrate(evaluate, len(problem.factors), settings, budget, store,
                                        progress)
        finally:
            bar.close()
    return {"generations": len(generations),
            "simulations": sum(g.simulations for g in generations),
            "seconds_this_session": round(time.monotonic() - started, 1),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
