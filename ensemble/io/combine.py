"""Combine runs of one ensemble that were computed separately (sub-runs, allocations, machines).

A realization's numbers depend only on (root seed, L, W, realization index) and the run's physics
(see ``docs/design.md``, Randomness), so runs with the same *fingerprint* compose exactly: disjoint
(L, W) blocks, or the same block with more realizations. :func:`combine` checks that, refuses
anything else with an error that names the attribute or the block, and records every source in
the provenance.

What a source holds: at each (L, W) of its grid, realizations ``0 .. n_realizations[L] - 1``
(the Dataset schema); everything else is NaN padding. Overlapping blocks must agree bit for bit.
Every variable with a ``realization`` dimension is combined (``sz``, ``field``, ``entanglement``,
or the per-realization ``imbalance`` of a reduced Dataset), so reduced and full runs combine alike
as long as all sources carry the same variables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from analysis.plausibility import check_dataset
from ensemble.io.dataset import COMPRESSION, provenance_attrs

__all__ = ["combine", "FINGERPRINT_ATTRS"]

#: Attributes that every source must share exactly: they fix the numbers of a realization.
FINGERPRINT_ATTRS = (
    "delta", "J", "tau", "gamma", "t_final", "n_steps", "engine_resolved", "unraveling", "noise",
    "entanglement", "seed_entropy", "seed_scheme",
)
#: Attributes that describe one source only; they go into ``sources`` instead of the result's attrs.
_PER_SOURCE_ATTRS = ("created", "call", "command", "config", "git_revision", "versions", "sources")


def _open(source: str | Path | xr.Dataset, k: int) -> tuple[str, xr.Dataset]:
    if isinstance(source, xr.Dataset):
        return f"<Dataset {k}>", source
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"combine: {path} is not a file")
    try:
        with xr.open_dataset(path) as opened:
            _check_fits(path, opened.nbytes)
            return str(path), opened.load()
    except (OSError, ValueError) as exc:
        if str(exc).startswith("combine: "):
            raise
        raise ValueError(f"combine: cannot read {path} as netCDF ({str(exc).splitlines()[0]})") from None


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
    fp.update({key: ds.attrs.get(key) for key in FINGERPRINT_ATTRS})
    fp["time"] = ds.time.values.tolist()
    fp["gamma_coordinate"] = ds.gamma.values.tolist()
    fp["variables"] = sorted(name for name, var in ds.data_vars.items() if "realization" in var.dims)
    return fp


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
    """The held part of ``var`` at (L, W): realizations 0..n-1 and, on ``site``, sites 1..L."""
    sel = var.sel(L=L, W=W) if "W" in var.dims else var.sel(L=L)
    sel = sel.isel(realization=slice(0, n))
    if "site" in sel.dims:
        sel = sel.isel(site=slice(0, L))
    return sel.values


def combine(sources: Sequence[str | Path | xr.Dataset]) -> xr.Dataset:
    """Merge runs of one ensemble into one Dataset, bitwise.

    Parameters
    ----------
    sources : sequence of paths or Datasets
        Outputs of :func:`ensemble.run_grid` (or reduced forms of them, all of one kind) made with
        the same physics, seed, seed scheme, engine, unraveling, noise and sample times.

    Returns
    -------
    xarray.Dataset
        The union of the (L, W) grids, with ``n_realizations[L]`` the largest count held at L.
        ``attrs["sources"]`` is a JSON list with each source's name, grid and provenance.

    Raises
    ------
    ValueError
        If a source cannot be read, does not follow the Dataset schema or holds values no run
        produces (:func:`analysis.plausibility.check_dataset`), belongs to another run (naming the attribute that differs),
        holds a value that disagrees with another source on an overlapping realization (naming the
        variable and the block), or if the union is not rectangular (at one L, the W values would
        hold different numbers of realizations).
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
                if m and not _bitwise_equal(target[_first(held, m, L)], values[_first(held, m, L)]):
                    raise ValueError(
                        f"combine: {source_name} disagrees with an earlier source on {name} at L={L}, W={W:g} "
                        f"(realizations 0..{m - 1}); these are not runs of one ensemble"
                    )
                if n > have:
                    target[_first(held, n, L)] = values
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
    attrs.update(provenance_attrs(f"ensemble.combine({[name for name, _ in opened]!r})"))
    result.attrs = attrs
    for name in list(result.variables):
        template = ref_ds.variables.get(name)
        if template is not None:
            result[name].attrs.update(template.attrs)
    for name in names:
        result[name].encoding.update(COMPRESSION)
    return result


def _first(dims: tuple[str, ...], n: int, L: int) -> tuple[slice, ...]:
    """Index of realizations 0..n-1 and sites 1..L in an array with ``dims`` (L and W selected away)."""
    return tuple(slice(0, n) if d == "realization" else slice(0, L) if d == "site" else slice(None) for d in dims)


def _bitwise_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape and the same bits everywhere (NaN padding included)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    width = {4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    return bool(np.array_equal(np.ascontiguousarray(a).view(width), np.ascontiguousarray(b).view(width)))
