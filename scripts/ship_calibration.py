"""Ship a finished calibration with the package: its posterior draws become the default ensemble
and its posterior medians the parameters' defaults.

    python scripts/ship_calibration.py runs/calibration

copies `posterior.csv` and `posterior.json` into `sim/data/calibration/` (read by
`sim.running.ensemble`) and writes `sim/model/calibrated.py`, the medians and 90% intervals the
parameter table takes its defaults from (`sim.model.parameters`: the model reads no files). Then
regenerate what depends on the defaults, each in its own commit: `python tests/update_baseline.py`
and `python scripts/update_docs.py`.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.calibration.posterior import read_marginals  # noqa: E402

HEADER = '''"""The posterior of the last shipped calibration, written by
scripts/ship_calibration.py: do not edit it by hand. `sim.model.parameters` takes each calibrated
parameter's default (the posterior median) and its interval from here; the draws themselves are
in sim/data/calibration/.

{provenance}
"""

# name: (posterior median, 5% quantile, 95% quantile, posterior 90% width over the prior's)
POSTERIOR = {{
'''


def main(directory: str) -> None:
    src = Path(directory)
    meta = json.loads((src / "posterior.json").read_text())
    out = ROOT / "sim" / "data" / "calibration"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("posterior.csv", "posterior.json"):
        shutil.copyfile(src / name, out / name)
    provenance = (f"{meta['method']}; record {meta['record']}; seed {meta['seed']}; "
                  f"{meta['simulations']:,} simulations in {meta['generations']} generations; "
                  f"{meta['draws']} draws; created {meta['created']}; data sha256 "
                  f"{meta['data_sha256'][:12]}, model sha256 {meta['model_sha256'][:12]}.")
    lines = [HEADER.format(provenance="\n".join(_wrap(provenance)))]
    for m in read_marginals(src / "parameters.csv"):
        # six significant figures: far finer than the posterior's spread, and lines that read
        lines.append(f"    {m.name!r}: ({m.median:.6g}, {m.q05:.6g}, {m.q95:.6g}, "
                     f"{m.width_ratio:.3f}),\n")
    lines.append("}\n")
    (ROOT / "sim" / "model" / "calibrated.py").write_text("".join(lines))
    print(f"shipped {meta['draws']} draws of {len(meta['parameters'])} parameters from {src}")


def _wrap(text: str, width: int = 95) -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return lines + [line]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/ship_calibration.py CALIBRATION_DIR")
    main(sys.argv[1])
