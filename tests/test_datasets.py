"""Every shipped dataset opens, matches the schema and says how to regenerate it."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import ensemble

DATASETS = sorted((Path(__file__).resolve().parents[1] / "datasets").glob("*.nc"))
README = (Path(__file__).resolve().parents[1] / "datasets" / "README.md").read_text()


def test_there_are_datasets():
    assert DATASETS


@pytest.mark.parametrize("path", DATASETS, ids=lambda p: p.name)
def test_dataset_schema_and_provenance(path):
    ds = xr.load_dataset(path)
    ensemble.validate_dataset(ds)
    assert path.name in README, "datasets/README.md must say how this file was made"
    assert ds.attrs["command"].startswith("mbl-avalanche run ") or "run_grid(" in ds.attrs["call"]
    for L in ds.L.values:
        sub = ds.sz.sel(L=L).isel(realization=slice(0, int(ds.n_realizations.sel(L=L))))
        ran = sub.isel(site=slice(0, int(L)))
        assert not np.isnan(ran).any(), f"missing values at L={L}"
        np.testing.assert_allclose(ran.isel(time=0), np.broadcast_to(0.5 * (-1.0) ** np.arange(L), ran.isel(time=0).shape))
        np.testing.assert_allclose(ran.sum("site"), 0.0, atol=1e-9)  # Sz_tot = 0 sector
