"""One numeric thread per worker process (docs/design.md, Threads), scoped to what the package runs.

QuSpin's libgomp, numba's threading layer and OpenBLAS each start their own thread pool; on small
virtual machines (2 vCPUs) several of them in one process fight over the cores and run up to 100x
slower or hang. Parallelism comes from Dask worker processes instead. Importing :mod:`ensemble`
changes nothing in the user's process: the limits are applied where the package runs numerics,

- in the worker processes it starts (their environment, :data:`THREAD_VARIABLES` = ``omp_threads``,
  set before the runtimes load: :mod:`ensemble.run.cluster`, :mod:`ensemble.run.jobqueue`),
- around an in-process (synchronous) run, with :func:`limit_threads` (threadpoolctl; restored after),
- in the ``mbl-avalanche`` process itself (:func:`pin_threads`, called by the command line first).

A value the user already set is respected by :func:`pin_threads` (e.g. ``OMP_NUM_THREADS=8`` for
QuSpin's OpenMP matvec at large L).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["THREAD_VARIABLES", "pin_threads", "limit_threads"]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(n: int = 1) -> dict[str, str]:
    """Set every numeric runtime's thread count to ``n`` in this process's environment, unless the
    user already chose one. For a process the package owns (the command line); a library call
    uses :func:`limit_threads` instead.

    Returns
    -------
    dict
        The values in force afterwards.
    """
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, str(n))
    return {var: os.environ[var] for var in THREAD_VARIABLES}


@contextmanager
def limit_threads(n: int = 1) -> Iterator[None]:
    """Limit the OpenMP and BLAS thread pools loaded in this process to ``n`` threads inside the
    block, and restore them after (threadpoolctl); the environment is not touched."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n):
        yield
