"""Resampling over realizations: textbook cases, pairing, the point estimate, verdicts, and an
independent plain-numpy resampling of the shipped datasets."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import analysis
from analysis import bootstrap, verdicts
from analysis.resample import first_upward_crossing, grid_counts, interval, masked_line, three_valued

ROOT = Path(__file__).resolve().parents[2]
TWO_LN4 = 2 * np.log(4.0)


def _mean_ds(synth, x: np.ndarray, t):
    """I0 = 1 and Ig_r = 1 - x_r at every t > 0: Ir is exactly the mean of x."""
    n = x.size
    I0 = np.ones((1, 1, n, t.size))
    Ig = np.broadcast_to(1.0 - x[:, None], (n, t.size)).copy()[None, None]
    Ig[..., 0] = 1.0
    return synth.from_imbalance(I0, Ig, L=[4], W=[1.0], times=t)


class TestTextbook:
    def test_standard_error_of_a_mean(self, synth):
        rng = np.random.default_rng(11)
        x = rng.normal(0.3, 0.1, 80)
        t = synth.log_times(8)
        bs = bootstrap(_mean_ds(synth, x, t), n_resamples=4000, seed=3)
        expected = x.std(ddof=0) / np.sqrt(x.size)  # the bootstrap standard error of a mean
        np.testing.assert_allclose(bs["Ir"].values[0, 0, 1:], x.mean(), rtol=1e-12)
        np.testing.assert_allclose(bs["Ir_se"].values[0, 0, 1:], expected, rtol=0.04)

    def test_percentile_interval_agrees_with_scipy(self, synth):
        rng = np.random.default_rng(12)
        x = rng.exponential(0.2, 60)
        t = synth.log_times(5)
        bs = bootstrap(_mean_ds(synth, x, t), n_resamples=4000, seed=1)
        ref = stats.bootstrap((x,), np.mean, n_resamples=4000, method="percentile", confidence_level=0.95,
                              random_state=np.random.default_rng(2)).confidence_interval
        lo, hi = bs["Ir_lo"].values[0, 0, -1], bs["Ir_hi"].values[0, 0, -1]
        width = ref.high - ref.low
        assert abs(lo - ref.low) < 0.1 * width and abs(hi - ref.high) < 0.1 * width

    def test_counts_are_draws_with_replacement(self):
        C = grid_counts(7, 500, seed=5, L=8, W=2.0)
        assert C.shape == (501, 7) and (C[0] == 1).all() and (C.sum(1) == 7).all()
        assert np.array_equal(C, grid_counts(7, 500, seed=5, L=8, W=2.0))  # reproducible
        assert not np.array_equal(C, grid_counts(7, 500, seed=5, L=8, W=4.0))  # per grid point
        np.testing.assert_allclose(C[1:].mean(0), 1.0, atol=0.15)

    def test_helpers(self):
        lo, hi = interval(np.array([[1.0], [2.0], [np.inf]]), 0.5)
        assert lo[0] == 1.0 and hi[0] == np.inf  # an open end stays open
        assert np.isnan(interval(np.array([[1.0], [np.nan]]), 0.5)[0][0])
        a, b = masked_line(np.array([0.0, 1.0, 2.0]), np.array([[1.0, 3.0, np.nan], [1.0, np.nan, np.nan]]), 2)
        assert (a[0], b[0]) == (1.0, 2.0) and np.isnan(b[1])
        x = np.array([2.0, 4.0, 6.0])
        ws = first_upward_crossing(x, np.array([[1.0, 2.0, 4.0], [3.0, 4.0, 5.0], [1.0, 1.0, 1.0]]), 3.0)
        assert ws.tolist() == [5.0, -np.inf, np.inf]
        v = three_valued(np.array([3.0, 1.0, 1.0, np.nan]), np.array([4.0, 2.0, 4.0, 4.0]), 2.5)
        assert v.tolist() == ["yes", "no", "undetermined", "undetermined"]


class TestPairing:
    def test_identical_pairs_give_zero_spread(self, synth):
        rng = np.random.default_rng(4)
        t = synth.log_times(10)
        I = 0.5 + 0.3 * rng.standard_normal((1, 1, 30, t.size))
        I[..., 0] = 1.0
        bs = bootstrap(synth.from_imbalance(I, I, L=[4], W=[1.0], times=t), n_resamples=200)
        assert np.all(bs["Ir_samples" if "Ir_samples" in bs else "Ir_lo"].values == 0.0)
        assert np.all(bs["Ir_hi"].values == 0.0) and np.all(bs["Ir_se"].values == 0.0)
        assert bool(bs["t_tilde_paper_censored"].item())  # Ir = 0 never reaches r_th


def _random_ds(synth, Ls=(4, 6), Ws=(2.0, 3.0), nr=12, seed=0):
    rng = np.random.default_rng(seed)
    t = synth.log_times(30)
    lnt = np.log(np.where(t > 0, t, 1.0))
    I0 = 0.7 + 0.05 * rng.standard_normal((len(Ls), len(Ws), nr, t.size))
    rate = np.array([[0.05 / (L * W) ** 0.3 for W in Ws] for L in Ls])[:, :, None, None]
    Ig = I0 * (1 - np.clip(rate * lnt, 0, 1)) + 0.02 * rng.standard_normal(I0.shape)
    I0[..., 0] = Ig[..., 0] = 1.0
    return synth.from_imbalance(I0, Ig, L=list(Ls), W=list(Ws), times=t)


class TestPointEstimate:
    """Row 0 of the resampling is the data: the plain functions' numbers, through the same code."""

    def test_equals_the_plain_functions(self, synth):
        ds = _random_ds(synth)
        bs = bootstrap(ds, n_resamples=30, r_th=0.1, with_front=False)
        ri = analysis.relative_imbalance(ds)
        np.testing.assert_allclose(bs["Ir"], ri["Ir"], rtol=1e-12)
        np.testing.assert_allclose(bs["Ir_err"], ri["Ir_err"], rtol=1e-10)
        for d in ("paper", "crossing"):
            tt = analysis.threshold_time(ri, r_th=0.1, definition=d)
            np.testing.assert_allclose(bs[f"t_tilde_{d}"], tt["t_tilde"], rtol=1e-12)
            np.testing.assert_array_equal(bs[f"t_tilde_{d}_censored"], tt["censored"])
        sc = analysis.fit_threshold_scaling(analysis.threshold_time(ri, r_th=0.1))
        np.testing.assert_allclose(bs["alpha"], sc["alpha"], rtol=1e-10)
        np.testing.assert_allclose(bs["kappa"], sc["kappa"], rtol=1e-10, atol=1e-14)
        np.testing.assert_array_equal(bs["n_used"], ri["n_used"])
        assert bs.attrs["n_resamples"] == 30 and bs.attrs["seed"] == 0 and bs.attrs["confidence"] == 0.95

    def test_front_equals_the_plain_functions(self, synth):
        ds, _ = _front_ds(synth, 12)
        bs = bootstrap(ds, n_resamples=30, window=(1.0, 1000.0))
        fr = analysis.front(ds)
        np.testing.assert_allclose(bs["h"], fr["h"].transpose(*bs["h"].dims), rtol=1e-12, equal_nan=True)
        ff = analysis.fit_front(fr["h"], 1.0, 1000.0)
        np.testing.assert_allclose(bs["A"], ff["A"], rtol=1e-10)
        np.testing.assert_allclose(bs["inv_A"], ff["inv_A"], rtol=1e-10)
        np.testing.assert_allclose(bs["log10_t_star"], np.log10(ff["t_star"]), rtol=1e-10)
        assert bs["t_min"].item() == 1.0 and bs["t_max"].item() == 1000.0

    def test_mean_then_abs_front_matches(self, synth):
        ds, _ = _front_ds(synth, 12)
        bs = bootstrap(ds, n_resamples=10, order="mean-then-abs", window=(1.0, 1000.0))
        np.testing.assert_allclose(bs["h"], analysis.front(ds, order="mean-then-abs")["h"].transpose(*bs["h"].dims),
                                   rtol=1e-10, equal_nan=True)

    def test_seeded_and_independent_of_other_grid_points(self, synth):
        ds = _random_ds(synth)
        a = bootstrap(ds, n_resamples=20, seed=7, r_th=0.1)
        b = bootstrap(ds, n_resamples=20, seed=7, r_th=0.1)
        xr.testing.assert_identical(a, b)
        alone = bootstrap(ds.sel(L=[6], W=[3.0]), n_resamples=20, seed=7, r_th=0.1)
        np.testing.assert_array_equal(alone["Ir_lo"].values[0, 0], a["Ir_lo"].sel(L=6, W=3.0).values)

    @pytest.mark.parametrize("kw, name", [(dict(r_th=1.5), "r_th"), (dict(r_th=np.nan), "r_th"),
                                          (dict(confidence=1.0), "confidence"), (dict(n_resamples=3), "n_resamples"),
                                          (dict(seed=-1), "seed"), (dict(definition="x"), "definition")])
    def test_bad_parameters_are_named(self, synth, kw, name):
        with pytest.raises(ValueError, match=name):
            bootstrap(_random_ds(synth), **kw)


class TestRefitSizes:
    """Fits on a subset of the sizes from the same resamples equal a bootstrap of that subset."""

    FITS = ("kappa", "alpha", "c", "W_tilde")

    @pytest.mark.parametrize("definition", ["paper", "crossing"])
    def test_equals_a_bootstrap_of_the_subset(self, synth, definition):
        ds = _random_ds(synth, Ls=(4, 6, 8), nr=10, seed=2)
        full = bootstrap(ds, n_resamples=40, seed=3, r_th=0.05, definition=definition, with_front=False)
        sub = analysis.refit_sizes(full, L=[6, 8])
        alone = bootstrap(ds.sel(L=[6, 8]), n_resamples=40, seed=3, r_th=0.05, definition=definition,
                          with_front=False)
        assert np.isfinite(alone["alpha"].item()) and int(alone["alpha_n"]) == 4
        for name in self.FITS:
            for suffix in ("", "_se", "_lo", "_hi", "_samples"):
                np.testing.assert_array_equal(sub[name + suffix].values, alone[name + suffix].values, err_msg=name + suffix)
        for name in ("kappa_n", "kappa_n_censored", "alpha_n", "alpha_n_censored"):
            np.testing.assert_array_equal(sub[name].values, alone[name].values)
        xr.testing.assert_identical(verdicts(sub), verdicts(alone))
        # a different range of L gives a different fit: the subset is really used
        assert sub["alpha"].item() != full["alpha"].item()

    def test_censored_points_stay_out(self, synth):
        ds = _random_ds(synth, Ls=(4, 6, 8), nr=10, seed=2)
        full = bootstrap(ds, n_resamples=20, seed=3, r_th=0.15, with_front=False)
        sub = analysis.refit_sizes(full, L=[4, 6, 8])
        n_cens = int(full["t_tilde_paper_censored"].sum())
        assert 0 < n_cens < 6  # some, not all, t~ beyond the data
        assert int(sub["alpha_n_censored"]) == n_cens and int(sub["alpha_n"]) == 6 - n_cens
        assert sub["alpha"].item() == full["alpha"].item()  # all sizes: the bootstrap's own fit

    @pytest.mark.parametrize("L, match", [([6], "two distinct"), ([6, 6], "two distinct"), ([4, 6, 6], "each once"),
                                          ([6, 10], r"\[10\]")])
    def test_bad_sizes_are_refused(self, synth, L, match):
        full = bootstrap(_random_ds(synth), n_resamples=10, r_th=0.1, with_front=False)
        with pytest.raises(ValueError, match=match):
            analysis.refit_sizes(full, L=L)


def _front_ds(synth, n: int, inv_A: float = 3.2, spread: float = 0.5, seed: int = 0):
    """(L = 10, W = 1) with h_r(t) = A_r ln t + 0.2 per realization, A_r = A (1 + spread xi_r).

    dS is put on sites 1 (weight 0) and 10 (weight 9) with dS_1 + dS_10 = 0.1 for every realization,
    so the default front is exactly the realization mean of h_r (clipped to [0, 9]).
    """
    rng = np.random.default_rng(seed)
    t = synth.log_times(40)
    lnt = np.log(np.where(t > 0, t, 1.0))
    A = (1 / inv_A) * (1 + spread * rng.standard_normal(n))
    L = 10
    h = np.clip(A[:, None] * lnt[None, :] + 0.2, 0, L - 1)  # (r, t)
    p = h / (L - 1)
    s0 = synth.neel(L)
    sz = np.empty((1, 1, 2, n, t.size, L))
    sz[0, 0, 0] = s0
    d = np.zeros((n, t.size, L))
    d[..., 0], d[..., -1] = 0.1 * (1 - p), 0.1 * p
    d[:, t == 0] = 0.0
    sz[0, 0, 1] = s0 - np.sign(s0) * d
    return synth.make_dataset(sz, L=[L], W=[1.0], times=t), h


class TestVerdicts:
    def test_yes_becomes_undetermined_when_realizations_are_thinned(self, synth):
        ds, h = _front_ds(synth, 400)
        bs = bootstrap(ds, n_resamples=400, window=(10.0, 1000.0))
        t = ds.time.values
        win = (t >= 10) & (t <= 1000)
        assert bs["A"].item() == pytest.approx(np.polyfit(np.log(t[win]), h.mean(0)[win], 1)[0], rel=1e-10)
        vd = verdicts(bs)
        assert vd["front_verdict"].item() == "yes" and vd["front_P"].item() > 0.99
        thin = bootstrap(ds.isel(realization=slice(0, 5)), n_resamples=400, window=(10.0, 1000.0))
        vt = verdicts(thin)
        assert vt["front_verdict"].item() == "undetermined" and 0.2 < vt["front_P"].item() < 0.99

    def test_no_and_confidence(self, synth):
        ds, _ = _front_ds(synth, 400, inv_A=2.0, spread=0.1)
        bs = bootstrap(ds, n_resamples=200, window=(10.0, 1000.0))
        assert verdicts(bs)["front_verdict"].item() == "no" and verdicts(bs)["front_P"].item() == 0.0
        wide = verdicts(bs, confidence=0.999999)
        assert wide.attrs["confidence"] == 0.999999
        with pytest.raises(ValueError, match="confidence"):
            verdicts(bs, confidence=2.0)

    def test_a_not_significantly_positive_is_undetermined(self, synth):
        ds, _ = _front_ds(synth, 8, inv_A=30.0, spread=8.0, seed=3)
        bs = bootstrap(ds, n_resamples=300, window=(10.0, 1000.0))
        assert bs["A_lo"].item() <= 0 < bs["A_hi"].item()
        assert verdicts(bs)["front_verdict"].item() == "undetermined"

    def test_kappa_and_W_tilde_claims(self, synth):
        ds = _random_ds(synth, nr=20)
        bs = bootstrap(ds, n_resamples=100, r_th=0.05)
        vd = verdicts(bs)
        k = bs["kappa_samples"].values
        np.testing.assert_allclose(vd["kappa_P"], (k > np.log(4)).mean(0))
        Ws = bs["W"].values
        np.testing.assert_allclose(vd["W_tilde_P"], (Ws[None] > bs["W_tilde_samples"].values[:, None]).mean(0))
        assert set(vd["kappa_verdict"].values) <= {"yes", "no", "undetermined"}

    def test_censored_t_tilde_makes_kappa_undetermined(self, synth):
        t = synth.log_times(20)
        lnt = np.log(np.where(t > 0, t, 1.0))
        I0 = np.ones((2, 1, 5, t.size))
        Ig = np.empty_like(I0)
        Ig[0] = 1 - np.clip(0.05 * lnt, 0, 1)  # L = 4 crosses 0.17 at t ~ 30
        Ig[1] = 1 - np.clip(0.01 * lnt, 0, 1)  # L = 6 never reaches it by t = 1000
        Ig += 1e-3 * np.random.default_rng(0).standard_normal(Ig.shape)
        Ig[..., 0] = 1.0
        bs = bootstrap(synth.from_imbalance(I0, Ig, L=[4, 6], W=[1.0], times=t), n_resamples=50)
        b = bs.sel(L=6, W=1.0)
        assert bool(b["t_tilde_paper_censored"]) and np.isnan(b["t_tilde_paper"].item())
        assert b["t_tilde_paper_hi"].item() == np.inf and b["t_tilde_paper_P_censored"].item() == 1.0
        assert int(bs["kappa_n_censored"].item()) == 1
        assert verdicts(bs)["kappa_verdict"].item() == "undetermined"


class TestFrontGuard:
    @pytest.mark.parametrize("attrs", [{"unraveling": "jump"}, {"noise": "averaged"}])
    def test_jump_or_averaged_data_has_no_default_front(self, synth, attrs):
        ds, _ = _front_ds(synth, 5)
        ds.attrs.update(attrs)
        with pytest.raises(ValueError, match="mean-then-abs") as err:
            analysis.front(ds)
        assert str(next(iter(attrs.values()))) in str(err.value)
        assert analysis.front(ds, order="mean-then-abs")["h"].notnull().any()
        bs = bootstrap(ds, n_resamples=10)
        assert "A" not in bs and "unraveling" in bs.attrs["front_note"] and bs.attrs["front"] == 0
        with pytest.raises(ValueError, match="mean-then-abs"):
            bootstrap(ds, n_resamples=10, with_front=True)
        assert "A" in bootstrap(ds, n_resamples=10, order="mean-then-abs", window=(10.0, 1000.0))


def _plain_numpy_t_tilde(I0, Ig, t, r_th, idx):
    """The paper's t~ of one resample, written out: means, Ir, delete-one jackknife, first sample."""
    a, b = I0[idx], Ig[idx]
    n = len(idx)
    ir = 1 - b.mean(0) / a.mean(0)
    loo = np.array([1 - (b.sum(0) - b[i]) / (a.sum(0) - a[i]) for i in range(n)])
    err = np.sqrt((n - 1) / n * ((loo - loo.mean(0)) ** 2).sum(0))
    above = np.nonzero(ir - err > r_th)[0]
    return t[above[0]] if above.size else np.nan


class TestAgainstPlainNumpy:
    """An independent resampling of the shipped datasets, outside the package, agrees within ~20 %."""

    def test_alpha_error_on_mbl_threshold(self):
        ds = xr.load_dataset(ROOT / "datasets" / "mbl_threshold.nc")
        rng = np.random.default_rng(2024)
        t = ds.time.values
        Ls, Ws = ds.L.values, ds.W.values
        I = {}
        for L in Ls:
            sz = ds.sz.sel(L=L).isel(site=slice(0, int(L))).values  # (W, gamma, r, t, site)
            sign = (-1.0) ** np.arange(int(L))
            I[L] = 2 * (sz * sign).sum(-1) / L  # (W, gamma, r, t); NaN for realizations not run
        alphas = []
        for _ in range(300):
            y, x = [], []
            for L in Ls:
                for k, W in enumerate(Ws):
                    run = np.nonzero(np.isfinite(I[L][k, 0, :, 1]))[0]
                    idx = rng.choice(run, size=run.size, replace=True)
                    tt = _plain_numpy_t_tilde(I[L][k, 0], I[L][k, 1], t, 0.17, idx)
                    if np.isfinite(tt):
                        y.append(np.log(tt))
                        x.append(L * W)
            alphas.append(np.polyfit(x, y, 1)[0])
        bs = bootstrap(ds, n_resamples=300, seed=1)
        ours, theirs = float(bs["alpha_se"]), np.std(alphas, ddof=1)
        assert ours == pytest.approx(theirs, rel=0.2)

    def test_inv_A_errors_on_mbl_front(self):
        ds = xr.load_dataset(ROOT / "datasets" / "mbl_front.nc")
        L = int(ds.L.values[0])
        t = ds.time.values
        win = (t >= 20.0) & (t <= 1000.0)
        w = np.arange(L, dtype=float)  # j - 1
        rng = np.random.default_rng(99)
        bs = bootstrap(ds, n_resamples=400, seed=5, window=(20.0, 1000.0))
        for W in (2.0, 4.0, 6.0, 8.0):
            d = np.abs(ds.sz.sel(L=L, W=W).isel(gamma=0).values - ds.sz.sel(L=L, W=W).isel(gamma=1).values)
            inv = []
            for _ in range(400):
                idx = rng.integers(0, d.shape[0], d.shape[0])
                dS = d[idx].mean(0)  # (t, site)
                h = (dS[win] @ w) / dS[win].sum(1)
                inv.append(1 / np.polyfit(np.log(t[win]), h, 1)[0])
            assert float(bs["inv_A_se"].sel(L=L, W=W)) == pytest.approx(np.std(inv, ddof=1), rel=0.2), W


class TestSpeed:
    def test_thousand_resamples_of_the_shipped_threshold_run_are_fast(self):
        import time

        ds = xr.load_dataset(ROOT / "datasets" / "mbl_threshold.nc")
        start = time.perf_counter()
        bootstrap(ds, n_resamples=1000, order="mean-then-abs", window=(20.0, 1000.0))
        assert time.perf_counter() - start < 30.0  # target: well under a minute on one core
