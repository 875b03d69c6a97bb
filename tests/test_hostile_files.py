"""Hostile netCDF files given to ``combine`` and ``report``: one line and exit 2, never a traceback,
never a file written from them, never an allocation sized by an attribute."""

import time

import numpy as np
import pytest
import xarray as xr

import ensemble
from analysis.plausibility import check_dataset
from ensemble.cli import main


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    ds = ensemble.run_grid(L=[4, 6], W=[1.0, 5.0], delta=1.0, t_final=10.0, n_times=6, n_realizations=3, seed=9,
                           client="synchronous", progress=False)
    path = tmp_path_factory.mktemp("good") / "good.nc"
    ds.to_netcdf(path)
    return path


def _variant(good, tmp_path, change, name="bad.nc"):
    ds = xr.load_dataset(good)
    changed = change(ds)
    ds = changed if isinstance(changed, xr.Dataset) else ds
    path = tmp_path / name
    ds.to_netcdf(path)
    return path


def _sz(value):
    def change(ds):
        sz = ds["sz"].values
        chain = ds["site"].values[None, :] <= ds["L"].values[:, None]
        sz[np.broadcast_to(chain[:, None, None, None, None, :], sz.shape)] = value
        ds["sz"].values = sz
    return change


HOSTILE = {
    "all-nan": (_sz(np.nan), "non-finite"),
    "huge": (_sz(1e300), "|Sz_j| = 1e+300 > 1/2"),
    "zeros": (_sz(0.0), "not a product start at t = 0"),
    "one-nan": (lambda ds: ds["sz"].values.__setitem__((0, 0, 1, 0, 2, 1), np.nan), "non-finite"),
    "shifted": (lambda ds: ds["sz"].values.__iadd__(np.where(np.abs(ds["sz"].values) < 0.4, 0.01, 0.0)),
                "Sz_tot"),
    "strings": (lambda ds: ds.assign(sz=ds["sz"].astype(str)), "not numbers"),
    "no-site": (lambda ds: ds.assign(sz=ds["sz"].isel(site=0, drop=True)), "site"),
    "n-realizations-1e6": (lambda ds: ds.assign(n_realizations=("L", np.array([10**6, 3]))), "outside 1..3"),
    "n-realizations-1e9": (lambda ds: ds.assign(n_realizations=("L", np.array([10**9, 10**9]))), "outside 1..3"),
    "reversed-time": (lambda ds: ds.isel(time=slice(None, None, -1)), "time axis must be"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_combine_refuses_a_hostile_source_alone_or_with_a_good_one(good, tmp_path, capsys, kind):
    change, fragment = HOSTILE[kind]
    bad = _variant(good, tmp_path, change)
    for sources in ([bad], [good, bad], [bad, good]):
        start = time.monotonic()
        assert main(["combine", *map(str, sources), "-o", str(tmp_path / "c.nc")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mbl-avalanche: error: combine: ") and err.count("\n") == 1, err
        assert fragment in err and str(bad) in err, err
        assert time.monotonic() - start < 10
        assert not (tmp_path / "c.nc").exists()


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_report_refuses_a_hostile_file(good, tmp_path, capsys, kind):
    change, fragment = HOSTILE[kind]
    bad = _variant(good, tmp_path, change)
    assert main(["report", str(bad), "--n-resamples", "10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mbl-avalanche: error: ") and err.count("\n") == 1 and fragment in err, err


def test_the_good_file_passes_both(good, tmp_path, capsys):
    assert main(["combine", str(good), "-o", str(tmp_path / "c.nc")]) == 0
    assert main(["report", str(good), "--n-resamples", "10"]) == 0
    check_dataset(xr.load_dataset(tmp_path / "c.nc"))


def test_every_shipped_run_dataset_is_plausible():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "datasets"
    paths = sorted(root.rglob("*.nc"))
    assert len(paths) >= 10
    for path in paths:
        with xr.open_dataset(path) as ds:
            check_dataset(ds.load(), str(path))


def test_a_source_larger_than_memory_is_refused_before_it_is_read(good, tmp_path, monkeypatch):
    import psutil

    class Tiny:
        available = 1024

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Tiny)
    with pytest.raises(ValueError, match="GiB of arrays, more than"):
        ensemble.combine([good])
