"""The relaxation rate Gamma as a per-realization observable: through run_grid, checkpoints, combine and TOML."""

import numpy as np
import pytest
import xarray as xr

import ensemble
from ensemble.cli import main
from ensemble.io.combine import combine
from ensemble.observables import batch_dims, dataset_dims
from ensemble.references.relaxation import exact_relaxation_rate, weak_coupling_relaxation_rate
from ensemble.run import seeds
from ensemble.run.grid import plan_grid

RATES = ["relaxation_rate", "relaxation_resolution", "relaxation_rate_exact", "relaxation_resolution_exact"]
KW = dict(L=[4, 6], W=[3.0, 9.0], delta=0.7, gamma=0.8, t_final=2.0, n_times=4, seed=11, client="synchronous",
          progress=False)


@pytest.fixture(scope="module")
def run():
    return ensemble.run_grid(n_realizations=3, observables=RATES, **KW)


def test_dims_and_attributes(run):
    for name in RATES:
        assert run[name].dims == ("L", "W", "realization") == dataset_dims(name)
        assert batch_dims(name) == ("realization",)
        assert "units of J" in run[name].attrs["long_name"] and run[name].attrs["units"] == "1"
    assert dataset_dims("sz") == run.sz.dims and run.sz.sizes["time"] == 4


def test_values_are_the_reference_functions_on_the_stored_fields(run):
    """Same fields as the trajectories (the keyed disorder stream), the references' numbers bitwise."""
    for L in KW["L"]:
        for W in KW["W"]:
            for r in range(3):
                fields = seeds.draw_fields(KW["seed"], L, W, r)
                point = dict(L=L, W=W, realization=r)
                np.testing.assert_array_equal(run.field.sel(**point).values[:L], fields)
                weak = weak_coupling_relaxation_rate(fields, delta=0.7, gamma=0.8)
                exact = exact_relaxation_rate(fields, delta=0.7, gamma=0.8)
                assert float(run.relaxation_rate.sel(**point)) == weak.rate
                assert float(run.relaxation_resolution.sel(**point)) == weak.resolution
                assert float(run.relaxation_rate_exact.sel(**point)) == exact.rate
                assert float(run.relaxation_resolution_exact.sel(**point)) == exact.resolution
    assert np.all(run.relaxation_rate_exact <= 0.8**2 / 2) and np.all(run.relaxation_rate_exact > 0)


def test_bitwise_whatever_the_batching_and_through_a_resumed_checkpoint(run, tmp_path):
    ckpt = tmp_path / "ckpt"
    first = ensemble.run_grid(n_realizations=2, observables=RATES, batch_size=1, checkpoint=ckpt, **KW)
    assert len(list(ckpt.glob("part-*.nc"))) == 8
    with xr.open_dataset(next(ckpt.glob("part-*.nc"))) as part:
        assert part.relaxation_rate.dims == ("realization",)
    resumed = ensemble.run_grid(n_realizations=3, observables=RATES, batch_size=2, checkpoint=ckpt, **KW)
    for name in RATES:
        np.testing.assert_array_equal(resumed[name].values, run[name].values)
        np.testing.assert_array_equal(first[name].values, run[name].isel(realization=slice(0, 2)).values)


def test_combine_keeps_the_rates(run):
    smaller = ensemble.run_grid(n_realizations=2, observables=RATES, **KW)
    merged = combine([smaller, run])
    assert merged.attrs["overlap"] == "bitwise"
    for name in RATES:
        assert merged[name].dims == ("L", "W", "realization")
        np.testing.assert_array_equal(merged[name].values, run[name].values)


def test_refusals_come_before_the_run():
    with pytest.raises(ValueError, match=r"relaxation_rate_exact: L = 10 > 8"):
        plan_grid(L=[6, 10], W=[2.0], delta=1.0, t_final=1.0, n_times=2, n_realizations=1,
                  observables=["relaxation_rate_exact"])
    with pytest.raises(ValueError, match="needs Delta != 0"):
        plan_grid(L=[6], W=[2.0], delta=0.0, t_final=1.0, n_times=2, n_realizations=1,
                  observables=["relaxation_rate"])


def test_toml_and_command_line(tmp_path, capsys):
    path = tmp_path / "rates.toml"
    path.write_text('[model]\ndelta = 1.0\n[grid]\nL = [6]\nW = [5.0]\nn_realizations = 2\ntimes = [0.0, 0.05]\n'
                    '[run]\nseed = 4\nobservables = ["relaxation_rate"]\n')
    out = tmp_path / "rates.nc"
    assert main(["run", str(path), "-o", str(out), "--scheduler", "synchronous", "--quiet"]) == 0
    with xr.open_dataset(out) as ds:
        assert ds.relaxation_rate.dims == ("L", "W", "realization")
        expected = [weak_coupling_relaxation_rate(seeds.draw_fields(4, 6, 5.0, r), delta=1.0, gamma=1.0).rate
                    for r in range(2)]
        np.testing.assert_array_equal(ds.relaxation_rate.values[0, 0], expected)


def test_the_report_adds_the_typical_rate_and_kappa_gamma(run):
    import analysis
    from analysis.relaxation import rate_decay

    rep = analysis.report(run, n_resamples=200)
    row = rep.grid[(rep.grid.L == 6) & (rep.grid.W == 9.0)].iloc[0]
    rates = run.relaxation_rate.sel(L=6, W=9.0).values
    assert row.ln_gamma_median == np.median(np.log(rates)) and row.gamma_unresolved == 0
    kappa = rep.summary[(rep.summary.quantity == "kappa_Gamma") & (rep.summary.W == 3.0)].iloc[0]
    expected = rate_decay(run.relaxation_rate.sel(L=4, W=3.0).values, run.relaxation_rate.sel(L=6, W=3.0).values,
                          L_small=4, L_large=6, W=3.0, statistic="median", n_resamples=200,
                          resolutions_small=run.relaxation_resolution.sel(L=4, W=3.0).values,
                          resolutions_large=run.relaxation_resolution.sel(L=6, W=3.0).values)
    assert kappa.estimate == expected.kappa and kappa.verdict == expected.verdict and kappa.L == 6
    assert "median ln Gamma" in rep.to_markdown() and "W*_Γ" in rep.to_markdown()
