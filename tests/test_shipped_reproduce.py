"""The code reproduces the shipped datasets from their own attributes.

A few realizations of each file in datasets/ are re-run from the file's attributes (seed entropy,
physics, engine, unraveling, sample steps). The disorder is integer-keyed and must match bit for
bit on any machine. The magnetizations agree to the engines' accuracy, not bitwise: the same code
revision on another CPU differs by ~1e-12 (the fastmath numba kernels and the LAPACK/ARPACK
spectral bounds are machine dependent; measured 2.3e-12 for mbl_front.nc, docs/reliability.md,
"Reproducibility across machines", and benchmarks/cross_machine.py), and mbl_threshold.nc
predates the jump unraveling's per-step error budget (1.7e-9 at t = 1e4, within that budget).
Bitwise reproducibility holds on one machine (worker counts, batches, schedulers: test_grid.py);
a change to the engines is checked bitwise on one machine before and after
(benchmarks/bitwise_regression.py).
"""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from ensemble.run.realization import RunSpec, run_realization

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
#: (file, L, W, realization, max |dSz|): the cheapest grid points, one or two realizations each.
CASES = [
    ("quickstart.nc", None, None, 0, 1e-10),
    ("mbl_threshold.nc", 8, 8.0, 3, 1e-8),
    ("mbl_threshold.nc", 10, 2.0, 0, 1e-8),
    ("mbl_front.nc", 12, 6.0, 1, 1e-10),
]


def _spec(ds: xr.Dataset) -> RunSpec:
    a = ds.attrs
    return RunSpec.build(
        entropy=int(a["seed_entropy"]), steps=tuple(int(s) for s in ds.step.values), delta=float(a["delta"]),
        gamma=float(a["gamma"]), tau=float(a["tau"]), J=float(a["J"]), engine=str(a["engine"]),
        unraveling=str(a["unraveling"]), noise=str(a["noise"]), entanglement=bool(a.get("entanglement", 0)),
    )


@pytest.mark.parametrize(("name", "L", "W", "r", "atol"), CASES)
def test_rerun_reproduces_the_stored_values(name, L, W, r, atol):
    with xr.open_dataset(DATASETS / name) as opened:
        ds = opened.load()
    L = int(ds.L.min()) if L is None else L
    W = float(ds.W.max()) if W is None else W
    fields, out = run_realization(_spec(ds), L, W, r)
    sz = out["sz"]
    stored = ds.sel(L=L, W=W).isel(realization=r, site=slice(0, L))
    np.testing.assert_array_equal(fields.view(np.uint64), stored.field.values.view(np.uint64))
    np.testing.assert_allclose(sz, stored.sz.values, rtol=0, atol=atol)
