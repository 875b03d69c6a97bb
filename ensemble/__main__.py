"""``python -m ensemble`` is the ``mbl-avalanche`` command line."""

import sys

from ensemble.cli import main

if __name__ == "__main__":
    sys.exit(main())
