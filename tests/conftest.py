"""Test configuration: one numeric thread per process (docs/design.md, Threads).

The variables are set before any numerics is imported, unless the user set them.
"""
import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
