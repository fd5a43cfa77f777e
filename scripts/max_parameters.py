"""The functions of `sim/` with the most parameters (the house rule is at most 12).

Run: `python scripts/max_parameters.py [--limit 12] [paths...]`; exits 1 if any is over.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def counts(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            a = node.args
            n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(
                a.kwarg)
            if a.args and a.args[0].arg in ("self", "cls"):
                n -= 1
            yield getattr(node, "name", "<lambda>"), node.lineno, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("paths", nargs="*", type=Path, default=[ROOT / "sim"])
    args = parser.parse_args()
    rows = [(n, f"{path.relative_to(ROOT)}:{line}", name)
            for root in args.paths for path in sorted(root.rglob("*.py"))
            for name, line, n in counts(path)]
    rows.sort(reverse=True)
    for n, where, name in rows[:10]:
        print(f"{n:3d}  {where}  {name}")
    over = [r for r in rows if r[0] > args.limit]
    print(f"{len(over)} functions over {args.limit} parameters")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
