"""Numba's cache where it cannot write: a read-only install with an unwritable HOME (issue 9).

Numba refuses to load a cached kernel when no cache folder can be written, so `sim.model.jit`
points NUMBA_CACHE_DIR at a private temporary folder first. The decision is tested directly
(as root, permissions do not stop writes), and once end to end in a subprocess on a copy of the
model's sources outside the repository whose `__pycache__` is a file and whose HOME is a file:
no folder can be made under either, whoever runs the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.model import jit

ROOT = Path(__file__).resolve().parents[1]


def never(folder: Path) -> bool:
    return False


def test_numba_s_own_folders_are_kept_when_one_is_writable(tmp_path):
    assert jit._cache_dir([tmp_path / "a", tmp_path / "b"], environ={}, temp=str(tmp_path)) is None
    assert jit._cache_dir([Path("/x")], environ={}, writable=lambda f: f == Path("/x")) is None


def test_a_user_s_numba_cache_dir_is_kept(tmp_path):
    assert jit._cache_dir([], environ={"NUMBA_CACHE_DIR": "/mine"}, writable=never,
                          temp=str(tmp_path)) is None


def test_a_private_temporary_folder_when_nothing_is_writable(tmp_path):
    chosen = Path(jit._cache_dir([tmp_path / "a"], environ={}, writable=lambda f: (
        f.parent == tmp_path and f.name.startswith("haiti-sim-numba-")), temp=str(tmp_path)))
    assert chosen.parent == tmp_path and chosen.is_dir()
    assert chosen.stat().st_mode & 0o077 == 0
    again = jit._cache_dir([tmp_path / "a"], environ={}, writable=lambda f: (
        f.parent == tmp_path and f.name.startswith("haiti-sim-numba-")), temp=str(tmp_path))
    assert Path(again) == chosen  # later runs reuse it, and what is compiled in it


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership and modes")
def test_a_folder_others_could_fill_is_never_used(tmp_path):
    shared = tmp_path / f"haiti-sim-numba-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)  # another user could plant compiled code in it
    chosen = Path(jit._cache_dir([], environ={}, writable=lambda f: f.parent == tmp_path,
                                 temp=str(tmp_path)))
    assert chosen != shared and chosen.parent == tmp_path and chosen.is_dir()
    shared.chmod(0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shared.rmdir()
    shared.symlink_to(elsewhere)  # a link: not ours to trust
    chosen = Path(jit._cache_dir([], environ={}, writable=lambda f: True, temp=str(tmp_path)))
    assert chosen not in (shared, elsewhere)


def test_kernels_load_and_cache_with_a_read_only_install_and_no_home(tmp_path):
    install = tmp_path / "install"
    (install / "sim" / "model").mkdir(parents=True)
    shutil.copy(ROOT / "sim" / "__init__.py", install / "sim")
    for source in (ROOT / "sim" / "model").glob("*.py"):
        shutil.copy(source, install / "sim" / "model")
    (install / "sim" / "model" / "__pycache__").write_text("")  # no cache can go next to sources
    home = tmp_path / "home"
    home.write_text("")  # nor under HOME
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "NUMBA_DISABLE_JIT")}
    env.update(HOME=str(home), TMPDIR=str(temp), PYTHONPATH=str(install),
               PYTHONDONTWRITEBYTECODE="1")
    script = ("import os; from sim.model import jit; "
              "print(jit.uniform(jit.generator(1, 2, 3, 4))); print(os.environ['NUMBA_CACHE_DIR'])")
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    value, folder = done.stdout.split()
    assert 0 <= float(value) < 1
    assert Path(folder).parent == temp
    assert list(Path(folder).rglob("*.nbi")), "nothing was cached"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
