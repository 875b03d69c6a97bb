"""ds.avalanche: thin wrappers give the same results as the functions."""
from __future__ import annotations

import numpy as np
import xarray as xr

import analysis


def _ds(synth):
    rng = np.random.default_rng(2)
    t = synth.log_times(20)
    I0 = 0.7 + 0.05 * rng.standard_normal((2, 2, 4, t.size))
    ir = np.where(t > 0, np.clip(0.05 * np.log(np.where(t > 0, t, 1.0)) + 0.05, 0, 1), 0.0)
    Ig = I0 * (1 - ir) + 0.01 * rng.standard_normal(I0.shape)
    I0[..., 0] = Ig[..., 0] = 1.0
    return synth.from_imbalance(I0, Ig, L=[4, 6], W=[1.0, 2.0], times=t)


class TestAccessor:
    def test_registered_and_equal_to_functions(self, synth):
        ds = _ds(synth)
        acc = ds.avalanche
        assert isinstance(acc, analysis.AvalancheAccessor)
        xr.testing.assert_identical(acc.imbalance(), analysis.imbalance(ds))
        xr.testing.assert_identical(acc.relative_imbalance(), analysis.relative_imbalance(ds))
        xr.testing.assert_identical(acc.threshold_time(r_th=0.2), analysis.threshold_time(ds, r_th=0.2))
        xr.testing.assert_identical(
            acc.fit_threshold_scaling(), analysis.fit_threshold_scaling(analysis.threshold_time(ds))
        )
        xr.testing.assert_identical(acc.bootstrap(n_resamples=20), analysis.bootstrap(ds, n_resamples=20))
        xr.testing.assert_identical(acc.front(order="mean-then-abs"), analysis.front(ds, order="mean-then-abs"))
        xr.testing.assert_identical(acc.fit_front(1.0, 100.0), analysis.fit_front(analysis.front(ds), 1.0, 100.0))
        assert acc.suggest_window() == analysis.suggest_window(analysis.front(ds))
        xr.testing.assert_identical(acc.collapse(), analysis.collapse(ds))
        a, b = acc.report(window=(1.0, 100.0), n_resamples=20), analysis.report(ds, window=(1.0, 100.0), n_resamples=20)
        assert a.grid.equals(b.grid) and a.summary.equals(b.summary) and a.notes == b.notes
