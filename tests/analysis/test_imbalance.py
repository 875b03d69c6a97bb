"""Tests of analysis.imbalance: I(t), Ir(t) with paired errors, t~, the collapse."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import analysis
from analysis import collapse, imbalance, relative_imbalance, threshold_time


def _random_ds(synth, L=(4, 6), W=(1.0, 3.0), nr=4, seed=0):
    rng = np.random.default_rng(seed)
    t = synth.log_times(12)
    ns = max(L)
    sz = rng.uniform(-0.5, 0.5, (len(L), len(W), 2, nr, t.size, ns))
    chain = np.arange(1, ns + 1)[None, :] <= np.asarray(L)[:, None]
    sz = np.where(chain[:, None, None, None, None, :], sz, np.nan)
    return synth.make_dataset(sz, L=list(L), W=list(W), times=t)


class TestImbalance:
    def test_neel_gives_one_for_every_L(self, synth):
        t = synth.log_times(5)
        ones = np.ones((2, 1, 3, t.size))
        ds = synth.from_imbalance(ones, ones, L=[4, 10], W=[2.0], times=t)
        i = imbalance(ds)
        assert i.dims == ("L", "W", "gamma", "realization", "time")
        np.testing.assert_allclose(i.values, 1.0, rtol=0, atol=1e-15)
        # and the profile itself is Néel: Sz_1 = +1/2
        assert float(ds["sz"].isel(L=0, W=0, gamma=0, realization=0, time=0, site=0)) == 0.5

    def test_matches_a_dense_reference(self, synth):
        ds = _random_ds(synth)
        got = imbalance(ds)
        for L in ds["L"].values:
            sz = ds["sz"].sel(L=L).values[..., :L]
            sign = (-1.0) ** (np.arange(1, L + 1) + 1)
            ref = 2.0 / L * np.sum(sz * sign, axis=-1)
            np.testing.assert_allclose(got.sel(L=L).values, ref, rtol=1e-13)

    def test_attrs(self, synth):
        i = imbalance(_random_ds(synth))
        assert i.attrs["units"] == "1" and "imbalance" in i.attrs["long_name"]

    def test_not_run_realization_is_nan(self, synth):
        ds = _random_ds(synth)
        ds["sz"][1, :, :, 2] = np.nan
        i = imbalance(ds)
        assert bool(i.isel(L=1, realization=2).isnull().all())
        assert bool(i.isel(L=0).notnull().all())


def _paired_data(synth, rho_noise=0.3, nr=40, seed=1):
    """I0_r and Ig_r share a realization-level fluctuation (positively correlated pair)."""
    rng = np.random.default_rng(seed)
    t = synth.log_times(10)
    common = rho_noise * rng.standard_normal((1, 1, nr, 1))
    I0 = 0.6 + common + 0.01 * rng.standard_normal((1, 1, nr, t.size))
    Ig = 0.8 * (0.6 + common) + 0.01 * rng.standard_normal((1, 1, nr, t.size))
    I0[..., 0] = Ig[..., 0] = 1.0
    return synth.from_imbalance(I0, Ig, L=[4], W=[2.0], times=t), I0, Ig


class TestRelativeImbalance:
    def test_means_and_ir(self, synth):
        ds, I0, Ig = _paired_data(synth)
        ri = relative_imbalance(ds)
        m0, mg = I0.mean(axis=2), Ig.mean(axis=2)
        np.testing.assert_allclose(ri["I0"].values, m0, rtol=1e-12)
        np.testing.assert_allclose(ri["Ig"].values, mg, rtol=1e-12)
        np.testing.assert_allclose(ri["Ir"].values, (m0 - mg) / m0, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ri["I0_err"].values, I0.std(axis=2, ddof=1) / np.sqrt(I0.shape[2]), rtol=1e-10)
        assert ri["n_realizations"].item() == 40
        for v in ri.data_vars.values():
            assert "long_name" in v.attrs and "units" in v.attrs

    def test_jackknife_matches_a_loop(self, synth):
        ds, I0, Ig = _paired_data(synth, nr=7)
        x0, xg = I0[0, 0], Ig[0, 0]
        n = x0.shape[0]
        loo = np.array([1 - np.delete(xg, i, 0).mean(0) / np.delete(x0, i, 0).mean(0) for i in range(n)])
        ref = np.sqrt((n - 1) / n * ((loo - loo.mean(0)) ** 2).sum(0))
        got = relative_imbalance(ds)["Ir_err"].values[0, 0]
        np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-14)

    def test_paired_error_smaller_than_unpaired_for_correlated_data(self, synth):
        ds, _, _ = _paired_data(synth)
        paired = relative_imbalance(ds)["Ir_err"].isel(time=slice(1, None))
        unpaired = relative_imbalance(ds, error="unpaired")["Ir_err"].isel(time=slice(1, None))
        assert bool((paired < 0.5 * unpaired).all())

    def test_bad_error_name(self, synth):
        ds, _, _ = _paired_data(synth)
        with pytest.raises(ValueError, match="error"):
            relative_imbalance(ds, error="bootstrap")  # type: ignore[arg-type]

    def test_nan_realizations_are_skipped_and_counted(self, synth):
        ds = _random_ds(synth, nr=6)
        ds["sz"][1, :, :, 4:] = np.nan  # the larger L ran only 4 realizations
        ri = relative_imbalance(ds)
        assert ri["n_realizations"].sel(L=6).values.tolist() == [4, 4]
        assert ri["n_realizations"].sel(L=4).values.tolist() == [6, 6]
        ref = relative_imbalance(ds.isel(realization=slice(0, 4)))
        xr.testing.assert_allclose(ri.sel(L=6), ref.sel(L=6))
        assert bool(ri["Ir"].notnull().all()) and bool(ri["Ir_err"].notnull().all())


def _linear_ir(synth, a, b, t_lo=0.05):
    """I0 = 1, Ig = 1 - Ir with Ir = a ln t + b for t >= t_lo (0 at t = 0), clipped at 0."""
    t = synth.log_times(60)
    ir = np.where(t > 0, a * np.log(np.where(t > 0, t, 1.0)) + b, 0.0)
    ir = np.clip(ir, 0.0, None)
    I0 = np.ones((1, 1, 3, t.size))
    Ig = np.broadcast_to(1.0 - ir, I0.shape).copy()
    return synth.from_imbalance(I0, Ig, L=[6], W=[3.0], times=t)


class TestThresholdTime:
    def test_known_crossing(self, synth):
        a, b = 0.05, 0.0
        ds = _linear_ir(synth, a, b)
        tt = threshold_time(ds, r_th=0.17, definition="crossing")
        expected = np.exp((0.17 - b) / a)  # ~ 30: between samples, exact in ln t
        assert tt["t_tilde"].item() == pytest.approx(expected, rel=1e-12)
        assert tt["crossed"].item()
        assert tt.attrs["r_th"] == 0.17
        assert tt["t_tilde"].attrs["units"] == "1"

    def test_bounds_from_error_band(self, synth):
        a, e = 0.05, 0.01
        t = synth.log_times(60)
        ir = np.where(t > 0, np.clip(a * np.log(np.where(t > 0, t, 1.0)), 0, None), 0.0)
        ri = xr.Dataset(
            {"Ir": (("L", "W", "time"), ir[None, None]), "Ir_err": (("L", "W", "time"), np.full((1, 1, t.size), e))},
            coords={"L": [6], "W": [3.0], "time": t},
        )
        tt = threshold_time(ri)
        assert tt["t_tilde_lower"].item() == pytest.approx(np.exp((0.17 - e) / a), rel=1e-12)
        assert tt["t_tilde_upper"].item() == pytest.approx(np.exp((0.17 + e) / a), rel=1e-12)
        # the paper's t~ is the first *sample* after the interpolated crossing of Ir - err, so it
        # sits at or above t_tilde_upper, by less than one sample spacing
        k = int(np.searchsorted(t, tt["t_tilde"].item()))
        assert t[k - 1] < tt["t_tilde_upper"].item() <= tt["t_tilde"].item() == t[k]
        crossing = threshold_time(ri, definition="crossing")
        assert crossing["t_tilde_lower"].item() < crossing["t_tilde"].item() < crossing["t_tilde_upper"].item()

    def test_never_crossing_is_nan_and_flagged(self, synth):
        ds = _linear_ir(synth, 0.01, 0.0)  # reaches only ~0.07 by t = 1000
        tt = threshold_time(ds)
        assert np.isnan(tt["t_tilde"].item()) and not tt["crossed"].item()

    def test_first_crossing_wins(self, synth):
        t = np.array([0.0, 1.0, 10.0, 100.0, 1000.0])
        ir = np.array([0.0, 0.1, 0.3, 0.1, 0.3])
        ri = xr.Dataset({"Ir": (("L", "W", "time"), ir[None, None]), "Ir_err": (("L", "W", "time"), np.zeros((1, 1, 5)))},
                        coords={"L": [4], "W": [1.0], "time": t})
        tt = threshold_time(ri, definition="crossing")
        assert tt["t_tilde"].item() == pytest.approx(np.exp(np.log(10) * 0.07 / 0.2), rel=1e-12)


class TestNanPadding:
    """Mixed L: the padded sites of the smaller L (and missing realizations) change nothing."""

    def test_smaller_L_unchanged(self, synth):
        mixed = _random_ds(synth, L=(4, 8), nr=5, seed=3)
        mixed["sz"][1, :, :, 3:] = np.nan  # L = 8 ran 3 realizations
        alone = mixed.sel(L=[4]).isel(site=slice(0, 4))
        xr.testing.assert_allclose(imbalance(mixed).sel(L=[4]), imbalance(alone))
        xr.testing.assert_allclose(relative_imbalance(mixed).sel(L=[4]), relative_imbalance(alone))
        a, b = threshold_time(mixed, r_th=0.01).sel(L=[4]), threshold_time(alone, r_th=0.01)
        xr.testing.assert_allclose(a.drop_vars("n_realizations"), b.drop_vars("n_realizations"))
        xr.testing.assert_equal(collapse(mixed).sel(L=[4]), collapse(alone))


class TestCollapse:
    def test_is_L_times_ir(self, synth):
        ds = _random_ds(synth)
        ri = relative_imbalance(ds)
        col = collapse(ds)
        for L in ds["L"].values:
            np.testing.assert_allclose(col["L_Ir"].sel(L=L), L * ri["Ir"].sel(L=L))
            np.testing.assert_allclose(col["L_Ir_err"].sel(L=L), L * ri["Ir_err"].sel(L=L))
        assert col["L_Ir"].attrs["units"] == "1"


class TestPaperDefinition:
    def test_first_sample_beyond_the_error_by_hand(self):
        t = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
        ir = np.array([0.0, 0.10, 0.18, 0.20, 0.16, 0.25, 0.40])
        err = np.array([0.0, 0.01, 0.02, 0.05, 0.01, 0.07, 0.02])
        ri = xr.Dataset({"Ir": (("L", "W", "time"), ir[None, None]), "Ir_err": (("L", "W", "time"), err[None, None])},
                        coords={"L": [4], "W": [1.0], "time": t})
        # by hand: Ir - err = 0, 0.09, 0.16, 0.15, 0.15, 0.18, 0.38 -> first > 0.17 at t = 16
        tt = threshold_time(ri, r_th=0.17)
        assert tt["t_tilde"].item() == 16.0 and tt.attrs["definition"] == "paper"
        assert not tt["censored"].item() and tt["crossed"].item()
        # the central curve crosses between t = 1 and 2: (0.17 - 0.10)/(0.18 - 0.10) of the way in ln t
        crossing = threshold_time(ri, r_th=0.17, definition="crossing")["t_tilde"].item()
        assert crossing == pytest.approx(np.exp(np.log(2.0) * 0.07 / 0.08), rel=1e-12)

    def test_censored_is_a_flag_and_nan_never_a_number(self):
        t = np.array([0.0, 1.0, 10.0, 100.0])
        ri = xr.Dataset({"Ir": (("L", "W", "time"), np.array([[[0.0, 0.1, 0.2, 0.3]]])),
                         "Ir_err": (("L", "W", "time"), np.full((1, 1, 4), 0.2))},
                        coords={"L": [4], "W": [1.0], "time": t})
        tt = threshold_time(ri)
        assert tt["censored"].item() and np.isnan(tt["t_tilde"].item()) and tt.attrs["t_final"] == 100.0
        assert not threshold_time(ri, definition="crossing")["censored"].item()

    @pytest.mark.parametrize("r_th", [0.0, 1.0, -5.0, 1.5, np.nan, "0.2"])
    def test_r_th_outside_zero_one_is_refused(self, synth, r_th):
        with pytest.raises(ValueError, match="r_th must be a number in"):
            threshold_time(_linear_ir(synth, 0.05, 0.0), r_th=r_th)

    def test_unknown_definition(self, synth):
        with pytest.raises(ValueError, match="definition"):
            threshold_time(_linear_ir(synth, 0.05, 0.0), definition="first")


class TestNonFinite:
    """A non-finite value inside a chain is an error naming realization, time and site, or dropped and counted."""

    def test_one_nan_is_an_error_that_names_where(self, synth):
        ds = _random_ds(synth, L=(4,), W=(1.0,), nr=5)
        ds["sz"][0, 0, 1, 3, 7, 2] = np.nan
        t7 = float(ds.time[7])
        for fn in (imbalance, relative_imbalance, threshold_time, analysis.front, analysis.bootstrap):
            with pytest.raises(ValueError, match=rf"realization=3, time={t7:g}, site=3; pass nonfinite='drop'"):
                fn(ds)

    def test_inf_is_not_absorbed(self, synth):
        ds = _random_ds(synth, L=(4,), W=(1.0,), nr=5)
        ds["sz"][0, 0, 0, 1, 4, 0] = np.inf
        with pytest.raises(ValueError, match=r"\(inf\).*realization=1"):
            relative_imbalance(ds)

    def test_dropped_and_counted_per_time(self, synth):
        ds = _random_ds(synth, L=(4,), W=(1.0,), nr=5)
        ds["sz"][0, 0, 1, 3, 7, 2] = np.nan
        ri = relative_imbalance(ds, nonfinite="drop")
        n_used = ri["n_used"].isel(L=0, W=0).values
        assert n_used[7] == 4 and (np.delete(n_used, 7) == 5).all()
        assert ri["n_dropped"].isel(L=0, W=0).values[7] == 1 and ri["n_dropped"].sum() == 1
        assert ri["n_realizations"].item() == 5
        clean = relative_imbalance(ds.drop_sel(realization=3))  # the other four, independently
        np.testing.assert_allclose(ri["Ir"].isel(time=7), clean["Ir"].isel(time=7), rtol=1e-12)
        np.testing.assert_allclose(ri["Ir_err"].isel(time=7), clean["Ir_err"].isel(time=7), rtol=1e-12)
        bs = analysis.bootstrap(ds, n_resamples=20, nonfinite="drop")
        np.testing.assert_array_equal(bs["n_used"], ri["n_used"])
        fr = analysis.front(ds, nonfinite="drop")
        assert fr["n_used"].isel(L=0, W=0).values[7] == 4 and fr["n_dropped"].sum() == 1

    def test_realizations_not_run_are_not_an_error(self, synth):
        ds = _random_ds(synth, L=(4,), W=(1.0,), nr=5)
        ds["sz"][0, :, :, 4] = np.nan  # realization 4 did not run: all NaN
        ri = relative_imbalance(ds)
        assert ri["n_realizations"].item() == 4 and (ri["n_used"] == 4).all() and ri["n_dropped"].sum() == 0

    def test_bad_option(self, synth):
        with pytest.raises(ValueError, match="nonfinite"):
            imbalance(_random_ds(synth), nonfinite="skip")
