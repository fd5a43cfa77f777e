"""Which version of the model a result was made with: sha256 fingerprints of its code and data.

A batch records the model's fingerprint so that a resume cannot mix two versions of the model; a
shipped analysis records it so that the app can say when the result is stale; the calibration
records its own, which leaves out what the calibration itself writes (the posterior and the
defaults made from it: a fingerprint that covered them would make the posterior's provenance
depend on itself), so that a posterior fitted to another version of the model is flagged
(`sim.running.ensemble.stale_note`). Files are named by their path within the package, so the same
code and data anywhere (a fresh clone, CI, another machine) give the same fingerprint.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the `sim` package
MODEL_PARTS = ("model", "data")
# Results made by the model and shipped with it (the app's sensitivity and discovery): not a part
# of the model, and a fingerprint that covered them would change whenever they are refreshed.
SHIPPED_RESULTS = ("data", "analyses")
CALIBRATION_OUTPUTS = (("data", "calibration"), ("model", "calibrated.py"))


def model(without: tuple[tuple[str, str], ...] = ()) -> str:
    """sha256 of every file of `sim.model` and `sim.data` but the shipped results and the parts
    (first two path components under `sim`) in `without`."""
    left_out = (SHIPPED_RESULTS, *without)
    digest = hashlib.sha256()
    for part in MODEL_PARTS:
        for path in sorted((ROOT / part).rglob("*")):
            name = path.relative_to(ROOT)
            if (path.is_file() and "__pycache__" not in path.parts
                    and name.parts[:2] not in left_out):
                digest.update(name.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def calibrated_model() -> str:
    """The model a calibration fits: `model` less what the calibration writes."""
    return model(without=CALIBRATION_OUTPUTS)


def files(paths, root: Path) -> str:
    """sha256 of `paths`, each named by its path under `root`."""
    digest = hashlib.sha256()
    for path in paths:
        name = Path(path).resolve().relative_to(root.resolve())
        digest.update(name.as_posix().encode() + b"\0" + Path(path).read_bytes())
    return digest.hexdigest()
