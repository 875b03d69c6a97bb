"""Synthetic Datasets of the schema in the README ("Data") for the analysis tests.

Tests get the builders through the ``synth`` fixture (``--import-mode=importlib`` forbids
importing conftest directly).
"""
from __future__ import annotations

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402


def log_times(n: int = 40, t_final: float = 1000.0, tau: float = 0.05) -> np.ndarray:
    """t = 0 plus n log-spaced multiples of tau up to t_final (integer steps, like the engine)."""
    steps = np.unique(np.round(np.geomspace(1, t_final / tau, n)).astype(int))
    return np.concatenate([[0.0], steps * tau])


def make_dataset(
    sz: np.ndarray, *, L, W, times, gamma: float = 1.0, tau: float = 0.05, field: np.ndarray | None = None
) -> xr.Dataset:
    """Dataset with ``sz`` (L, W, gamma, realization, time, site) and the schema's coordinates."""
    sz = np.asarray(sz, dtype=float)
    nL, nW, _, nr, nt, ns = sz.shape
    L = np.asarray(L, dtype=int)
    if field is None:
        field = np.zeros((nL, nW, nr, ns))
        field[np.isnan(sz[:, :, 0, :, 0, :])] = np.nan
    times = np.asarray(times, dtype=float)
    ds = xr.Dataset(
        {
            "sz": (("L", "W", "gamma", "realization", "time", "site"), sz,
                   {"long_name": "magnetization <Sz_j>", "units": "1"}),
            "field": (("L", "W", "realization", "site"), field, {"long_name": "field h_j/J", "units": "1"}),
        },
        coords={
            "L": ("L", L, {"long_name": "chain length", "units": "1"}),
            "W": ("W", np.asarray(W, dtype=float), {"long_name": "disorder strength W/J", "units": "1"}),
            "gamma": ("gamma", [0.0, gamma], {"long_name": "bath coupling gamma", "units": "1"}),
            "realization": np.arange(nr),
            "time": ("time", times, {"long_name": "time t·J", "units": "1"}),
            "step": ("time", np.round(times / tau).astype(int), {"long_name": "step", "units": "1"}),
            "site": ("site", np.arange(1, ns + 1), {"long_name": "site j", "units": "1"}),
        },
        attrs={"delta": 1.0, "tau": tau, "gamma": gamma, "J": 1.0},
    )
    return ds


def neel(n_sites: int) -> np.ndarray:
    """Sz_j = (-1)^(j+1)/2 for j = 1..n_sites."""
    j = np.arange(1, n_sites + 1)
    return 0.5 * (-1.0) ** (j + 1)


def from_imbalance(I0: np.ndarray, Ig: np.ndarray, *, L, W, times, gamma: float = 1.0) -> xr.Dataset:
    """Dataset whose imbalance is exactly I0, Ig (arrays (L, W, realization, time)).

    Sz_j = (-1)^(j+1) I / 2 on j <= L (so (2/L) sum (-1)^(j+1) Sz_j = I), NaN beyond L and where I is NaN.
    """
    I0, Ig = np.asarray(I0, float), np.asarray(Ig, float)
    ns = int(max(L))
    prof = neel(ns)  # (site,)
    sz = np.stack([I0, Ig], axis=2)[..., None] * prof  # (L, W, gamma, r, t, site)
    chain = np.arange(1, ns + 1)[None, :] <= np.asarray(L)[:, None]  # (L, site)
    sz = np.where(chain[:, None, None, None, None, :], sz, np.nan)
    return make_dataset(sz, L=L, W=W, times=times, gamma=gamma)


def from_front(h_target: np.ndarray, *, L: int, times, scale: float = 0.1, n_real: int = 3) -> xr.Dataset:
    """One (L, W=1) Dataset whose front length h(t) equals ``h_target`` (per time) exactly.

    dS is put on sites 1 (weight 0) and L (weight L-1): dS_L / (dS_1 + dS_L) = h / (L-1).
    Same profile in every realization; gamma = 0 is the Néel state. At t = 0 dS must be 0.
    """
    times = np.asarray(times, float)
    p = np.asarray(h_target, float) / (L - 1)
    d = np.zeros((times.size, L))
    d[:, 0] = scale * (1 - p)
    d[:, -1] = scale * p
    d[times == 0] = 0.0
    s0 = np.broadcast_to(neel(L), (times.size, L))
    sg = s0 - np.sign(s0) * d  # |s0 - sg| = d
    sz = np.stack([s0, sg])[None, None, :, None].repeat(n_real, axis=3)
    return make_dataset(sz, L=[L], W=[1.0], times=times)


@pytest.fixture
def synth() -> SimpleNamespace:
    """Builders of synthetic Datasets (see module docstring)."""
    return SimpleNamespace(
        log_times=log_times, make_dataset=make_dataset, neel=neel,
        from_imbalance=from_imbalance, from_front=from_front,
    )
