#!/bin/sh
# haiti-sim set-up: `./dev.sh app` installs and starts the app; `./dev.sh test` installs, lints and
# runs every test. Both create .venv with Python >= 3.12 (python3.13, python3.12, or the version in
# .python-version through pyenv) and install the project into it, so a fresh clone needs nothing else.
# Every package is installed at the exact version in requirements-lock.txt (one lock for the app and
# the tests, valid on every Python >= 3.12), so a release of a dependency cannot change results or
# break the install; `./dev.sh lock` refreshes that file from pyproject.toml.
set -eu
cd "$(dirname "$0")"
LOCK=requirements-lock.txt

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3; do
        [ -n "$candidate" ] || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        version=$(cat .python-version)
        if PYENV_VERSION="$version" pyenv exec python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$(PYENV_VERSION="$version" pyenv which python)"; return 0
        fi
    fi
    echo "haiti-sim needs Python >= 3.12: install it, or set PYTHON=/path/to/python3.12" >&2
    return 1
}

setup() {  # $1: the extras to install
    if [ ! -x .venv/bin/python ]; then
        "$(find_python)" -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --upgrade pip
    # The lock is a constraints file: it fixes the version of whatever the extras need, no more.
    .venv/bin/python -m pip install --quiet -c "$LOCK" -e ".[$1]"
}

case "${1:-}" in
    app)
        setup app
        shift
        # Compile the model's kernels here, where a message can say so, rather than behind the
        # app's first greyed page: Numba caches them on disk, so later starts take a second.
        echo "haiti-sim: loading the model's compiled kernels (about 20 s once after an install or a change to the model)..."
        .venv/bin/python -c "import sim.running.worker"
        exec .venv/bin/python -m streamlit run ui/app.py --server.headless true \
            --browser.gatherUsageStats false "$@"
        ;;
    test)
        setup dev
        shift
        # Lint as CI does, then test either way; the exit code is pytest's, or 1 if only lint failed.
        lint=0
        .venv/bin/python -m ruff check . || lint=$?
        status=0
        .venv/bin/python -m pytest "$@" || status=$?
        if [ "$lint" -ne 0 ]; then
            echo "ruff check . failed (see above); .venv/bin/ruff check --fix . fixes some" >&2
            [ "$status" -ne 0 ] || status=1
        fi
        exit "$status"
        ;;
    lock)
        # Re-solve the lock from pyproject.toml, keeping the pinned versions that still fit;
        # `./dev.sh lock --upgrade` moves every package to its newest release,
        # `--upgrade-package NAME` only that one. --universal: one file for every platform and
        # every Python >= 3.12 (markers where they differ).
        if [ ! -x .venv/bin/python ]; then
            "$(find_python)" -m venv .venv
        fi
        .venv/bin/python -m pip install --quiet "uv>=0.5"
        shift
        exec .venv/bin/python -m uv pip compile pyproject.toml --extra dev --universal \
            --python-version 3.12 --custom-compile-command "./dev.sh lock" --quiet \
            -o "$LOCK" "$@"
        ;;
    *)
        echo "usage: ./dev.sh app | ./dev.sh test [pytest options] | ./dev.sh lock [uv options]" >&2
        exit 2
        ;;
esac
