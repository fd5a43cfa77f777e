"""The documentation's code runs: every ```python block of docs/api.md and CONTRIBUTING.md, and
the example notebook docs/example.ipynb, so an example cannot rot while the API changes.

A document's blocks run in order, each in a fresh namespace (each is complete, imports included),
in a temporary directory that holds a link to the project's `scenarios/`: the code reads
`scenarios/...` as an analyst's would from the project's root, and what it writes (`runs/...`)
lands in the temporary directory, never in the project. The notebook runs in a Jupyter kernel of
this Python, from the project's root, writing only under a temporary directory.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "docs" / "api.md", ROOT / "CONTRIBUTING.md"]
NOTEBOOK = ROOT / "docs" / "example.ipynb"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)
CELL_TIMEOUT_S = 120


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """(line of the opening fence, code) of every ```python block of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in FENCE.finditer(text)]


def test_blocks_are_found():
    for path in DOCUMENTS:
        assert len(python_blocks(path)) >= 1, f"{path.name} has no ```python block"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_python_blocks_run(path, tmp_path, monkeypatch):
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for line, code in python_blocks(path):
        # Padded so that a traceback's line numbers are the Markdown file's.
        compiled = compile("\n" * line + code, str(path), "exec")
        try:
            exec(compiled, {"__name__": f"docs_block_{line}"})
        except Exception:
            pytest.fail(f"{path.name}, the block at line {line} raised:\n"
                        f"{traceback.format_exc()}", pytrace=False)


def test_example_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                "clear the notebook's outputs before committing it")


def test_example_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel is this Python (ipykernel's own spec, not one a user installed elsewhere), run
    # from the project's root so that `sim` is this checkout's; TMPDIR keeps its files in tmp_path.
    km = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    assert km.kernel_spec.argv[0] == sys.executable
    env = {**os.environ, "TMPDIR": str(tmp_path), "PLOTLY_RENDERER": "json",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=env)
    errors = [out for cell in nb.cells for out in cell.get("outputs", [])
              if out.output_type == "error"]
    assert not errors


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
