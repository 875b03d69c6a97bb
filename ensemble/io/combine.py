"""Combine runs of one ensemble that were computed separately (sub-runs, allocations, machines).

A realization's numbers depend only on (root seed, L, W, realization index) and the run's physics
(see ``docs/design.md``, Randomness), so runs with the same *fingerprint* compose: disjoint (L, W)
blocks, or the same block with more realizations. :func:`combine` checks that, refuses anything
else with an error that names the attribute or the block, and records every source in the
provenance. Sources of any schema version are read as the current one
(:func:`analysis.schema.migrate`), so an old file and a fresh run of the same physics combine.

What a source holds: at each (L, W) of its grid, realizations ``0 .. n_realizations[L] - 1``
(the Dataset schema); everything else is NaN padding. Every variable with a ``realization``
dimension is combined (``sz``, ``field``, ``entanglement``, or the per-realization ``imbalance`` of
a reduced Dataset), so reduced and full runs combine alike as long as all sources carry the same
variables.

Overlaps: the same realization computed twice is bitwise identical on one machine, but another
CPU (or an engine that batches realizations) gives last-bit differences that grow over a long run
(measured: up to ~1e-12 in ``sz``; ``docs/reliability.md``, "Reproducibility"). Overlapping values
are therefore accepted when every stored value agrees within :data:`OVERLAP_TOLERANCE` (absolute;
for sources of different engine implementations, their truncation budget
:data:`ENGINE_TOLERANCE_PER_STEP` times the steps)
and the NaN padding is the same; the earlier source's values are kept and the result's attributes
say whether such a merge happened and the largest difference met. A larger difference means the
sources are not runs of one ensemble and is refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from analysis.plausibility import check_dataset
from analysis.schema import migrate
from ensemble.io.dataset import COMPRESSION, provenance_attrs
from ensemble.observables import CHAIN_DIMS

__all__ = ["combine", "FINGERPRINT_ATTRS", "OVERLAP_TOLERANCE", "ENGINE_TOLERANCE_PER_STEP"]

#: Largest absolute difference, in any stored value, between two sources' copies of one realization
#: that :func:`combine` accepts as the same numbers (last-bit differences between CPUs).
OVERLAP_TOLERANCE = 1e-10
#: Sources made by different engine implementations of one family (``engine_name``, e.g. the serial
#: many-body engine and the batched one) each evolve within ``STEP_TOLERANCE`` = 1e-12 (2-norm) per
#: step of the exact propagator, with different polynomials; their S^z then differ by at most
#: ``2 x 1e-12`` per step, which is the tolerance per step of the run (never below OVERLAP_TOLERANCE).
ENGINE_TOLERANCE_PER_STEP = 2e-12

#: Attributes that every source must share exactly: they fix the numbers of a realization.
FINGERPRINT_ATTRS = (
    "delta", "J", "tau", "gamma", "t_final", "n_steps", "engine_resolved", "unraveling", "noise",
    "entanglement", "seed_entropy", "seed_scheme",
)
#: Attributes that describe one source only; they go into ``sources`` instead of the result's attrs.
_PER_SOURCE_ATTRS = ("created", "call", "command", "config", "git_revision", "versions", "sources",
                     "schema_migrated_from", "overlap", "overlap_max_abs_difference", "overlap_tolerance")


def _open(source: str | Path | xr.Dataset, k: int) -> tuple[str, xr.Dataset]:
    if isinstance(source, xr.Dataset):
        name, ds = f"<Dataset {k}>", source
    else:
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"combine: {path} is not a file")
        try:
            with xr.open_dataset(path) as opened:
                _check_fits(path, opened.nbytes)
                name, ds = str(path), opened.load()
        except (OSError, ValueError) as exc:
            if str(exc).startswith("combine: "):
                raise
            raise ValueError(f"combine: cannot read {path} as netCDF ({str(exc).splitlines()[0]})") from None
    try:
        return name, migrate(ds)
    except ValueError as exc:
        raise ValueError(f"combine: {name}: {exc}") from None


def _check_fits(path: Path, nbytes: int) -> None:
    """Refuse a source whose arrays (compressed on disk) would not fit in the memory available."""
    import psutil

    available = psutil.virtual_memory().available
    if nbytes > available:
        raise ValueError(f"combine: {path} holds {nbytes / 2**30:.3g} GiB of arrays, more than the "
                         f"{available / 2**30:.3g} GiB of memory available")


def _fingerprint(ds: xr.Dataset) -> dict:
    """The parameters that fix the numbers; ``engine`` as resolved ("auto" at delta = 1 is "manybody")."""
    fp = json.loads(ds.attrs.get("run_fingerprint", "{}"))
    fp.pop("engine", None)
    fp.pop("engine_name", None)  # the implementation: how, not what, is computed (see _tolerance)
    fp.update({key: ds.attrs.get(key) for key in FINGERPRINT_ATTRS})
    fp["time"] = ds.time.values.tolist()
    fp["gamma_coordinate"] = ds.gamma.values.tolist()
    fp["variables"] = sorted(name for name, var in ds.data_vars.items() if "realization" in var.dims)
    return fp


def _tolerance(opened: list[tuple[str, xr.Dataset]]) -> float:
    """OVERLAP_TOLERANCE, or the engines' truncation budget when the sources' engine implementations differ."""
    names = {str(ds.attrs.get("engine_name", "")) for _, ds in opened}
    if len(names) <= 1:
        return OVERLAP_TOLERANCE
    n_steps = max(int(ds.attrs.get("n_steps", 0)) for _, ds in opened)
    return max(OVERLAP_TOLERANCE, ENGINE_TOLERANCE_PER_STEP * n_steps)


def _check_same_run(name: str, ds: xr.Dataset, ref_name: str, ref: dict) -> None:
    theirs = _fingerprint(ds)
    for key in sorted(set(theirs) | set(ref)):
        if theirs.get(key) != ref.get(key):
            a, b = str(ref.get(key)), str(theirs.get(key))
            a, b = (a[:60] + "...") if len(a) > 60 else a, (b[:60] + "...") if len(b) > 60 else b
            raise ValueError(
                f"combine: {name} is not the same run as {ref_name}: {key} is {b} there vs {a}"
            )


def _held(ds: xr.Dataset) -> dict[tuple[int, float], int]:
    """{(L, W): number of realizations held} for a source."""
    counts = dict(zip(ds.L.values.tolist(), ds.n_realizations.values.tolist()))
    return {(int(L), float(W)): int(counts[L]) for L in ds.L.values.tolist() for W in ds.W.values.tolist()}


def _block(var: xr.DataArray, L: int, W: float, n: int) -> np.ndarray:
    """The held part of ``var`` at (L, W): realizations 0..n-1 and, on the chain dims (``site``), sites 1..L."""
    sel = var.sel(L=L, W=W) if "W" in var.dims else var.sel(L=L)
    sel = sel.isel(realization=slice(0, n))
    sel = sel.isel({d: slice(0, L) for d in sel.dims if d in CHAIN_DIMS})
    return sel.values


def combine(sources: Sequence[str | Path | xr.Dataset]) -> xr.Dataset:
    """Merge runs of one ensemble into one Dataset.

    Parameters
    ----------
    sources : sequence of paths or Datasets
        Outputs of :func:`ensemble.run_grid` (or reduced forms of them, all of one kind) made with
        the same physics, seed, seed scheme, engine, unraveling, noise and sample times, written by
        any schema version.

    Returns
    -------
    xarray.Dataset
        The union of the (L, W) grids, with ``n_realizations[L]`` the largest count held at L; on
        an overlap the earlier source's values. ``attrs["sources"]`` is a JSON list with each
        source's name, grid and provenance. ``attrs["overlap"]`` is ``"none"`` (no realization held
        twice), ``"bitwise"`` (every overlap bit for bit the same) or ``"within tolerance"``;
        ``attrs["overlap_max_abs_difference"]`` is the largest absolute difference met on an
        overlap (also in the sources' own combines) and ``attrs["overlap_tolerance"]`` the tolerance
        applied: :data:`OVERLAP_TOLERANCE`, or, for sources of different engine implementations
        (``engine_name``, e.g. the serial and the batched many-body engines), the larger
        ``ENGINE_TOLERANCE_PER_STEP x n_steps``; ``attrs["engine_name"]`` then lists them.

    Raises
    ------
    ValueError
        If a source cannot be read or has a newer schema version, does not follow the Dataset schema
        or holds values no run produces (:func:`analysis.plausibility.check_dataset`), belongs to
        another run (naming the attribute that differs), holds a value that differs by more than the
        tolerance from another source's on an overlapping realization, or NaN where it holds a number
        (naming the variable, the block and the difference), or if the union is not rectangular (at
        one L, the W values would hold different numbers of realizations).
    """
    if len(sources) == 0:
        raise ValueError("combine: give at least one source")
    opened = [_open(s, k) for k, s in enumerate(sources)]
    for name, ds in opened:  # the schema, n_realizations and physically possible values, before any allocation
        check_dataset(ds, f"combine: {name}")
    ref_name, ref_ds = opened[0]
    ref_fp = _fingerprint(ref_ds)
    for name, ds in opened[1:]:
        _check_same_run(name, ds, ref_name, ref_fp)

    blocks: dict[tuple[int, float], int] = {}
    for _, ds in opened:
        for key, n in _held(ds).items():
            blocks[key] = max(n, blocks.get(key, 0))
    Ls = sorted({L for L, _ in blocks})
    Ws = sorted({W for _, W in blocks})
    counts: dict[int, int] = {}
    for L in Ls:
        per_w = {W: blocks.get((L, W), 0) for W in Ws}
        if len(set(per_w.values())) != 1:
            shown = ", ".join(f"W={W:g}: {n}" for W, n in per_w.items())
            raise ValueError(f"combine: at L={L} the sources hold different realization counts ({shown}); "
                             "run the missing realizations first")
        counts[L] = per_w[Ws[0]]

    n_r, n_sites = max(counts.values()), max(Ls)
    names = ref_fp["variables"]
    sizes = {"L": len(Ls), "W": len(Ws), "realization": n_r, "site": n_sites}
    out = {name: np.full([sizes.get(d, ref_ds.sizes[d]) for d in ref_ds[name].dims], np.nan,
                         dtype=ref_ds[name].dtype) for name in names}
    filled: dict[tuple[int, float], int] = {}
    overlap, largest = "none", max(float(ds.attrs.get("overlap_max_abs_difference", 0.0)) for _, ds in opened)
    tolerance = _tolerance(opened)
    for source_name, ds in opened:
        for (L, W), n in _held(ds).items():
            have = filled.get((L, W), 0)
            for name in names:
                dims = ref_ds[name].dims
                target = out[name][tuple(Ls.index(L) if d == "L" else Ws.index(W) if d == "W" else slice(None)
                                         for d in dims)]  # a view: only L and W are integer indices
                values = _block(ds[name], L, W, n)
                held = tuple(d for d in dims if d not in ("L", "W"))
                m = min(have, n)
                if m:
                    a, b = target[_first(held, m, L)], values[_first(held, m, L)]
                    if _bitwise_equal(a, b):
                        overlap = "bitwise" if overlap == "none" else overlap
                    else:
                        diff = _difference(a, b)
                        if not diff <= tolerance:
                            shown = "NaN where the other holds a number" if np.isnan(diff) else f"by up to {diff:.3g}"
                            raise ValueError(
                                f"combine: {source_name} differs from an earlier source on {name} at L={L}, "
                                f"W={W:g} (realizations 0..{m - 1}) {shown}, beyond the tolerance "
                                f"{tolerance:g}; these are not runs of one ensemble"
                            )
                        overlap, largest = "within tolerance", max(largest, diff)
                if n > have:  # the new realizations only: on the overlap the earlier source's values stay
                    new = _first(held, n, L, start=have)
                    target[new] = values[new]
            filled[(L, W)] = max(have, n)

    coords = {
        "L": ("L", np.asarray(Ls, dtype=np.int64)),
        "W": ("W", np.asarray(Ws, dtype=np.float64)),
        "gamma": ("gamma", ref_ds.gamma.values),
        "realization": ("realization", np.arange(n_r, dtype=np.int64)),
        "time": ("time", ref_ds.time.values),
        "step": ("time", ref_ds.step.values),
        "site": ("site", np.arange(1, n_sites + 1, dtype=np.int64)),
    }
    data = {name: (ref_ds[name].dims, out[name]) for name in names}
    data["n_realizations"] = ("L", np.array([counts[L] for L in Ls], dtype=np.int64))
    result = xr.Dataset(data, coords=coords)
    attrs = {k: v for k, v in ref_ds.attrs.items() if k not in _PER_SOURCE_ATTRS}
    record = []
    for name, ds in opened:
        entry = {"source": name, "L": ds.L.values.tolist(), "W": ds.W.values.tolist(),
                 "n_realizations": ds.n_realizations.values.tolist()}
        entry.update({k: str(ds.attrs[k]) for k in _PER_SOURCE_ATTRS if k in ds.attrs})
        record.append(entry)
    attrs["sources"] = json.dumps(record)
    if any(ds.attrs.get("overlap") == "within tolerance" for _, ds in opened):  # a source's own combine
        overlap = "within tolerance"
    attrs.update(overlap=overlap, overlap_max_abs_difference=largest, overlap_tolerance=tolerance)
    if len({str(ds.attrs.get("engine_name", "")) for _, ds in opened}) > 1:
        attrs["engine_name"] = ",".join(sorted({str(ds.attrs.get("engine_name", "")) for _, ds in opened}))
    attrs.update(provenance_attrs(f"ensemble.combine({[name for name, _ in opened]!r})"))
    result.attrs = attrs
    for name in list(result.variables):
        template = ref_ds.variables.get(name)
        if template is not None:
            result[name].attrs.update(template.attrs)
    for name in names:
        result[name].encoding.update(COMPRESSION)
    return result


def _first(dims: tuple[str, ...], n: int, L: int, start: int = 0) -> tuple[slice, ...]:
    """Index of realizations start..n-1 and sites 1..L in an array with ``dims`` (L and W selected away)."""
    return tuple(slice(start, n) if d == "realization" else slice(0, L) if d in CHAIN_DIMS else slice(None)
                 for d in dims)


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a - b| where both hold numbers; NaN if one holds NaN where the other does not."""
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("nan")
    both = ~np.isnan(a)
    return float(np.max(np.abs(a[both] - b[both]), initial=0.0))


def _bitwise_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape and the same bits everywhere (NaN padding included)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    width = {4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    return bool(np.array_equal(np.ascontiguousarray(a).view(width), np.ascontiguousarray(b).view(width)))
