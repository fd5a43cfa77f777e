"""Regression baseline: key outcomes of a fixed-seed historical run must not change by accident.

When a change of results is intended, run `python tests/update_baseline.py` in the same commit and
say why in its message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from sim.model import scenario
from sim.running import engine

ROOT = Path(__file__).resolve().parents[1]
BASELINE_FILE = Path(__file__).with_name("baseline.json")
DAYS = 365
METRICS = ("capital_gang_share_area", "capital_gang_share_population", "displaced",
           "gang_members", "gang_firearms", "police_officers", "troops")
FLOWS = ("killed", "kidnappings", "engagements")


def key_outcomes() -> dict[str, float]:
    history = scenario.load(ROOT / "scenarios" / "history.yaml")
    end = history.start + dt.timedelta(days=DAYS - 1)
    sc = dataclasses.replace(history, end=end,
                             events=tuple(e for e in history.events if e.date <= end))
    [run] = engine.run([("baseline", sc)], 1)
    series = dict(zip(run.metrics, run.values.T, strict=True))
    out = {f"{m}@day{d}": float(series[m][d]) for m in METRICS for d in (90, 180, DAYS - 1)}
    out.update({f"{f}_total": float(series[f].sum()) for f in FLOWS})
    return out


def test_key_outcomes_match_the_baseline():
    expected = json.loads(BASELINE_FILE.read_text(encoding="utf-8"))
    actual = key_outcomes()
    assert actual.keys() == expected.keys()
    changed = {k: (expected[k], actual[k]) for k in expected
               if actual[k] != pytest.approx(expected[k], rel=1e-9, abs=1e-9)}
    assert not changed, f"results changed (expected, actual): {changed}"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
