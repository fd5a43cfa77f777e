"""The `haiti-sim` console script and `python -m sim`: `sim.cli` imported inside the handler of
Ctrl-C.

Why a module of its own: importing the command line (numpy, numba, the model) takes most of a
second, and a console script that names `sim.cli:main` imports it before any handler of `main`
exists, so Ctrl-C in that second printed a traceback. Here nothing heavy is imported before the
`try`.
"""

import contextlib
import sys

EXIT_INTERRUPTED = 130  # as sim.cli's, which cannot be imported before the `try`


def main() -> int:
    try:
        from sim import cli
        return cli.main()
    except KeyboardInterrupt:  # during the import; `cli.main` handles its own
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while printing
            print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
