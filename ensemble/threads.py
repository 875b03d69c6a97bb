"""One numeric thread per process (docs/design.md, Threads).

QuSpin's libgomp, numba's threading layer and OpenBLAS each start their own thread pool; on small
virtual machines (2 vCPUs) several of them in one process fight over the cores and run up to 100x
slower or hang. Parallelism comes from Dask worker processes instead. The variables must be set
before the runtimes are first loaded, so :mod:`ensemble` calls :func:`pin_threads` on import; a
value the user already set is respected (e.g. ``OMP_NUM_THREADS=8`` for QuSpin's OpenMP matvec at
large L).
"""

from __future__ import annotations

import os

__all__ = ["THREAD_VARIABLES", "pin_threads"]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(n: int = 1) -> dict[str, str]:
    """Set every numeric runtime's thread count to ``n`` unless the user already chose one.

    Returns
    -------
    dict
        The values in force afterwards.
    """
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, str(n))
    return {var: os.environ[var] for var in THREAD_VARIABLES}
