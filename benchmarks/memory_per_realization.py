"""Peak resident memory of one realization against the guard's estimate (``cost.bytes_per_realization``).

Each chain length runs in a fresh process: one realization (W = 8, Delta = 1, a few steps, several
sample times, the entanglement entropy stored, which builds the largest temporaries), through the
same code a worker runs, under the synchronous scheduler. The process reports its peak resident
set size (``ru_maxrss``). A process that only imports the package and runs an L = 4 realization
gives the baseline every worker pays before its first realization.

Printed: L, the sector dimension, the estimate, the measured peak, the peak above the baseline, and
their ratio. ``cost.MEMORY_CALIBRATION`` is the largest ratio of the peak above the baseline to the
uncalibrated estimate over the sizes where the sector dominates (L >= 18), and
``cost.WORKER_BASELINE`` the baseline; rerun this after changing an engine, and update both.

    python benchmarks/memory_per_realization.py                  # L = 12 .. 22 (~1 min, ~0.8 GiB)
    python benchmarks/memory_per_realization.py --sizes 20 22 24 # L = 24 needs ~4 GiB and a minute
    python benchmarks/memory_per_realization.py --json out.json  # also write the table
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from math import comb

CHILD = """
import resource, sys
import ensemble
L = int(sys.argv[1])
ensemble.run_grid(L=L, W=8.0, delta=1.0, t_final=0.5, n_times=6, n_realizations=1, seed=1, entanglement=True,
                  client="synchronous", progress=False, max_memory=1e6)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def peak_rss(L: int) -> int:
    """Peak resident bytes of a fresh process that runs one realization at ``L``."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(L)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    from ensemble.run import cost

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[12, 14, 16, 18, 20, 22])
    parser.add_argument("--json", help="also write the table to this file")
    args = parser.parse_args(argv)

    baseline = peak_rss(4)
    print(f"baseline (imports + an L = 4 realization): {baseline / 2**20:.0f} MiB; "
          f"cost.WORKER_BASELINE = {cost.WORKER_BASELINE / 2**20:.0f} MiB")
    print(f"{'L':>3} {'Ns':>9} {'raw estimate':>13} {'calibrated':>11} {'peak RSS':>9} {'above base':>10} "
          f"{'ratio':>6}")
    rows = []
    for L in args.sizes:
        raw = cost.bytes_per_realization(L, 1.0, 6, "manybody", calibrated=False)
        calibrated = cost.bytes_per_realization(L, 1.0, 6, "manybody")
        peak = peak_rss(L)
        ratio = (peak - baseline) / raw
        rows.append(dict(L=L, Ns=comb(L, L // 2), raw_estimate=raw, calibrated_estimate=calibrated, peak_rss=peak,
                         baseline=baseline, ratio=ratio))
        print(f"{L:3d} {comb(L, L // 2):9d} {raw / 2**20:10.0f} MiB {calibrated / 2**20:7.0f} MiB "
              f"{peak / 2**20:5.0f} MiB {(peak - baseline) / 2**20:6.0f} MiB {ratio:6.2f}")
    big = [r["ratio"] for r in rows if r["L"] >= 18]
    if big:
        print(f"largest ratio at L >= 18: {max(big):.2f} (cost.MEMORY_CALIBRATION = {cost.MEMORY_CALIBRATION})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
