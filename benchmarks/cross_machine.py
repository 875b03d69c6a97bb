"""How far this machine's numbers are from the shipped files': rerun a few realizations, compare.

Not a timing. Each case reruns one realization of a shipped file from the file's own attributes
(seed entropy, physics, engine, unraveling, sample steps) and prints the largest absolute
difference from the stored values, in every stored variable (``sz`` or the per-realization
``imbalance``, ``field``, ``entanglement``), overall and at the first, middle and last sample time.
On the machine kind a file was made on the difference is 0 (bitwise); on another CPU it is the
last-bit drift of the fastmath numba kernels and the LAPACK/ARPACK spectral bounds, the number
that the combine tolerance (``ensemble.io.combine.OVERLAP_TOLERANCE``) must exceed. The results
and the decision they support: docs/reliability.md, "Reproducibility across machines".

    python benchmarks/cross_machine.py            # the quick cases (~10 s)
    python benchmarks/cross_machine.py --all      # also an L = 16 front realization (~30 s more)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from analysis import imbalance  # noqa: E402
from analysis.schema import migrate  # noqa: E402
from ensemble.io.combine import OVERLAP_TOLERANCE  # noqa: E402
from ensemble.run.realization import RunSpec, run_realization  # noqa: E402

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
#: (file, L, W, realization): one realization each, cheap first.
QUICK = [
    ("quickstart.nc", 10, 8.0, 0),
    ("mbl_front.nc", 12, 6.0, 1),
    ("paper/threshold_L8-10.nc", 8, 2.0, 0),
    ("paper/threshold_L12.nc", 12, 2.0, 0),
    ("paper/anderson_W8.nc", 200, 8.0, 0),
]
SLOW = [("paper/front_L16_W10.nc", 16, 10.0, 0)]


def _spec(ds: xr.Dataset) -> RunSpec:
    a = ds.attrs
    return RunSpec.build(
        entropy=int(a["seed_entropy"]), steps=tuple(int(s) for s in ds.step.values), delta=float(a["delta"]),
        gamma=float(a["gamma"]), tau=float(a["tau"]), J=float(a["J"]), engine=str(a["engine"]),
        unraveling=str(a["unraveling"]), noise=str(a["noise"]), entanglement=bool(int(a["entanglement"])),
    )


def _rerun(ds: xr.Dataset, L: int, W: float, r: int) -> xr.Dataset:
    """The realization rerun, as a one-point Dataset of the stored file's kind."""
    fields, out = run_realization(_spec(ds), L, W, r)
    site = np.arange(1, L + 1)
    coords = {"L": [L], "W": [W], "gamma": ds.gamma.values, "realization": [r], "time": ds.time.values,
              "site": site}
    data = {"sz": (("L", "W", "gamma", "realization", "time", "site"), out["sz"][None, None, :, None]),
            "field": (("L", "W", "realization", "site"), fields[None, None, None])}
    if "entanglement" in out:
        data["entanglement"] = (("L", "W", "gamma", "realization", "time"), out["entanglement"][None, None, :, None])
    fresh = xr.Dataset(data, coords=coords, attrs=ds.attrs)
    if "imbalance" in ds.data_vars:  # a reduced file stores the imbalance, computed the same way
        fresh["imbalance"] = imbalance(fresh)
    return fresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also the L = 16 front realization")
    args = parser.parse_args(argv)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"combine tolerance {OVERLAP_TOLERANCE:g}")
    worst = 0.0
    for name, L, W, r in QUICK + (SLOW if args.all else []):
        with xr.open_dataset(DATASETS / name) as opened:
            ds = migrate(opened.load())
        t0 = time.perf_counter()
        fresh = _rerun(ds, L, W, r)
        seconds = time.perf_counter() - t0
        for var in ("sz", "imbalance", "entanglement", "field"):
            if var not in ds.data_vars or var not in fresh.data_vars:
                continue
            stored = ds[var].sel(L=L, W=W).isel(realization=r)
            if "site" in stored.dims:
                stored = stored.isel(site=slice(0, L))
            new = fresh[var].sel(L=L, W=W).isel(realization=0)
            d = np.abs(new.values - stored.values)
            line = f"{name} L={L} W={W:g} r={r} {var}: max |diff| {d.max():.3g}"
            if "time" in stored.dims:
                per_t = d.max(axis=tuple(k for k, dim in enumerate(stored.dims) if dim != "time"))
                line += f" (t = {float(ds.time[1]):g}: {per_t[1]:.2g}, t = {float(ds.time[len(per_t) // 2]):g}: " \
                        f"{per_t[len(per_t) // 2]:.2g}, t = {float(ds.time[-1]):g}: {per_t[-1]:.2g})"
            print(line + f"  [{seconds:.1f} s]", flush=True)
            worst = max(worst, float(d.max()))
    print(f"largest difference {worst:.3g}: {'bitwise' if worst == 0 else 'within' if worst <= OVERLAP_TOLERANCE else 'BEYOND'}"
          f" the combine tolerance {OVERLAP_TOLERANCE:g}")
    return 0 if worst <= OVERLAP_TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
