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


def _rates_over_W(Ws, kappa_of_W, L, n, sigma, seed):
    rng = np.random.default_rng(seed)
    return [np.exp(-kappa_of_W(W) * L + rng.normal(0.0, sigma, n)) for W in Ws]


def test_threshold_disorder_finds_where_kappa_gamma_reaches_ln4():
    """kappa_Gamma(W) = ln 4 * W / 10: the crossing is W* = 10, inside the interval."""
    Ws = np.array([4.0, 8.0, 12.0, 16.0, 20.0])
    law = lambda W: LN4 * W / 10.0  # noqa: E731
    small = _rates_over_W(Ws, law, 10, 200, 0.5, 1)
    large = _rates_over_W(Ws, law, 14, 200, 0.5, 2)
    found = ar.threshold_disorder(Ws, small, large, L_small=10, L_large=14)
    kappa = [ar.rate_decay(s, b, L_small=10, L_large=14, W=W).kappa for W, s, b in zip(Ws, small, large)]
    k = np.searchsorted(np.array(kappa) >= LN4, True)  # first W at or above ln 4 (kappa increases here)
    expected = Ws[k - 1] + (LN4 - kappa[k - 1]) * (Ws[k] - Ws[k - 1]) / (kappa[k] - kappa[k - 1])
    assert found.W_star == pytest.approx(expected, rel=1e-12)
    assert found.lo < 10.0 < found.hi
    assert found.W_star == pytest.approx(10.0, abs=0.5)


@pytest.mark.parametrize("scale, end", [(3.0, -np.inf), (0.1, np.inf)])
def test_threshold_disorder_outside_the_grid_is_an_open_end(scale, end):
    Ws = np.array([4.0, 8.0, 12.0])
    law = lambda W: LN4 * scale  # noqa: E731
    found = ar.threshold_disorder(Ws, _rates_over_W(Ws, law, 8, 50, 0.1, 3), _rates_over_W(Ws, law, 10, 50, 0.1, 4),
                                  L_small=8, L_large=10)
    assert found.W_star == end and found.lo == end and found.hi == end


def test_threshold_disorder_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match="one array per W"):
        ar.threshold_disorder([4.0, 8.0], [[1.0, 2.0]], [[1.0, 2.0], [1.0, 2.0]], L_small=8, L_large=10)
    with pytest.raises(ValueError, match="strictly increasing"):
        ar.threshold_disorder([8.0, 4.0], [[1.0, 2.0]] * 2, [[1.0, 2.0]] * 2, L_small=8, L_large=10)


class TestUnresolvedRates:
    """Rates at or below their resolution are censored: ranked lowest, never averaged."""

    def test_the_median_ranks_them_lowest_and_the_mean_is_undefined(self):
        rates = _lognormal(21, -20.0, 3.0, 5)
        resolutions = np.full(rates.size, np.sort(rates)[4])  # the 5 smallest are unresolved
        typical = ar.typical_rate(rates, L=12, W=16.0, n_resamples=300, resolutions=resolutions)
        assert typical.n_unresolved == 5 and np.isnan(typical.mean_ln) and np.isnan(typical.mean_ln_hi)
        assert typical.median_ln == np.median(np.log(rates))  # 5 of 21 censored below: the median is untouched
        assert typical.median_ln_lo <= typical.median_ln <= typical.median_ln_hi

    def test_a_majority_unresolved_gives_a_minus_infinite_median(self):
        rates = _lognormal(9, -20.0, 1.0, 6)
        typical = ar.typical_rate(rates, L=12, W=20.0, n_resamples=100, resolutions=np.full(9, rates.max()))
        assert typical.median_ln == -np.inf and typical.n_unresolved == 9

    def test_the_median_slope_with_censoring_and_the_mean_refused(self):
        small = np.exp(-2.0 * 10 + np.random.default_rng(1).normal(0.0, 1.0, 201))
        large = np.exp(-2.0 * 14 + np.random.default_rng(2).normal(0.0, 1.0, 201))
        res_large = np.full(large.size, np.quantile(large, 0.1))
        decay = ar.rate_decay(small, large, L_small=10, L_large=14, W=8.0, statistic="median",
                              resolutions_large=res_large)
        assert decay.kappa == pytest.approx((np.median(np.log(small)) - np.median(np.log(large))) / 4, rel=1e-13)
        assert decay.lo < 2.0 < decay.hi and decay.verdict == "yes"
        with pytest.raises(ValueError, match='statistic="median"'):
            ar.rate_decay(small, large, L_small=10, L_large=14, W=8.0, resolutions_large=res_large)
        with pytest.raises(ValueError, match="statistic must be one of"):
            ar.rate_decay(small, large, L_small=10, L_large=14, W=8.0, statistic="mode")


class TestLowerBoundFraction:
    def test_fraction_and_median_ratio_are_counted_exactly(self):
        rates = np.exp(-np.arange(1.0, 101.0))  # 1/Gamma = e^1 .. e^100
        bound = ar.lower_bound_fraction(np.exp(30.5), rates, L=10, W=8.0, n_resamples=500)
        assert bound.fraction == 0.7 and bound.n == 100  # t <= 1/Gamma for e^31 .. e^100
        assert bound.median_ln_ratio == pytest.approx(30.5 - 50.5, abs=1e-12)
        assert bound.lo < 0.7 < bound.hi and bound.verdict == "yes"
        assert ar.lower_bound_fraction(np.exp(80.5), rates, L=10, W=8.0, n_resamples=500).verdict == "no"

    def test_an_unresolved_rate_is_bounded_only_below_one_over_its_resolution(self):
        rates = np.array([1e-3, 1e-4, 1e-30, 1e-30])
        res = np.array([1e-20, 1e-20, 1e-20, 1e-20])
        assert ar.lower_bound_fraction(1e5, rates, L=8, W=4.0, resolutions=res, n_resamples=50).fraction == 0.5
        assert ar.lower_bound_fraction(1e25, rates, L=8, W=4.0, resolutions=res, n_resamples=50).fraction == 0.0

    def test_a_time_must_be_positive_and_finite(self):
        with pytest.raises(ValueError, match="t must be finite"):
            ar.lower_bound_fraction(np.inf, np.ones(3), L=8, W=4.0)
