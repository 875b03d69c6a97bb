"""``python -m ensemble`` is the ``mbl-avalanche`` command line."""

import sys

# multiprocessing re-runs the main script in the processes it spawns (local Dask workers), except a
# package's __main__ named by its module name; naming it by its path instead lets a worker run
# ensemble.cli's first lines, which make it ignore the terminal's Ctrl-C (see ensemble/cli.py).
__spec__ = None

from ensemble.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
