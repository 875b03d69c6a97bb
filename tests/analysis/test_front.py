"""Tests of analysis.front: delta S_j, h(t), the fit h = A ln t + B, t*, suggest_window."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from analysis import fit_front, front, suggest_window

A_TRUE, B_TRUE = 0.7, 0.3


def _exact_front(synth, L=10, n=40):
    t = synth.log_times(n)
    h = np.where(t > 0, A_TRUE * np.log(np.where(t > 0, t, 1.0)) + B_TRUE, 0.0)
    h = np.clip(h, 0.0, L - 1)  # stays in [0, L-1]; linear for t in [~0.65, ~1e5]
    return synth.from_front(h, L=L, times=t), t, h


class TestFront:
    def test_h_matches_the_constructed_profile(self, synth):
        ds, t, h = _exact_front(synth)
        fr = front(ds)
        got = fr["h"].isel(L=0, W=0).values
        np.testing.assert_allclose(got[1:], h[1:], rtol=1e-12, atol=1e-12)

    def test_h_is_nan_exactly_at_t0(self, synth):
        ds, t, _ = _exact_front(synth)
        h = front(ds)["h"].isel(L=0, W=0)
        assert np.isnan(h.values[0])
        assert bool(h.isel(time=slice(1, None)).notnull().all())
        assert "t = 0" in h.attrs["comment"]

    def test_rounding_level_signal_gives_nan_not_noise(self, synth):
        ds, t, h = _exact_front(synth)
        ds["sz"][0, 0, 1, :, 1, :] = ds["sz"][0, 0, 0, :, 1, :] + 1e-16 * np.arange(10)  # first step: rounding
        fr = front(ds)
        assert np.isnan(fr["h"].isel(time=1).item()) and fr.attrs["atol"] == 1e-10
        np.testing.assert_allclose(fr["h"].isel(L=0, W=0).values[2:], h[2:], rtol=1e-12)

    def test_dS_is_nan_beyond_L_and_attrs(self, synth):
        t = synth.log_times(8)
        ones = np.ones((2, 1, 2, t.size))
        ig = ones.copy()
        ig[..., 1:] = 0.5
        ds = synth.from_imbalance(ones, ig, L=[4, 6], W=[1.0], times=t)
        fr = front(ds)
        assert bool(fr["dS"].sel(L=4, site=[5, 6]).isnull().all())
        assert bool(fr["dS"].sel(L=4, site=[1, 2, 3, 4]).notnull().all())
        # uniform dS_j = 1/4 for t > 0: h = mean of (j-1) = (L-1)/2 (paper Eq. 15)
        np.testing.assert_allclose(fr["h"].sel(L=6).isel(time=slice(1, None)), 2.5)
        for v in fr.data_vars.values():
            assert "long_name" in v.attrs and v.attrs["units"] == "1"

    def test_order_options_differ_when_signs_cancel(self, synth):
        t = np.array([0.0, 1.0, 2.0])
        s0 = synth.neel(4)
        sz = np.empty((1, 1, 2, 2, 3, 4))
        sz[:, :, 0] = s0
        sz[0, 0, 1, 0] = s0 + 0.1 * np.array([0, 1, 1])[:, None]  # +0.1 on every site, t > 0
        sz[0, 0, 1, 1] = s0 - 0.1 * np.array([0, 1, 1])[:, None]
        ds = synth.make_dataset(sz, L=[4], W=[1.0], times=t)
        a = front(ds)
        m = front(ds, order="mean-then-abs")
        np.testing.assert_allclose(a["dS"].isel(time=1), 0.1)
        np.testing.assert_allclose(m["dS"].isel(time=1), 0.0, atol=1e-15)
        assert np.isnan(m["h"].isel(L=0, W=0, time=1).item())  # 0/0: sum dS = 0
        assert m.attrs["order"] == "mean-then-abs"
        with pytest.raises(ValueError, match="order"):
            front(ds, order="other")  # type: ignore[arg-type]

    def test_h_err_matches_a_jackknife_loop(self, synth):
        rng = np.random.default_rng(5)
        t = np.array([0.0, 1.0, 10.0])
        L, nr = 6, 7
        s0 = np.broadcast_to(synth.neel(L), (nr, t.size, L))
        sg = s0 - rng.uniform(0, 0.3, (nr, t.size, L)) * (t > 0)[None, :, None]
        ds = synth.make_dataset(np.stack([s0, sg])[None, None], L=[L], W=[1.0], times=t)
        for order in ("abs-then-mean", "mean-then-abs"):
            fr = front(ds, order=order)
            d = s0 - sg
            def h_of(x):
                dS = np.abs(x).mean(0) if order == "abs-then-mean" else np.abs(x.mean(0))
                return (dS * np.arange(L)).sum(-1) / dS.sum(-1)
            loo = np.array([h_of(np.delete(d, i, 0)[:, 1:]) for i in range(nr)])
            ref = np.sqrt((nr - 1) / nr * ((loo - loo.mean(0)) ** 2).sum(0))
            np.testing.assert_allclose(fr["h"].values[0, 0, 1:], h_of(d[:, 1:]), rtol=1e-12)
            np.testing.assert_allclose(fr["h_err"].values[0, 0, 1:], ref, rtol=1e-10)

    def test_missing_realizations_skipped(self, synth):
        ds, _, _ = _exact_front(synth)
        ds["sz"][:, :, :, 1] = np.nan
        fr = front(ds)
        assert fr["n_realizations"].item() == 2
        assert bool(fr["h"].isel(time=slice(1, None)).notnull().all())


class TestFitFront:
    def test_recovers_A_and_B_unweighted(self, synth):
        ds, _, _ = _exact_front(synth)
        fr = front(ds)
        ff = fit_front(fr["h"], 1.0, 1000.0)
        assert ff["A"].item() == pytest.approx(A_TRUE, abs=1e-10)
        assert ff["B"].item() == pytest.approx(B_TRUE, abs=1e-10)
        assert not ff["weighted"].item()
        assert ff.attrs["t_min"] == 1.0 and ff.attrs["t_max"] == 1000.0

    def test_recovers_A_weighted_with_h_err(self, synth):
        ds, t, _ = _exact_front(synth)
        h = front(ds)["h"]
        err = xr.full_like(h, 0.01)
        ff = fit_front(h, 1.0, 1000.0, h_err=err, weighted=True)
        assert ff["A"].item() == pytest.approx(A_TRUE, abs=1e-10)
        assert ff["weighted"].item()
        n = ff["n_points"].item()
        lnt = np.log(t[(t >= 1) & (t <= 1000)])
        assert n == lnt.size
        # absolute-sigma error of the slope: sigma / sqrt(sum (x - xbar)^2)
        assert ff["A_err"].item() == pytest.approx(0.01 / np.sqrt(((lnt - lnt.mean()) ** 2).sum()), rel=1e-10)

    def test_t_star_and_verdict(self, synth):
        ds, _, _ = _exact_front(synth)
        ff = fit_front(front(ds), 1.0, 1000.0)  # Dataset in: uses h_err (zero here -> unweighted)
        L = 10
        assert ff["t_star"].item() == pytest.approx(np.exp(L / (2 * A_TRUE)), rel=1e-9)
        assert ff["inv_A"].item() == pytest.approx(1 / A_TRUE, rel=1e-9)
        assert ff["robust"].item() == (1 / A_TRUE > 2 * np.log(4))
        for v in ff.data_vars.values():
            assert "long_name" in v.attrs and v.attrs["units"] == "1"

    def test_verdict_true_for_slow_front(self, synth):
        t = synth.log_times(30)
        h = np.where(t > 0, 0.1 * np.log(np.where(t > 0, t, 1.0)) + 1.0, 0.0)
        ff = fit_front(front(synth.from_front(h, L=8, times=t)), 1.0, 1000.0)
        assert ff["robust"].item() and ff["inv_A"].item() == pytest.approx(10.0, rel=1e-9)

    def test_window_with_fewer_than_five_points_is_refused(self, synth):
        ds, t, _ = _exact_front(synth)
        h = front(ds)["h"]
        t1, t2 = t[20], t[23]
        with pytest.raises(ValueError, match=r"t_min, t_max.*holds 4 sample.*at least 5"):
            fit_front(h, t1, t2)
        assert fit_front(h, t1, t[24])["n_points"].item() == 5
        with pytest.raises(ValueError, match="t_max must be a finite number"):
            fit_front(h, 1.0, np.nan)
        with pytest.raises(ValueError, match="t_min"):
            fit_front(h, 0.0, 10.0)
        with pytest.raises(ValueError, match="t_min"):
            fit_front(h, 10.0, 1.0)

    def test_suggest_window(self, synth):
        ds, t, _ = _exact_front(synth)
        fr = front(ds)
        t_min, t_max = suggest_window(fr)
        assert t_max == t[-1] and t_min >= 10.0
        assert ((t >= t_min) & (t <= t_max)).sum() >= 3
        ff = fit_front(fr, t_min, t_max)
        assert ff["A"].item() == pytest.approx(A_TRUE, abs=1e-10)


class TestNonFiniteH:
    def test_infinite_h_is_refused(self, synth):
        ds, _, _ = _exact_front(synth)
        h = front(ds)["h"].copy()
        h[..., 20] = np.inf
        with pytest.raises(ValueError, match="h .*infinite"):
            fit_front(h, 1.0, 1000.0)
