"""Physical plausibility of stored numbers: what any genuine run satisfies, whatever its parameters.

A checksum (checkpoint parts) catches accidents: a truncated or bit-flipped file. It cannot catch a
file that was changed on purpose and re-checksummed, nor a file that was never a run. These checks
refuse what no run of this package can produce, on every product start of the Sz_tot = 0 sector:

* every value of a run realization on a chain site is finite;
* ``|S^z_j(t)| <= 1/2`` (spins are S = sigma/2);
* ``sum_j S^z_j(t) = 0`` at every time (H0 and the bath kick conserve Sz_tot);
* at t = 0 every ``S^z_j`` is exactly +-1/2 (a product start), the same for both gamma members, and
  for the Néel start it is ``(-1)^(j+1) / 2``;
* the per-realization imbalance (reduced Datasets) lies in [-1, 1] and is 1 at t = 0;
* the half-chain entanglement entropy lies in [0, (L/2) ln 2] and is 0 at t = 0;
* a relaxation rate is positive and at most gamma^2 / 2, the dephasing coefficient (every
  Lindbladian eigenvalue has ``Re lambda >= -gamma^2 / 2``; the first-order Pauli gap is at most
  ``Ns / (Ns - 1)`` times the smallest outflow rate, itself at most ``gamma^2 / 4``); the exact gap
  exceeds minus its resolution (rounding leaves an unresolved gap of either sign); a resolution is
  positive.

They do not prove a file genuine: a value changed within these bounds (two compensating spins, a
plausible curve) passes. Only recomputing a realization from its seed proves it.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ._validate import is_reduced, require_schema
from .schema import initial_state

__all__ = ["sz_problem", "imbalance_problem", "entanglement_problem", "rate_problem", "check_dataset",
           "rate_floor", "RATE_VARIABLES"]

#: The per-realization rates a Dataset may hold (units of J; :mod:`ensemble.observables.relaxation`).
RATE_VARIABLES = ("relaxation_rate", "relaxation_resolution", "relaxation_rate_exact", "relaxation_resolution_exact")

#: Rounding allowed on |S^z_j| <= 1/2, on the t = 0 values and on the entropy bounds.
TOLERANCE = 1e-9
#: Allowed |sum_j S^z_j(t)| per site (rounding accumulated over up to 1e8 steps stays far below).
SZ_TOTAL_TOLERANCE = 1e-6


def _number_problem(values: np.ndarray) -> str | None:
    """Why ``values`` of run realizations are not numbers a run produces (type, finiteness), or None."""
    if values.dtype.kind not in "fiu":
        return f"holds {values.dtype} values, not numbers"
    if not np.all(np.isfinite(values)):
        return "holds non-finite values where realizations were run"
    return None


def sz_problem(sz: np.ndarray, *, starts_at_zero: bool, neel: bool) -> str | None:
    """Why ``sz`` cannot come from a run, or None.

    Parameters
    ----------
    sz : numpy.ndarray
        ``S^z_j(t)`` of run realizations on the chain sites only, shape ``(..., gamma, time, site)``
        with the two gamma members on the third-to-last axis.
    starts_at_zero : bool
        Whether ``time[0]`` is t = 0.
    neel : bool
        Whether the start is the Néel state (site 1 up).
    """
    sz = np.asarray(sz)
    if sz.dtype.kind in "fiu" and sz.size == 0:
        return "holds no value"
    problem = _number_problem(sz)
    if problem:
        return problem
    if np.max(np.abs(sz)) > 0.5 + TOLERANCE:
        return f"holds |Sz_j| = {np.max(np.abs(sz)):.6g} > 1/2"
    L = sz.shape[-1]
    total = np.max(np.abs(sz.sum(axis=-1)))
    if total > SZ_TOTAL_TOLERANCE * L:
        return f"violates Sz_tot = 0 (|sum_j Sz_j| up to {total:.3g})"
    if starts_at_zero:
        s0 = sz[..., 0, :]
        if np.max(np.abs(np.abs(s0) - 0.5)) > TOLERANCE:
            return "is not a product start at t = 0 (some |Sz_j(0)| != 1/2)"
        if np.max(np.abs(s0[..., 0, :] - s0[..., 1, :])) > TOLERANCE:
            return "has t = 0 values that differ between gamma = 0 and gamma"
        if neel and np.any(np.sign(s0) != np.where(np.arange(L) % 2 == 0, 1.0, -1.0)):
            return "is not the Néel start (site 1 up) at t = 0"
    return None


def imbalance_problem(imbalance: np.ndarray, *, starts_at_zero: bool) -> str | None:
    """Why a per-realization imbalance ``(..., time)`` of run realizations cannot come from a run, or None."""
    imbalance = np.asarray(imbalance)
    if imbalance.dtype.kind in "fiu" and imbalance.size == 0:
        return "holds no value"
    problem = _number_problem(imbalance)
    if problem:
        return problem
    if np.max(np.abs(imbalance)) > 1.0 + TOLERANCE:
        return f"holds |I| = {np.max(np.abs(imbalance)):.6g} > 1"
    if starts_at_zero and np.max(np.abs(imbalance[..., 0] - 1.0)) > TOLERANCE:
        return "is not 1 at t = 0"
    return None


def entanglement_problem(entropy: np.ndarray, L: int, *, starts_at_zero: bool) -> str | None:
    """Why half-chain entropies ``(..., time)`` at chain length ``L`` cannot come from a run, or None."""
    entropy = np.asarray(entropy)
    problem = _number_problem(entropy)
    if problem:
        return problem
    bound = L / 2 * math.log(2.0)
    if entropy.size and (np.min(entropy) < -TOLERANCE or np.max(entropy) > bound + TOLERANCE):
        return f"lies outside [0, (L/2) ln 2 = {bound:.4g}]"
    if starts_at_zero and entropy.size and np.max(np.abs(entropy[..., 0])) > TOLERANCE:
        return "is not 0 at t = 0 (a product start)"
    return None


def rate_problem(rates: np.ndarray, gamma: float | None = None, floor=0.0) -> str | None:
    """Why per-realization relaxation rates (units of J) cannot come from a run, or None
    (``gamma`` given: also the bound ``rate <= gamma^2 / 2``). A rate must exceed ``floor``: 0, or
    minus its resolution for the exact gap, which rounding leaves of either sign below it."""
    rates = np.asarray(rates)
    problem = _number_problem(rates)
    if problem:
        return problem
    if rates.size and np.any(rates <= floor):
        return f"holds a rate {np.min(rates):.3g} at or below {np.max(np.broadcast_to(floor, rates.shape)):.3g}"
    if gamma is not None and rates.size and np.max(rates) > gamma**2 / 2 * (1 + TOLERANCE):
        return f"holds a rate {np.max(rates):.6g} > gamma^2/2 = {gamma**2 / 2:.6g}"
    return None


def rate_floor(name: str, names, values):
    """The lower bound a rate variable must exceed: minus the exact gap's resolution where stored
    (``values(variable)`` reads it), -inf for an exact gap without it, else 0."""
    if name != "relaxation_rate_exact":
        return 0.0
    return -values("relaxation_resolution_exact") if "relaxation_resolution_exact" in names else -np.inf


def check_dataset(ds: xr.Dataset, what: str = "ds") -> None:
    """Refuse a Dataset that does not follow the schema or holds numbers no run can produce.

    Checks the variables, their dims and numeric types, the ``time`` axis (strictly increasing),
    ``n_realizations`` (integers in 1..size of ``realization``), and on each L the run realizations
    (indices below ``n_realizations[L]``, chain sites j <= L) with the rules of this module.

    Raises
    ------
    ValueError
        Naming ``what``, the variable and the L where a rule fails.
    """
    require_schema(ds, what)
    reduced = is_reduced(ds)
    main = "imbalance" if reduced else "sz"
    for name in (main, "n_realizations", "L", "time", *(() if reduced else ("site",))):
        if name not in ds.variables:
            raise ValueError(f"{what}: missing {name!r}")
        if ds[name].dtype.kind not in "fiu":
            raise ValueError(f"{what}: {name!r} holds {ds[name].dtype} values, not numbers")
    time = np.asarray(ds["time"].values, dtype=float)
    if time.size == 0 or not np.all(np.isfinite(time)) or np.any(np.diff(time) <= 0):
        raise ValueError(f"{what}: the time axis must be finite and strictly increasing; got "
                         f"{time[:4].tolist()}{' ...' if time.size > 4 else ''}")
    counts = ds["n_realizations"]
    if counts.dims != ("L",) or counts.dtype.kind not in "iu":
        raise ValueError(f"{what}: n_realizations must be integers along L")
    n_max = ds.sizes["realization"]
    Ls = np.asarray(ds["L"].values)
    if Ls.dtype.kind not in "iu" or np.any(Ls < 2) or (not reduced and np.any(Ls > ds.sizes["site"])):
        raise ValueError(f"{what}: coordinate L must hold chain lengths within the site axis; got {Ls.tolist()}")
    starts_at_zero = time[0] == 0.0
    neel = initial_state(ds) == "neel"
    for k, (L, n) in enumerate(zip(Ls.tolist(), counts.values.tolist())):
        if not 1 <= n <= n_max:
            raise ValueError(f"{what}: n_realizations at L={L} is {n}, outside 1..{n_max} (the realization axis)")
        if reduced:
            block = ds[main].isel(L=k, realization=slice(0, n)).transpose("W", "gamma", "realization", "time")
            problems = {main: imbalance_problem(block.values, starts_at_zero=starts_at_zero)}
        else:
            block = ds[main].isel(L=k, realization=slice(0, n), site=slice(0, L))
            block = block.transpose("W", "realization", "gamma", "time", "site")
            problems = {main: sz_problem(block.values, starts_at_zero=starts_at_zero, neel=neel)}
        if "entanglement" in ds.data_vars:
            S = ds["entanglement"].isel(L=k, realization=slice(0, n)).transpose(..., "time")
            problems["entanglement"] = entanglement_problem(S.values, L, starts_at_zero=starts_at_zero)
        for name in RATE_VARIABLES:
            if name in ds.data_vars:
                rates = ds[name].isel(L=k, realization=slice(0, n)).values
                bound = None if "resolution" in name else float(ds["gamma"].values[-1])
                problems[name] = rate_problem(rates, gamma=bound, floor=rate_floor(name, ds.data_vars, lambda v: (
                    ds[v].isel(L=k, realization=slice(0, n)).values)))
        for name, problem in problems.items():
            if problem is not None:
                raise ValueError(f"{what}: {name} at L={L} {problem}; not the output of a run")
