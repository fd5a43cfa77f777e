"""The posterior of the last shipped calibration (none yet): see scripts/ship_calibration.py."""

POSTERIOR: dict[str, tuple[float, float, float, float]] = {}
