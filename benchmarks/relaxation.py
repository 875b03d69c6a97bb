"""Cost per realization of the relaxation rate Gamma: exact Lindbladian gap and weak coupling, one core.

    python benchmarks/relaxation.py      # weak coupling L = 8, 10, 12; exact L = 6, 8 (sparse LU), 6 (dense)
    python benchmarks/relaxation.py --weak-sizes 8 10 12 14 --exact-sizes 6 8 --dense-sizes 6 8

For each size it draws ``--realizations`` fields (uniform in [-W, W], W = 8, Delta = 1, gamma = 1,
bath on site 1; one fixed SeedSequence per (L, r)) and times
``ensemble.references.relaxation.weak_coupling_relaxation_rate`` and ``exact_relaxation_rate``
(the sparse LU at ``--exact-sizes``, the dense method at ``--dense-sizes``, ~1 minute at
L = 8). It prints the median and the best seconds per realization, the median rate, how many rates
are resolved (above 10 x the eigensolver's resolution), and where both methods ran the median of
exact / weak. The machine may be shared: the best is the cleaner number.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # a single-core benchmark by definition

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ensemble.references import relaxation  # noqa: E402

W_DISORDER, DELTA, GAMMA = 8.0, 1.0, 1.0


def fields(L: int, r: int) -> np.ndarray:
    """The fields of realization r at size L (uniform in [-W, W])."""
    return np.random.default_rng(np.random.SeedSequence([L, r])).uniform(-W_DISORDER, W_DISORDER, L)


def timed(function, L: int, n: int, **kwargs) -> tuple[np.ndarray, list[float], int]:
    """Seconds per realization, the rates, and how many are resolved (> 10 x resolution)."""
    seconds, rates, resolved = [], [], 0
    for r in range(n):
        start = time.perf_counter()
        result = function(fields(L, r), delta=DELTA, gamma=GAMMA, **kwargs)
        seconds.append(time.perf_counter() - start)
        rates.append(result.rate)
        resolved += result.rate > 10 * result.resolution
    return np.array(seconds), rates, resolved


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weak-sizes", type=int, nargs="*", default=[8, 10, 12])
    parser.add_argument("--exact-sizes", type=int, nargs="*", default=[6, 8])
    parser.add_argument("--dense-sizes", type=int, nargs="*", default=[6])
    parser.add_argument("--realizations", type=int, default=3)
    args = parser.parse_args(argv)

    print(f"W = {W_DISORDER}, Delta = {DELTA}, gamma = {GAMMA}, bath site 1, {args.realizations} realizations, "
          "one core; seconds per realization")
    print(f"{'method':>12} {'L':>3} {'median s':>10} {'best s':>10} {'median Gamma':>14} {'resolved':>9}")
    weak = {}
    for L in args.weak_sizes:
        seconds, rates, resolved = timed(relaxation.weak_coupling_relaxation_rate, L, args.realizations)
        weak[L] = rates
        print(f"{'weak':>12} {L:>3} {np.median(seconds):>10.3g} {seconds.min():>10.3g} {np.median(rates):>14.4g} "
              f"{resolved:>5}/{args.realizations}")
    for method, sizes in (("sparse-lu", args.exact_sizes), ("dense", args.dense_sizes)):
        for L in sizes:
            seconds, rates, resolved = timed(relaxation.exact_relaxation_rate, L, args.realizations, method=method)
            line = (f"{method:>12} {L:>3} {np.median(seconds):>10.3g} {seconds.min():>10.3g} {np.median(rates):>14.4g} "
                    f"{resolved:>5}/{args.realizations}")
            if L in weak:
                line += f"   median exact/weak = {np.median(np.array(rates) / np.array(weak[L])):.4g}"
            print(line)


if __name__ == "__main__":
    main()
