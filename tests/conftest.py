"""The test session's own history store (`sim.running.histories`), not the user's cache: set
before any pool starts, so every worker and every command the tests start inherits it, and
removed when the session ends."""

import atexit
import os
import shutil
import tempfile

os.environ["HAITI_SIM_CACHE"] = tempfile.mkdtemp(prefix="haiti-sim-tests-")
atexit.register(shutil.rmtree, os.environ["HAITI_SIM_CACHE"], ignore_errors=True)
