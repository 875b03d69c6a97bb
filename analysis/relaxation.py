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

Rates must be finite and > 0: a rate that did not resolve (below the eigensolver's resolution) must
be dealt with before, never averaged silently.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fits import LN4
from .resample import first_upward_crossing, grid_counts, interval, three_valued

__all__ = ["TypicalRate", "RateDecay", "ThresholdDisorder", "typical_rate", "rate_decay", "threshold_disorder"]


@dataclass(frozen=True)
class TypicalRate:
    """Typical ln Gamma at one (L, W): point estimates and percentile intervals.

    Attributes
    ----------
    mean_ln, mean_ln_lo, mean_ln_hi : float
        Mean of ln Gamma over the realizations, and its interval.
    median_ln, median_ln_lo, median_ln_hi : float
        Median of ln Gamma (the middle order statistic, or the mean of the two middle ones), and
        its interval.
    n : int
        Number of realizations.
    """

    mean_ln: float
    mean_ln_lo: float
    mean_ln_hi: float
    median_ln: float
    median_ln_lo: float
    median_ln_hi: float
    n: int


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


def _ln_rates(rates) -> np.ndarray:
    arr = np.asarray(rates, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError("rates must be a 1-D array of at least 2 realizations")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("rates must be finite and > 0 (drop or bound unresolved rates before averaging)")
    return np.log(arr)


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
                 seed: int = 0) -> TypicalRate:
    """Mean and median of ln Gamma over the realizations of one (L, W), with resampled intervals.

    Parameters
    ----------
    rates : array (n,)
        Gamma per realization, finite and > 0 (units of J).
    L, W
        The grid point: they key the resampling draws (:func:`analysis.resample.grid_counts`).
    n_resamples, confidence, seed
        Resamples, interval level, root seed of the draws.

    Returns
    -------
    TypicalRate
    """
    ln_rates = _ln_rates(rates)
    means = _resampled_means(ln_rates, n_resamples, seed, L, W)
    medians = _resampled_medians(ln_rates, n_resamples, seed, L, W)
    m_lo, m_hi = interval(means[1:], confidence)
    d_lo, d_hi = interval(medians[1:], confidence)
    return TypicalRate(float(means[0]), float(m_lo), float(m_hi), float(medians[0]), float(d_lo), float(d_hi),
                       ln_rates.size)


def rate_decay(rates_small, rates_large, *, L_small: int, L_large: int, W: float, n_resamples: int = 2000,
               confidence: float = 0.95, seed: int = 0) -> RateDecay:
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

    Returns
    -------
    RateDecay
    """
    kappa = _kappa_samples(rates_small, rates_large, L_small, L_large, W, n_resamples, seed)
    lo, hi = interval(kappa[1:], confidence)
    verdict = three_valued(np.array([lo]), np.array([hi]), LN4)[0]
    return RateDecay(float(kappa[0]), float(lo), float(hi), float((kappa[1:] > LN4).mean()), str(verdict))


def _kappa_samples(rates_small, rates_large, L_small: int, L_large: int, W: float, n_resamples: int,
                   seed: int) -> np.ndarray:
    """kappa_Gamma of the data (row 0) and of each resample (rows 1..)."""
    if not L_small < L_large:
        raise ValueError(f"L_small must be < L_large; got {L_small} and {L_large}")
    small = _resampled_means(_ln_rates(rates_small), n_resamples, seed, L_small, W)
    large = _resampled_means(_ln_rates(rates_large), n_resamples, seed, L_large, W)
    return -(large - small) / (L_large - L_small)


def threshold_disorder(Ws, rates_small, rates_large, *, L_small: int, L_large: int, n_resamples: int = 2000,
                       confidence: float = 0.95, seed: int = 0) -> ThresholdDisorder:
    """W*_Gamma(L_small, L_large): the first upward crossing of kappa_Gamma(W) = ln 4, with its interval.

    Parameters
    ----------
    Ws : array (n_W,)
        Disorder strengths, strictly increasing.
    rates_small, rates_large : sequences of n_W arrays
        Gamma per realization at each W, for ``L_small`` and ``L_large``.
    L_small, L_large, n_resamples, confidence, seed
        As in :func:`rate_decay`; each (L, W) is resampled with its own keyed draws.

    Returns
    -------
    ThresholdDisorder
    """
    Ws = np.asarray(Ws, dtype=float)
    if Ws.ndim != 1 or Ws.size < 2 or np.any(np.diff(Ws) <= 0):
        raise ValueError("Ws must hold at least 2 strictly increasing disorder strengths")
    if len(rates_small) != Ws.size or len(rates_large) != Ws.size:
        raise ValueError(f"rates_small and rates_large must hold one array per W ({Ws.size})")
    kappa = np.stack([_kappa_samples(s, b, L_small, L_large, W, n_resamples, seed)
                      for W, s, b in zip(Ws, rates_small, rates_large)], axis=-1)
    crossing = first_upward_crossing(Ws, kappa, LN4)
    lo, hi = interval(crossing[1:], confidence)
    return ThresholdDisorder(float(crossing[0]), float(lo), float(hi))
