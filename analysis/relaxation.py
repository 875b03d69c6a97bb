"""Statistics of the slowest relaxation rate Gamma over disorder realizations (pure functions of arrays).

Gamma (units of J) is computed per realization by ``ensemble.references.relaxation``; 1/Gamma is the
slowest thermalization time t_s. Its distribution over realizations is broad (log-normal-like deep in
the localized phase), so the typical rate is taken on ln Gamma:

- :func:`typical_rate`: the mean and the median of ln Gamma at one (L, W), each with a percentile
  interval from resampling the realizations (the keyed draws of :func:`analysis.resample.grid_counts`).
- :func:`rate_decay`: ``kappa_Gamma = -d <ln Gamma> / dL`` between two sizes at one W, the
  realizations of each size resampled independently, and the verdict on the avalanche criterion
  ``kappa_Gamma > ln 4`` (Gamma falls faster than 4^(-L): the localized chain is stable against
  avalanches; Morningstar, Colmenarez, Khemani, Luitz and Huse, arXiv:2107.05642; Sels,
  arXiv:2108.10796), "yes" / "no" / "undetermined" with P = the fraction of resamples for which
  the claim holds.
- :func:`threshold_disorder`: ``W*_Gamma``, the disorder at which kappa_Gamma(W) from one pair of
  sizes first reaches ln 4 from below (linear interpolation in W), with its resampled interval.

- :func:`lower_bound_fraction`: per realization, whether a time scale of the ensemble (the threshold
  time t~, or t* = exp(L / 2A) from the front) lies below that realization's 1/Gamma, i.e. the
  fraction of realizations for which it is a lower bound of the slowest thermalization time, with
  the median of ``t Gamma`` and resampled intervals.

Rates must be finite and > 0. A rate at or below its resolution (``relaxation_resolution``) is not
resolved: it is known only to lie below the resolution. Given the resolutions, such a rate counts
as ``ln Gamma = -inf`` (it ranks below every resolved one, which is all the median needs); the mean
of ln Gamma is then undefined and reported as such (``mean_ln`` NaN with ``n_unresolved`` > 0),
never averaged silently. ``statistic="median"`` makes kappa_Gamma and W*_Gamma use the median, the
estimate that censoring leaves defined while fewer than half the rates are unresolved.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fits import LN4
from .resample import first_upward_crossing, grid_counts, interval, three_valued

__all__ = [
    "TypicalRate", "RateDecay", "ThresholdDisorder", "BoundFraction", "typical_rate", "rate_decay",
    "threshold_disorder", "lower_bound_fraction", "censored_ln_rates",
]
#: The estimates of the typical ln Gamma that kappa_Gamma and W*_Gamma can use.
STATISTICS = ("mean", "median")


@dataclass(frozen=True)
class TypicalRate:
    """Typical ln Gamma at one (L, W): point estimates and percentile intervals.

    Attributes
    ----------
    mean_ln, mean_ln_lo, mean_ln_hi : float
        Mean of ln Gamma over the realizations, and its interval.
        NaN when some rates are unresolved (the mean is then undefined).
    median_ln, median_ln_lo, median_ln_hi : float
        Median of ln Gamma (the middle order statistic, or the mean of the two middle ones), and
        its interval; -inf where the middle lies among unresolved rates.
    n : int
        Number of realizations.
    n_unresolved : int
        Rates at or below their resolution (0 when no resolutions were given).
    """

    mean_ln: float
    mean_ln_lo: float
    mean_ln_hi: float
    median_ln: float
    median_ln_lo: float
    median_ln_hi: float
    n: int
    n_unresolved: int = 0


@dataclass(frozen=True)
class RateDecay:
    """kappa_Gamma between two sizes at one W, and the verdict on kappa_Gamma > ln 4.

    Attributes
    ----------
    kappa, lo, hi : float
        ``-(<ln Gamma>(L_large) - <ln Gamma>(L_small)) / (L_large - L_small)`` and its interval.
    P : float
        Fraction of resamples with kappa_Gamma > ln 4.
    verdict : str
        "yes" (the whole interval above ln 4), "no" (below) or "undetermined".
    """

    kappa: float
    lo: float
    hi: float
    P: float
    verdict: str


@dataclass(frozen=True)
class ThresholdDisorder:
    """W*_Gamma from one pair of sizes: where kappa_Gamma(W) first reaches ln 4.

    Attributes
    ----------
    W_star, lo, hi : float
        The crossing and its interval; -inf where kappa_Gamma >= ln 4 already at the smallest W
        (the crossing lies below the grid), +inf where it never reaches ln 4 on the grid.
    """

    W_star: float
    lo: float
    hi: float


@dataclass(frozen=True)
class BoundFraction:
    """How often a time scale t of the ensemble lower-bounds a realization's slowest time 1/Gamma.

    Attributes
    ----------
    fraction, lo, hi : float
        Fraction of realizations with ``t <= 1/Gamma`` (``t Gamma <= 1``), and its resampled interval.
    median_ln_ratio, median_ln_ratio_lo, median_ln_ratio_hi : float
        Median of ``ln(t Gamma)`` over the realizations and its interval (< 0: t lies below the
        typical 1/Gamma). Unresolved rates count as -inf (t Gamma below any resolved value).
    verdict : str
        "yes" (t lower-bounds 1/Gamma for most realizations: the interval of ``fraction`` lies above
        1/2), "no" (below 1/2) or "undetermined".
    n : int
        Number of realizations.
    """

    fraction: float
    lo: float
    hi: float
    median_ln_ratio: float
    median_ln_ratio_lo: float
    median_ln_ratio_hi: float
    verdict: str
    n: int


def censored_ln_rates(rates, resolutions=None) -> np.ndarray:
    """ln Gamma per realization, -inf where a rate is at or below its resolution (not resolved).

    Raises
    ------
    ValueError
        If the rates are not a 1-D array of at least 2 finite positive numbers, or the resolutions
        are not finite, positive and of the same shape.
    """
    arr = np.asarray(rates, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError("rates must be a 1-D array of at least 2 realizations")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("rates must be finite and > 0 (drop or bound unresolved rates before averaging)")
    out = np.log(arr)
    if resolutions is not None:
        res = np.asarray(resolutions, dtype=float)
        if res.shape != arr.shape or not np.all(np.isfinite(res)) or np.any(res <= 0):
            raise ValueError("resolutions must be finite, > 0 and one per rate")
        out[arr <= res] = -np.inf
    return out


def _resampled_means(ln_rates: np.ndarray, n_resamples: int, seed: int, L: int, W: float) -> np.ndarray:
    counts = grid_counts(ln_rates.size, n_resamples, seed, L, W)
    return counts @ ln_rates / ln_rates.size


def _resampled_medians(ln_rates: np.ndarray, n_resamples: int, seed: int, L: int, W: float) -> np.ndarray:
    """Median of each resample (row 0: the data), from the counts of the sorted values."""
    n = ln_rates.size
    order = np.argsort(ln_rates, kind="stable")
    values = ln_rates[order]
    cumulative = np.cumsum(grid_counts(n, n_resamples, seed, L, W)[:, order], axis=1)
    low = np.argmax(cumulative >= (n - 1) // 2 + 1, axis=1)  # order statistic (n - 1) // 2, 0-based
    high = np.argmax(cumulative >= n // 2 + 1, axis=1)
    return 0.5 * (values[low] + values[high])


def typical_rate(rates, *, L: int, W: float, n_resamples: int = 2000, confidence: float = 0.95,
                 seed: int = 0, resolutions=None) -> TypicalRate:
    """Mean and median of ln Gamma over the realizations of one (L, W), with resampled intervals.

    Parameters
    ----------
    rates : array (n,)
        Gamma per realization, finite and > 0 (units of J).
    resolutions : array (n,), optional
        The resolution of each rate: rates at or below it count as unresolved (module docstring).
    L, W
        The grid point: they key the resampling draws (:func:`analysis.resample.grid_counts`).
    n_resamples, confidence, seed
        Resamples, interval level, root seed of the draws.

    Returns
    -------
    TypicalRate
    """
    ln_rates = censored_ln_rates(rates, resolutions)
    unresolved = int(np.isinf(ln_rates).sum())
    medians = _resampled_medians(ln_rates, n_resamples, seed, L, W)
    d_lo, d_hi = interval(medians[1:], confidence)
    if unresolved:
        m, m_lo, m_hi = np.nan, np.nan, np.nan
    else:
        means = _resampled_means(ln_rates, n_resamples, seed, L, W)
        m, (m_lo, m_hi) = means[0], interval(means[1:], confidence)
    return TypicalRate(float(m), float(m_lo), float(m_hi), float(medians[0]), float(d_lo), float(d_hi),
                       ln_rates.size, unresolved)


def rate_decay(rates_small, rates_large, *, L_small: int, L_large: int, W: float, n_resamples: int = 2000,
               confidence: float = 0.95, seed: int = 0, statistic: str = "mean", resolutions_small=None,
               resolutions_large=None) -> RateDecay:
    """kappa_Gamma = -d <ln Gamma> / dL from two sizes at one W, with the verdict against ln 4.

    Parameters
    ----------
    rates_small, rates_large : array
        Gamma per realization at ``L_small`` and ``L_large`` (finite, > 0).
    L_small, L_large : int
        The sizes, ``L_small < L_large``.
    W : float
        Disorder strength (keys the draws, with each L).
    n_resamples, confidence, seed
        As in :func:`typical_rate`.
    statistic : {"mean", "median"}
        The typical ln Gamma used: ``<ln Gamma>`` or its median.
    resolutions_small, resolutions_large : array, optional
        Resolutions of the rates (only with ``statistic="median"``: the mean of censored rates is
        undefined).

    Returns
    -------
    RateDecay
    """
    kappa = _kappa_samples(rates_small, rates_large, L_small, L_large, W, n_resamples, seed, statistic,
                           resolutions_small, resolutions_large)
    lo, hi = interval(kappa[1:], confidence)
    verdict = three_valued(np.array([lo]), np.array([hi]), LN4)[0]
    return RateDecay(float(kappa[0]), float(lo), float(hi), float((kappa[1:] > LN4).mean()), str(verdict))


def _kappa_samples(rates_small, rates_large, L_small: int, L_large: int, W: float, n_resamples: int,
                   seed: int, statistic: str = "mean", resolutions_small=None, resolutions_large=None) -> np.ndarray:
    """kappa_Gamma of the data (row 0) and of each resample (rows 1..); +inf where the larger size's
    typical rate is unresolved (it falls at least that fast), NaN where both are."""
    if not L_small < L_large:
        raise ValueError(f"L_small must be < L_large; got {L_small} and {L_large}")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}; got {statistic!r}")
    if statistic == "mean" and (resolutions_small is not None or resolutions_large is not None):
        raise ValueError('resolutions need statistic="median" (the mean of unresolved rates is undefined)')
    typical = _resampled_means if statistic == "mean" else _resampled_medians
    small = typical(censored_ln_rates(rates_small, resolutions_small), n_resamples, seed, L_small, W)
    large = typical(censored_ln_rates(rates_large, resolutions_large), n_resamples, seed, L_large, W)
    with np.errstate(invalid="ignore"):
        return -(large - small) / (L_large - L_small)


def threshold_disorder(Ws, rates_small, rates_large, *, L_small: int, L_large: int, n_resamples: int = 2000,
                       confidence: float = 0.95, seed: int = 0, statistic: str = "mean", resolutions_small=None,
                       resolutions_large=None) -> ThresholdDisorder:
    """W*_Gamma(L_small, L_large): the first upward crossing of kappa_Gamma(W) = ln 4, with its interval.

    Parameters
    ----------
    Ws : array (n_W,)
        Disorder strengths, strictly increasing.
    rates_small, rates_large : sequences of n_W arrays
        Gamma per realization at each W, for ``L_small`` and ``L_large``.
    L_small, L_large, n_resamples, confidence, seed, statistic
        As in :func:`rate_decay`; each (L, W) is resampled with its own keyed draws.
    resolutions_small, resolutions_large : sequences of n_W arrays, optional
        The rates' resolutions (``statistic="median"`` only).

    Returns
    -------
    ThresholdDisorder
    """
    Ws = np.asarray(Ws, dtype=float)
    if Ws.ndim != 1 or Ws.size < 2 or np.any(np.diff(Ws) <= 0):
        raise ValueError("Ws must hold at least 2 strictly increasing disorder strengths")
    if len(rates_small) != Ws.size or len(rates_large) != Ws.size:
        raise ValueError(f"rates_small and rates_large must hold one array per W ({Ws.size})")
    none = [None] * Ws.size
    kappa = np.stack([_kappa_samples(s, b, L_small, L_large, W, n_resamples, seed, statistic, rs, rb)
                      for W, s, b, rs, rb in zip(Ws, rates_small, rates_large, resolutions_small or none,
                                                 resolutions_large or none)], axis=-1)
    crossing = first_upward_crossing(Ws, kappa, LN4)
    lo, hi = interval(crossing[1:], confidence)
    return ThresholdDisorder(float(crossing[0]), float(lo), float(hi))


def lower_bound_fraction(t: float, rates, *, L: int, W: float, resolutions=None, n_resamples: int = 2000,
                         confidence: float = 0.95, seed: int = 0) -> BoundFraction:
    """Whether the time scale ``t`` (1/J) lower-bounds the slowest time 1/Gamma, realization by realization.

    Parameters
    ----------
    t : float
        A time of the ensemble at (L, W), finite and > 0: the threshold time t~, or t* = exp(L / 2A).
    rates : array (n,)
        Gamma per realization (units of J), finite and > 0.
    L, W : int, float
        The grid point (keys the resampling draws).
    resolutions : array (n,), optional
        The rates' resolutions; an unresolved rate has 1/Gamma above 1/resolution, so t lower-bounds it
        whenever ``t <= 1/resolution``, and counts as not bounded otherwise (the conservative side).
    n_resamples, confidence, seed
        As in :func:`typical_rate`.

    Returns
    -------
    BoundFraction
        The fraction of realizations with ``t Gamma <= 1`` and the median of ``ln(t Gamma)``, each with
        its interval from resampling the realizations; the verdict compares the fraction with 1/2.
    """
    t = float(t)
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"t must be finite and > 0; got {t}")
    ln_rates = censored_ln_rates(rates, resolutions)
    ln_ratio = np.log(t) + ln_rates
    below = ln_ratio <= 0.0
    if resolutions is not None:  # unresolved: Gamma < resolution, bounded exactly when t <= 1/resolution
        res = np.asarray(resolutions, dtype=float)
        below = np.where(np.isinf(ln_rates), t * res <= 1.0, below)
    counts = grid_counts(ln_rates.size, n_resamples, seed, L, W)
    fractions = counts @ below.astype(float) / ln_rates.size
    lo, hi = interval(fractions[1:], confidence)
    medians = _resampled_medians(ln_ratio, n_resamples, seed, L, W)
    m_lo, m_hi = interval(medians[1:], confidence)
    verdict = three_valued(np.array([lo]), np.array([hi]), 0.5)[0]
    return BoundFraction(float(fractions[0]), float(lo), float(hi), float(medians[0]), float(m_lo), float(m_hi),
                         str(verdict), ln_rates.size)
