"""Reduced Datasets (per-realization imbalance instead of sz) give bitwise the full Dataset's numbers."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import analysis
from analysis.reduced import per_realization_imbalance

QUICKSTART = Path(__file__).resolve().parents[2] / "datasets" / "quickstart.nc"


@pytest.fixture(scope="module")
def full() -> xr.Dataset:
    with xr.open_dataset(QUICKSTART) as ds:
        return ds.load()


@pytest.fixture(scope="module")
def reduced(full, tmp_path_factory) -> xr.Dataset:
    path = tmp_path_factory.mktemp("reduced") / "q.nc"
    per_realization_imbalance(full).to_netcdf(path)
    with xr.open_dataset(path) as ds:
        return ds.load()


def _same(a: xr.Dataset, b: xr.Dataset) -> None:
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


class TestReduced:
    def test_imbalance_statistics_are_bitwise_those_of_the_full_dataset(self, full, reduced):
        assert "sz" not in reduced and reduced.imbalance.dims == ("L", "W", "gamma", "realization", "time")
        _same(analysis.relative_imbalance(full), analysis.relative_imbalance(reduced))
        for definition in ("paper", "crossing"):
            _same(analysis.threshold_time(analysis.relative_imbalance(full), definition=definition),
                  analysis.threshold_time(analysis.relative_imbalance(reduced), definition=definition))
        a = analysis.bootstrap(full, n_resamples=50, with_front=False)
        b = analysis.bootstrap(reduced, n_resamples=50)
        _same(a, b)
        assert not b.attrs["front"]

    def test_threshold_time_and_collapse_take_the_reduced_dataset_itself(self, full, reduced):
        _same(analysis.threshold_time(full), analysis.threshold_time(reduced))
        _same(analysis.collapse(full), analysis.collapse(reduced))
        _same(full.avalanche.threshold_time(), reduced.avalanche.threshold_time())

    def test_the_front_is_refused_for_both_orders(self, reduced):
        for order in ("abs-then-mean", "mean-then-abs"):
            with pytest.raises(ValueError, match="reduced dataset"):
                analysis.front(reduced, order=order)

    def test_report_leaves_the_front_out_and_says_why(self, reduced):
        rep = analysis.report(reduced, n_resamples=20)
        assert any("reduced dataset" in note for note in rep.notes)
        assert "inv_A" not in rep.grid

    def test_a_nan_inside_a_run_realization_is_named(self, reduced):
        bad = reduced.copy(deep=True)
        bad["imbalance"][0, 1, 1, 2, 3] = np.nan
        with pytest.raises(ValueError, match=r"imbalance has a non-finite value .* realization=2, time="):
            analysis.relative_imbalance(bad)
        dropped = analysis.relative_imbalance(bad, nonfinite="drop")
        assert int(dropped.n_used.isel(L=0, W=1, time=3)) == int(dropped.n_realizations.isel(L=0, W=1)) - 1
