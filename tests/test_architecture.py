"""House rules of the code that a reviewer should not have to check by eye: no function takes
more than 12 parameters (pass records instead), and imports point one way (the app uses `sim`;
the model knows nothing of running, analysis or the app)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_PARAMETERS = 12


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> int:
    a = node.args
    n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
    return n - bool(a.args and a.args[0].arg in ("self", "cls"))


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_no_function_of_sim_or_ui_takes_more_than_twelve_parameters():
    over = [f"{path.relative_to(ROOT)}:{node.lineno} {getattr(node, 'name', 'lambda')} "
            f"({_parameters(node)})"
            for folder in ("sim", "ui") for path in _sources(folder)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            and _parameters(node) > MAX_PARAMETERS]
    assert not over, over


@pytest.mark.parametrize("folder, forbidden", [
    ("sim", ("ui", "streamlit", "plotly")),
    ("sim/model", ("sim.running", "sim.analysis", "sim.cli")),
    ("sim/running", ("sim.analysis", "sim.cli")),
])
def test_imports_point_one_way(folder, forbidden):
    bad = [f"{path.relative_to(ROOT)} imports {name}" for path in _sources(folder)
           for name in _imports(path)
           if any(name == f or name.startswith(f + ".") for f in forbidden)]
    assert not bad, bad


def test_the_command_line_and_the_analyses_start_without_the_model():
    """Mesa and the model's modules load only where runs happen (the workers): the command
    line's start and a batch's parent, which only schedule and read results, stay light (a
    Ctrl-C test and the parent's memory depend on it)."""
    import subprocess
    import sys

    code = ("import sys, sim.cli, sim.analysis.compare, sim.analysis.search, "
            "sim.analysis.sensitivity, sim.running.batch; "
            "print(','.join(m for m in ('mesa', 'sim.model.mission', 'sim.model.world') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == ""
