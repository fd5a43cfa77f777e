"""What a worker process starts with: the model imported and its compiled loops loaded.

Batch workers are forked from a server process that imports this module once (multiprocessing's
forkserver preload). Loading the compiled kernels there, rather than in each worker, lets every
worker share those pages: a batch on two workers then needs about 100 MB less. `gc.freeze` keeps
the collector from touching, and so copying, the objects every worker inherits.
"""

from __future__ import annotations

import datetime as dt
import gc

from sim.model.parameters import defaults
from sim.model.scenario import Scenario
from sim.model.world import HaitiModel


def _load_kernels() -> None:
    """Run the default parameters for eight days: every daily kernel is called at least once."""
    start = dt.date(2023, 1, 1)
    HaitiModel(Scenario("warm-up", "", start, start + dt.timedelta(days=7), 0, defaults())).run()


_load_kernels()
gc.freeze()
