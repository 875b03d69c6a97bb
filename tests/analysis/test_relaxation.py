"""Typical relaxation rate and kappa_Gamma (analysis.relaxation) on synthetic rates with known answers."""

import numpy as np
import pytest
from scipy import stats

from analysis import relaxation as ar
from analysis.fits import LN4
from analysis.resample import grid_counts


def _lognormal(n: int, mean_ln: float, sigma: float, seed: int) -> np.ndarray:
    return np.exp(np.random.default_rng(seed).normal(mean_ln, sigma, n))


@pytest.mark.parametrize("n", [9, 10])
def test_point_estimates_are_the_plain_mean_and_median_of_ln_gamma(n):
    rates = _lognormal(n, -10.0, 2.0, n)
    typical = ar.typical_rate(rates, L=10, W=8.0, n_resamples=200)
    assert typical.mean_ln == pytest.approx(np.mean(np.log(rates)), rel=1e-14)
    assert typical.median_ln == pytest.approx(np.median(np.log(rates)), rel=1e-14)
    assert typical.n == n
    assert typical.mean_ln_lo < typical.mean_ln < typical.mean_ln_hi
    assert typical.median_ln_lo <= typical.median_ln <= typical.median_ln_hi


def test_resampled_medians_are_the_medians_of_the_resamples():
    ln_rates = np.log(_lognormal(12, 0.0, 1.0, 3))
    medians = ar._resampled_medians(ln_rates, 50, 7, 12, 4.0)
    counts = grid_counts(ln_rates.size, 50, 7, 12, 4.0)
    expected = [np.median(np.repeat(ln_rates, row)) for row in counts]
    np.testing.assert_allclose(medians, expected, rtol=0, atol=0)


def test_mean_interval_matches_scipy_bootstrap():
    rates = _lognormal(400, -8.0, 1.5, 1)
    typical = ar.typical_rate(rates, L=12, W=6.0, n_resamples=4000, confidence=0.9)
    ref = stats.bootstrap((np.log(rates),), np.mean, confidence_level=0.9, n_resamples=4000, method="percentile",
                          random_state=np.random.default_rng(0)).confidence_interval
    half = 0.5 * (ref.high - ref.low)
    assert typical.mean_ln_lo == pytest.approx(ref.low, abs=0.1 * half)
    assert typical.mean_ln_hi == pytest.approx(ref.high, abs=0.1 * half)


@pytest.mark.parametrize("kappa, verdict", [(2.0, "yes"), (0.8, "no")])
def test_rate_decay_recovers_the_slope_and_judges_it_against_ln4(kappa, verdict):
    n, sigma = 300, 1.0
    small = np.exp(-kappa * 10 + np.random.default_rng(1).normal(0.0, sigma, n))
    large = np.exp(-kappa * 14 + np.random.default_rng(2).normal(0.0, sigma, n))
    decay = ar.rate_decay(small, large, L_small=10, L_large=14, W=8.0)
    assert decay.kappa == pytest.approx((np.log(small).mean() - np.log(large).mean()) / 4, rel=1e-13)
    assert decay.lo < kappa < decay.hi
    assert decay.hi - decay.lo == pytest.approx(2 * 1.96 * sigma * np.sqrt(2 / n) / 4, rel=0.2)
    assert decay.verdict == verdict
    assert decay.P == (1.0 if verdict == "yes" else 0.0)


def test_rate_decay_at_ln4_within_the_noise_is_undetermined():
    n, sigma = 50, 3.0
    small = np.exp(-LN4 * 8 + np.random.default_rng(3).normal(0.0, sigma, n))
    large = np.exp(-LN4 * 10 + np.random.default_rng(4).normal(0.0, sigma, n))
    decay = ar.rate_decay(small, large, L_small=8, L_large=10, W=20.0)
    assert decay.verdict == "undetermined"
    assert 0.05 < decay.P < 0.95


@pytest.mark.parametrize("bad", [[1.0, 0.0, 2.0], [1.0, np.nan], [1.0, -1e-9], [1.0], [[1.0, 2.0]]])
def test_unusable_rates_are_refused(bad):
    with pytest.raises(ValueError, match="rates must be"):
        ar.typical_rate(bad, L=8, W=4.0)


def test_sizes_must_increase():
    with pytest.raises(ValueError, match="L_small must be < L_large"):
        ar.rate_decay([1.0, 2.0], [1.0, 2.0], L_small=10, L_large=10, W=4.0)
