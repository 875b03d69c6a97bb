"""Ratio benchmark: one threshold-run realization (jump unraveling + gamma = 0 reference), t = 1e4.

Compares, side by side in one process with interleaved repeats, the Chebyshev series set-up as it
was (``chebyshev_order`` and ``chebyshev_coefficients`` each evaluating the Bessel functions) with
the shared Bessel table of ``chebyshev_series`` (bitwise the same coefficients, checked here). At
small L a jump trajectory needs a few hundred distinct interval lengths, and their Bessel tables,
not the matrix-vector products, dominate its cost.

Usage::

    python benchmarks/jump_realization.py                 # L = 8, 10, 12, 3 repeats (~2 min)
    python benchmarks/jump_realization.py --sizes 8 --repeats 5
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ensemble.engines import chebyshev  # noqa: E402
from ensemble.run.grid import sample_steps  # noqa: E402
from ensemble.run.realization import RunSpec, run_realization  # noqa: E402


def _separate_tables(self, t, tol=None):
    """The set-up before the shared table: order and coefficients each evaluate J_k."""
    key = (float(t), self.tol if tol is None else float(tol))
    coef = self._coef_cache.get(key)
    if coef is None:
        a = key[0] * self.radius
        coef = chebyshev.chebyshev_coefficients(a, chebyshev.chebyshev_order(a, key[1]))
        self._coef_cache[key] = coef
    return coef


def _time(spec: RunSpec, L: int, r: int) -> tuple[float, np.ndarray]:
    chebyshev.chebyshev_order.cache_clear()
    t0 = time.perf_counter()
    sz = run_realization(spec, L, 8.0, r)[1]
    return time.perf_counter() - t0, sz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 10, 12])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    steps = tuple(int(s) for s in sample_steps(1e4, 0.05, 60))
    spec = RunSpec(entropy=43, steps=steps, delta=1.0, gamma=1.0, engine="manybody", unraveling="jump")
    shared = chebyshev.ChebyshevPropagator.coefficients
    run_realization(spec, 8, 8.0, 0)  # compile / load the numba kernels
    print("L   separate tables (s)   shared table (s)   ratio   bitwise")
    for L in args.sizes:
        times = {"separate": [], "shared": []}
        results = {}
        for k in range(args.repeats):
            for name, method in (("separate", _separate_tables), ("shared", shared)):
                chebyshev.ChebyshevPropagator.coefficients = method
                seconds, results[name] = _time(spec, L, k)
                times[name].append(seconds)
        chebyshev.ChebyshevPropagator.coefficients = shared
        same = np.array_equal(results["separate"].view(np.uint64), results["shared"].view(np.uint64))
        a, b = statistics.median(times["separate"]), statistics.median(times["shared"])
        print(f"{L:<3} {a:>20.3f} {b:>18.3f} {a / b:>7.2f}x   {same}")


if __name__ == "__main__":
    main()
