"""The test session's own history store (`sim.running.histories`), not the user's cache: set
before any pool starts, so every worker and every command the tests start inherits it."""

import os
import tempfile

os.environ["HAITI_SIM_CACHE"] = tempfile.mkdtemp(prefix="haiti-sim-tests-")
