"""Is h = A ln t? Local slope, linearity verdict and W*(window) on fronts of known shape, the Monte
Carlo error of P, and the paper's threshold options (unpaired error, no-intercept fit)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import analysis
from analysis import bootstrap
from analysis.linearity import default_windows, linearity, local_slope, near_cut, p_error, w_star_by_window

ROOT = Path(__file__).resolve().parents[2]
TWO_LN4 = 2 * np.log(4.0)


def _fronts(synth, h_r: np.ndarray, t: np.ndarray, L: int = 20, Ws=(1.0,)) -> xr.Dataset:
    """Dataset whose per-realization front is h_r (W, realization, time): dS on sites 1 and L with the
    same total in every realization, so the front of the realization mean is the mean of h_r."""
    nW, n, T = h_r.shape
    p = h_r / (L - 1)
    d = np.zeros((nW, n, T, L))
    d[..., 0] = 0.1 * (1 - p)
    d[..., -1] = 0.1 * p
    d[:, :, t == 0] = 0.0
    s0 = np.broadcast_to(synth.neel(L), (nW, n, T, L))
    sg = s0 - np.sign(s0) * d
    sz = np.stack([s0, sg], axis=1)[None]  # (L, W, gamma, r, t, site)
    return synth.make_dataset(sz, L=[L], W=list(Ws), times=t)


@pytest.fixture
def t(synth):
    return synth.log_times(46, t_final=1000.0)


def test_linear_front_has_a_flat_local_slope_and_no_convexity(synth, t):
    rng = np.random.default_rng(4)
    A = rng.uniform(0.3, 0.7, 30)
    lnt = np.log(np.where(t > 0, t, 1.0))
    h_r = (A[:, None] * lnt + 4.0)[None]
    bs = bootstrap(_fronts(synth, h_r, t), n_resamples=200, window=(20.0, 1000.0))
    sl = local_slope(bs)
    inside = np.isfinite(sl.slope.values[0, 0])
    assert inside.sum() > 30
    np.testing.assert_allclose(sl.slope.values[0, 0][inside], A.mean(), rtol=1e-9)
    lin = linearity(bs)
    assert lin.attrs["early"] == [10.0, 100.0] and lin.attrs["late"] == [100.0, 1000.0]
    np.testing.assert_allclose(lin.slope_ratio.values, 1.0, rtol=1e-9)
    # late - early is rounding noise around 0 in every resample: no claim either way
    assert lin.convex_verdict.item() == "undetermined"


@pytest.mark.parametrize("sign, verdict", [(1.0, "yes"), (-1.0, "no")])
def test_curved_front_slopes_match_an_independent_fit(synth, t, sign, verdict):
    rng = np.random.default_rng(5)
    a = rng.uniform(0.08, 0.12, 40)
    x = np.log(np.where(t > 0, t, 1.0)) + 4.0
    h_r = (9.0 + sign * a[:, None] * (x - 5.0) ** 2 * 0.5)[None]
    bs = bootstrap(_fronts(synth, h_r, t), n_resamples=300, window=(20.0, 1000.0))
    lin = linearity(bs)
    mean_h = h_r[0].mean(0)
    for name, (t0, t1) in zip(("slope_early", "slope_late"), default_windows(1000.0)):
        w = (t >= t0) & (t <= t1)
        expected = np.polyfit(np.log(t[w]), mean_h[w], 1)[0]
        np.testing.assert_allclose(lin[name].item(), expected, rtol=1e-9)
    assert lin.convex_verdict.item() == verdict
    assert lin.convex_P.item() == (1.0 if sign > 0 else 0.0)
    assert lin.convex_P_err.item() == 0.0


def test_w_star_of_a_logarithmic_front_does_not_depend_on_the_window(synth, t):
    rng = np.random.default_rng(6)
    lnt = np.log(np.where(t > 0, t, 1.0))
    # W = 1: A = 0.5 (1/A = 2); W = 2: A = 0.25 (1/A = 4): W* = 1 + (2 ln 4 - 2)/2
    A = np.stack([0.5 + 0.02 * rng.standard_normal(30), 0.25 + 0.01 * rng.standard_normal(30)])
    h_r = A[:, :, None] * lnt + 4.0
    bs = bootstrap(_fronts(synth, h_r, t, Ws=(1.0, 2.0)), n_resamples=200, window=(20.0, 1000.0))
    ws = w_star_by_window(bs, w=1.2)
    a1, a2 = A.mean(1)
    expected = 1.0 + (TWO_LN4 - 1 / a1) / (1 / a2 - 1 / a1)
    assert list(ws.t_min.values) == [1.0, 3.0, 10.0, 20.0, 50.0, 100.0, 200.0, 300.0]
    np.testing.assert_allclose(ws.W_star.values[0], expected, rtol=1e-9)
    np.testing.assert_allclose(ws.W_star.sel(t_min=20.0).item(), float(bs.W_star.item()), rtol=1e-12)
    assert (ws.P_above.values == 1.0).all()  # W* ~ 1.39 > 1.2 in every resample
    with pytest.raises(ValueError, match="no window start"):
        w_star_by_window(bs, starts=[999.0])


def test_linearity_refuses_data_without_the_front_and_short_windows(synth, t):
    I = np.ones((1, 1, 5, t.size))
    bs = bootstrap(synth.from_imbalance(I, 0.9 * I, L=[4], W=[1.0], times=t), n_resamples=20, with_front=False)
    with pytest.raises(ValueError, match="h_samples"):
        linearity(bs)
    h_r = np.log(np.where(t > 0, t, 1.0))[None, None].repeat(4, 1) + 4.0
    bs = bootstrap(_fronts(synth, h_r, t), n_resamples=20, window=(20.0, 1000.0))
    with pytest.raises(ValueError, match="early .* holds"):
        linearity(bs, early=(500.0, 600.0))
    with pytest.raises(ValueError, match="half_width"):
        local_slope(bs, half_width=0.0)


def test_monte_carlo_error_of_P_makes_verdicts_near_a_cut_undetermined():
    np.testing.assert_allclose(p_error(0.5, 1000), np.sqrt(0.25 / 1000))
    assert near_cut(np.array([0.975, 0.978, 0.5, 1.0, 0.024]), 1000, 0.95).tolist() == [True, True, False, False, True]


class TestThresholdOptions:
    @pytest.fixture(scope="class")
    def shipped(self):
        return xr.load_dataset(ROOT / "datasets" / "mbl_threshold.nc")

    def test_unpaired_error_is_the_papers_propagation_in_every_resample(self, shipped):
        ri = analysis.relative_imbalance(shipped, error="unpaired")
        bs = bootstrap(shipped, n_resamples=20, error="unpaired")
        np.testing.assert_allclose(bs.Ir_err.values, ri.Ir_err.transpose("L", "W", "time").values, rtol=1e-9)
        tt = analysis.threshold_time(ri)
        np.testing.assert_array_equal(bs.t_tilde_paper.values, tt.t_tilde.transpose("L", "W").values)
        paired = bootstrap(shipped, n_resamples=20)
        assert bs.attrs["error"] == "unpaired" and paired.attrs["error"] == "jackknife"
        # the unpaired error is larger, so Ir - err crosses later: never earlier
        assert (bs.t_tilde_paper.values >= paired.t_tilde_paper.values).all()
        with pytest.raises(ValueError, match="error must be"):
            bootstrap(shipped, n_resamples=20, error="paired")

    def test_fit_without_constant_is_least_squares_through_the_origin(self, shipped):
        bs = bootstrap(shipped, n_resamples=20)
        tt = bs.t_tilde_paper.transpose("L", "W").values
        LW = shipped.L.values[:, None] * shipped.W.values[None, :]
        ok = np.isfinite(tt)
        X, y = LW[ok].astype(float)[:, None], np.log(tt[ok])
        alpha0 = np.linalg.lstsq(X, y, rcond=None)[0][0]
        np.testing.assert_allclose(float(bs.alpha_origin), alpha0, rtol=1e-12)
        np.testing.assert_allclose(float(bs.W_tilde_origin), 2 * np.log(2) / alpha0, rtol=1e-12)
        assert bs.alpha_origin_samples.shape == (20,)


def _fake_bs(inv_A: np.ndarray) -> xr.Dataset:
    """The variables :func:`analysis.verdicts` reads, for one (L, W) with the given 1/A resamples."""
    B = inv_A.size
    return xr.Dataset(
        {"kappa_samples": (("resample", "W"), np.zeros((B, 1))),
         "t_tilde_paper_censored": (("L", "W"), np.zeros((1, 1), bool)),
         "W_tilde_samples": (("resample",), np.full(B, 100.0)),
         "A_samples": (("resample", "L", "W"), 1.0 / inv_A[:, None, None]),
         "inv_A_samples": (("resample", "L", "W"), inv_A[:, None, None])},
        coords={"L": [8], "W": [1.0], "resample": np.arange(B)},
        attrs={"confidence": 0.95, "definition": "paper"})


@pytest.mark.parametrize("n_above, verdict", [(976, "undetermined"), (990, "yes")])
def test_front_verdict_is_undetermined_where_P_is_within_its_error_of_the_cut(n_above, verdict):
    inv_A = np.where(np.arange(1000) < 1000 - n_above, 2.0, 4.0)
    vd = analysis.verdicts(_fake_bs(inv_A))
    # the interval alone says "yes" in both cases (its lower end is a resample above 2 ln 4)
    assert vd.front_P.item() == n_above / 1000
    np.testing.assert_allclose(vd.front_P_err.item(), np.sqrt(0.001 * n_above * (1 - 0.001 * n_above) / 1000))
    assert vd.front_verdict.item() == verdict


def test_report_says_whether_h_is_logarithmic_before_any_inverse_A():
    ds = xr.load_dataset(ROOT / "datasets" / "mbl_front.nc")
    rep = analysis.report(ds, window=(20.0, 1000.0), n_resamples=200)
    cols = list(rep.grid.columns)
    assert cols.index("convex_verdict") < cols.index("inv_A") and cols.index("slope_ratio") < cols.index("A")
    assert rep.notes[0].startswith("is h = A ln t?")
    lin = analysis.linearity(rep.bootstrap)
    np.testing.assert_allclose(rep.grid.slope_ratio, lin.slope_ratio.values.ravel())
    md = rep.to_markdown()
    assert md.index("h convex in ln t") < md.index("1/A [1/site]")
    ws = rep.summary[rep.summary.quantity == "W_star_window"]
    assert len(ws) == 8
    # the window [20, t_final] is the report's own window: the same W*
    np.testing.assert_allclose(ws[ws.t_min == 20.0].estimate.item(),
                               rep.summary[rep.summary.quantity == "W_star"].estimate.item())


def test_figures_and_accessor(synth, t):
    from analysis import plots
    rng = np.random.default_rng(7)
    lnt = np.log(np.where(t > 0, t, 1.0))
    A = np.stack([0.5 + 0.02 * rng.standard_normal(12), 0.25 + 0.01 * rng.standard_normal(12)])
    ds = _fronts(synth, A[:, :, None] * lnt + 4.0, t, Ws=(1.0, 2.0))
    bs = bootstrap(ds, n_resamples=50, window=(20.0, 1000.0))
    sl = analysis.local_slope(bs)
    fig = plots.fig4_local_slope(sl, ff=bs)
    ax = fig.axes[0]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["W = 1", "W = 2"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), float(bs.A.sel(W=1.0).item()))  # the fitted A, dashed
    ws = analysis.w_star_by_window(bs)
    assert len(plots.fig_w_star_window(ws).axes) == 1
    xr.testing.assert_identical(ds.avalanche.local_slope(n_resamples=50, window=(20.0, 1000.0)), sl)
    xr.testing.assert_identical(ds.avalanche.linearity(n_resamples=50, window=(20.0, 1000.0)), analysis.linearity(bs))
    xr.testing.assert_identical(ds.avalanche.w_star_by_window(n_resamples=50, window=(20.0, 1000.0)), ws)


def test_h_per_realization_is_the_mean_of_each_realizations_front():
    ds = xr.load_dataset(ROOT / "datasets" / "mbl_front.nc")
    fr = analysis.front(ds, h_of="realization")
    d = np.abs(ds.sz.isel(gamma=0) - ds.sz.isel(gamma=1)).sel(L=12).values  # (W, r, t, site)
    j = ds.site.values
    den = d.sum(-1)
    ok = den > 1e-10
    with np.errstate(invalid="ignore", divide="ignore"):
        h_r = np.where(ok, (d * (j - 1)).sum(-1) / np.where(ok, den, 1.0), 0.0)
        expected = h_r.sum(1) / ok.sum(1)
    expected[d.mean(1).sum(-1) <= 1e-10] = np.nan  # t = 0 and the first step: undefined
    np.testing.assert_allclose(fr.h.sel(L=12).values, expected, rtol=1e-12, equal_nan=True)
    assert not np.allclose(fr.h.values[..., 5:], analysis.front(ds).h.values[..., 5:])  # a different h
    bs = bootstrap(ds, n_resamples=20, window=(20.0, 1000.0), h_of="realization")
    np.testing.assert_allclose(bs.h.values, fr.h.values, rtol=1e-12, equal_nan=True)
    assert bs.attrs["h_of"] == "realization"
    with pytest.raises(ValueError, match="h_of='realization' needs order='abs-then-mean'"):
        analysis.front(ds, order="mean-then-abs", h_of="realization")
