"""Rewrite tests/baseline.json from the current model (see tests/test_baseline.py)."""

import json

from test_baseline import BASELINE_FILE, key_outcomes

if __name__ == "__main__":
    BASELINE_FILE.write_text(json.dumps(key_outcomes(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {BASELINE_FILE}")
