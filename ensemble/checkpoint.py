"""Checkpoint part files: one netCDF file per finished batch, written atomically.

A part file holds ``sz(realization, gamma, time, site)`` and ``field(realization, site)`` of one
batch at one (L, W), and the run's *fingerprint*: every parameter that determines the numbers of a
realization except the grid itself (delta, gamma, tau, J, engine, unraveling, noise, seed entropy,
sample steps). A rerun with the same fingerprint reuses every realization already on disk, even
from a run with fewer realizations or fewer grid points; a part with another fingerprint is
refused with an error naming the parameter that differs. Files are netCDF, never pickles: opening
a checkpoint never runs code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["fingerprint", "write_part", "load_parts", "PART_GLOB"]

PART_GLOB = "part-*.nc"


def fingerprint(**params) -> str:
    """Canonical JSON string of the parameters that determine a realization's numbers."""
    return json.dumps(params, sort_keys=True, default=lambda x: x.tolist() if hasattr(x, "tolist") else str(x))


def _part_name(L: int, W: float, first: int, last: int) -> str:
    return f"part-L{L}-W{int(round(W * 1_000_000))}-r{first:07d}-{last:07d}.nc"


def write_part(directory: Path, fp: str, L: int, W: float, steps: np.ndarray, batch: dict) -> Path:
    """Write one batch as ``part-...nc`` via a temporary file and an atomic rename."""
    r = batch["realization"]
    part = xr.Dataset(
        {
            "sz": (("realization", "gamma", "step", "site"), batch["sz"]),
            "field": (("realization", "site"), batch["field"]),
        },
        coords={"realization": r, "step": np.asarray(steps, dtype=np.int64)},
        attrs={"run_fingerprint": fp, "L": int(L), "W": float(W)},
    )
    if "entanglement" in batch:
        part["entanglement"] = (("realization", "gamma", "step"), batch["entanglement"])
    path = directory / _part_name(L, W, int(r[0]), int(r[-1]))
    tmp = path.with_name(path.name + ".tmp")
    part.to_netcdf(tmp)
    os.replace(tmp, path)
    return path


def _explain_mismatch(theirs: str, ours: str) -> str:
    a, b = json.loads(theirs), json.loads(ours)
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k}: {a.get(k)!r} there vs {b.get(k)!r} now" for k in diff[:3])


def load_parts(directory: Path, fp: str) -> dict[tuple[int, float], dict[int, dict[str, np.ndarray]]]:
    """All realizations stored in ``directory`` as {(L, W): {r: {"field":, "sz":, ["entanglement":]}}}.

    Raises
    ------
    ValueError
        If a part file was written by a run with other parameters.
    """
    found: dict[tuple[int, float], dict[int, dict[str, np.ndarray]]] = {}
    for path in sorted(directory.glob(PART_GLOB)):
        with xr.open_dataset(path) as part:
            theirs = part.attrs.get("run_fingerprint", "{}")
            if theirs != fp:
                raise ValueError(
                    f"checkpoint part {path} belongs to a different run ({_explain_mismatch(theirs, fp)}); "
                    "use another checkpoint directory"
                )
            L, W = int(part.attrs["L"]), float(part.attrs["W"])
            arrays = {name: part[name].values for name in ("field", "sz", "entanglement") if name in part}
            store = found.setdefault((L, W), {})
            for k, r in enumerate(part.realization.values):
                store[int(r)] = {name: values[k] for name, values in arrays.items()}
    return found
