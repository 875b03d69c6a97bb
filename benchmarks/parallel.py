"""Parallel efficiency of run_grid: 2 worker processes versus 1, on tasks of about a second.

Run: ``python benchmarks/parallel.py [--realizations 16] [--L 12] [--t-final 100]``.
Both clusters are started before timing, so only the computation is compared; the two runs
alternate (1, 2, 1, 2 workers) and the best of each is kept, since the machine is shared.
"""

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import ensemble  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realizations", type=int, default=16)
    parser.add_argument("--L", type=int, default=12)
    parser.add_argument("--t-final", type=float, default=600.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    kw = dict(L=args.L, W=8.0, delta=1.0, t_final=args.t_final, n_times=30, n_realizations=args.realizations,
              seed=1, batch_size=1, progress=False)
    clusters = {n: LocalCluster(n_workers=n, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
                for n in (1, 2)}
    clients = {n: Client(c) for n, c in clusters.items()}
    for client in clients.values():  # warm up: imports and numba compilation on every worker
        ensemble.run_grid(**{**kw, "n_realizations": 2}, client=client)
    best = {1: np.inf, 2: np.inf}
    results = {}
    for _ in range(args.repeats):
        for n, client in clients.items():
            start = time.perf_counter()
            results[n] = ensemble.run_grid(**kw, client=client)
            best[n] = min(best[n], time.perf_counter() - start)
    assert np.array_equal(results[1].sz.values, results[2].sz.values, equal_nan=True)
    per_task = best[1] / args.realizations
    print(f"L = {args.L}, t_final = {args.t_final}: {args.realizations} tasks of ~{per_task:.2f} s")
    print(f"1 worker : {best[1]:7.2f} s")
    print(f"2 workers: {best[2]:7.2f} s")
    print(f"speed-up {best[1] / best[2]:.2f}, parallel efficiency {best[1] / (2 * best[2]):.0%} "
          "(identical results)")
    for n in clients:
        clients[n].close()
        clusters[n].close()


if __name__ == "__main__":
    main()
