"""Tests of analysis.fits: the linear least-squares core and the t~ scaling fits."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from analysis import fit_threshold_scaling, linear_fit, threshold_time

ALPHA, C = 0.08, 0.5
LS, WS = np.array([6, 8, 10, 12]), np.array([2.0, 4.0, 6.0])


def _tt(spread=0.1, c=C):
    t = np.exp(c + ALPHA * LS[:, None] * WS[None, :])
    return xr.Dataset(
        {
            "t_tilde": (("L", "W"), t),
            "t_tilde_lower": (("L", "W"), t * np.exp(-spread)),
            "t_tilde_upper": (("L", "W"), t * np.exp(spread)),
        },
        coords={"L": LS, "W": WS},
    )


class TestLinearFit:
    def test_weighted_matches_polyfit(self):
        rng = np.random.default_rng(0)
        x = np.linspace(0, 1, 12)
        s = rng.uniform(0.05, 0.2, x.size)
        y = 2 * x + 1 + s * rng.standard_normal(x.size)
        beta, cov, w = linear_fit(np.column_stack([x, np.ones_like(x)]), y, s)
        p, pc = np.polyfit(x, y, 1, w=1 / s, cov="unscaled")
        assert w
        np.testing.assert_allclose(beta, p, rtol=1e-10)
        np.testing.assert_allclose(cov, pc, rtol=1e-8)

    def test_unweighted_uses_residuals(self):
        rng = np.random.default_rng(1)
        x = np.linspace(0, 1, 12)
        y = 2 * x + 1 + 0.1 * rng.standard_normal(x.size)
        beta, cov, w = linear_fit(np.column_stack([x, np.ones_like(x)]), y, None)
        p, pc = np.polyfit(x, y, 1, cov=True)
        assert not w
        np.testing.assert_allclose(beta, p, rtol=1e-10)
        np.testing.assert_allclose(cov, pc, rtol=1e-8)  # both scale (X^T X)^-1 by RSS/(n - 2)

    def test_zero_sigma_falls_back_to_unweighted(self):
        x = np.arange(4.0)
        _, _, w = linear_fit(np.column_stack([x, np.ones_like(x)]), x, np.zeros(4))
        assert not w


class TestThresholdScaling:
    def test_recovers_alpha_and_W_tilde(self):
        sc = fit_threshold_scaling(_tt(), weighted=True)
        assert sc["alpha"].item() == pytest.approx(ALPHA, rel=1e-10)
        assert sc["c"].item() == pytest.approx(C, abs=1e-9)
        assert sc["W_tilde"].item() == pytest.approx(2 * np.log(2) / ALPHA, rel=1e-10)
        assert sc["alpha_weighted"].item()
        for v in sc.data_vars.values():
            assert "long_name" in v.attrs and v.attrs["units"] == "1"

    def test_kappa_per_W_and_slope_per_L(self):
        sc = fit_threshold_scaling(_tt(), weighted=True)
        np.testing.assert_allclose(sc["kappa"].values, ALPHA * WS, rtol=1e-10)
        np.testing.assert_allclose(sc["slope_W"].values, ALPHA * LS, rtol=1e-10)
        np.testing.assert_array_equal(sc["kappa_robust"].values, ALPHA * WS > np.log(4))
        assert sc["kappa_robust"].values.tolist() == [False, False, False]
        # with bounds +-0.1 in ln t~, sigma = 0.1: kappa_err = 0.1 / sqrt(sum (L - Lbar)^2)
        np.testing.assert_allclose(sc["kappa_err"].values, 0.1 / np.sqrt(((LS - LS.mean()) ** 2).sum()), rtol=1e-10)

    def test_robust_flag(self):
        sc = fit_threshold_scaling(_tt().assign(t_tilde=lambda d: d["t_tilde"] ** 4))
        assert sc["kappa_robust"].values.tolist() == [False, False, True]  # kappa = 0.32 W vs ln 4 = 1.386

    def test_bare_dataarray_is_unweighted(self):
        sc = fit_threshold_scaling(_tt()["t_tilde"])
        assert sc["alpha"].item() == pytest.approx(ALPHA, rel=1e-10)
        assert not sc["alpha_weighted"].item()

    def test_nan_points_are_left_out(self):
        tt = _tt()
        tt["t_tilde"][-1, -1] = np.nan
        sc = fit_threshold_scaling(tt)
        assert sc["alpha"].item() == pytest.approx(ALPHA, rel=1e-10)
        assert sc["kappa_n"].values.tolist() == [4, 4, 3]
        assert sc["kappa_n_censored"].values.tolist() == [0, 0, 1]
        assert sc["alpha_n"].item() == 11 and sc["alpha_n_censored"].item() == 1

    def test_end_to_end_from_relative_imbalance(self, synth):
        """Ir linear in ln t, crossing r_th at t = exp(alpha L W): the chain recovers alpha."""
        t = synth.log_times(80, t_final=5000.0)
        lnt = np.log(np.where(t > 0, t, 1.0))
        Ls, Ws = [4, 6, 8], [2.0, 3.0]
        I0 = np.ones((3, 2, 2, t.size))
        Ig = np.empty_like(I0)
        for i, L in enumerate(Ls):
            for k, W in enumerate(Ws):
                ir = np.where(t > 0, np.clip(0.17 + 0.05 * (lnt - 0.1 * L * W), 0, 1), 0.0)
                Ig[i, k] = 1 - ir
        ds = synth.from_imbalance(I0, Ig, L=Ls, W=Ws, times=t)
        tt = threshold_time(ds, definition="crossing")
        np.testing.assert_allclose(tt["t_tilde"].values, np.exp(0.1 * np.outer(Ls, Ws)), rtol=1e-10)
        sc = fit_threshold_scaling(tt)  # bounds coincide (zero error): unweighted
        assert sc["alpha"].item() == pytest.approx(0.1, rel=1e-9)


class TestNonFiniteInput:
    def test_infinite_or_negative_t_tilde_is_refused(self):
        tt = _tt()
        tt["t_tilde"][0, 0] = np.inf
        with pytest.raises(ValueError, match="t_tilde must be positive and finite"):
            fit_threshold_scaling(tt)
        tt["t_tilde"][0, 0] = -1.0
        with pytest.raises(ValueError, match="t_tilde"):
            fit_threshold_scaling(tt)
