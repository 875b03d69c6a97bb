"""Checkpoint directories: self-verifying part files, a run manifest and a lock.

A checkpoint directory holds

* ``part-L<L>-W<key>-r<first>-<last>.nc``: one netCDF file per finished batch at one (L, W), with
  each stored observable (``sz(realization, gamma, step, site)``, ``entanglement(realization, gamma,
  step)``, ``relaxation_rate(realization)``, ...: :func:`ensemble.observables.batch_dims`),
  ``field(realization, site)``, the
  realization indices as a coordinate, the run's *fingerprint* and a SHA-256 ``checksum`` of the
  indices and arrays. The fingerprint holds every parameter that determines the numbers of a
  realization except the grid itself (generated from the run specification,
  :meth:`ensemble.run.spec.RunSpec.fingerprint_params`), so a rerun with the same fingerprint reuses
  every realization on disk, even from a run with fewer realizations or grid points;
* ``run.json``: the fingerprint of the run the directory belongs to, written when it starts. A
  seedless run stores its fresh entropy there, and a resume without a seed picks it up;
* ``lock``: the pid and host of the live run using the directory (created exclusively).

On resume every part is verified. A part that cannot be opened, is not a part file, fails its
checksum, has the wrong shape, holds non-finite values or values no run produces
(:mod:`analysis.plausibility`: |Sz_j| > 1/2, Sz_tot != 0, not the start at t = 0), or overlaps
another part with different values is reported on stderr by file name, moved into ``rejected/``
and its realizations are recomputed. The checksum catches accidents (truncation, bit flips), not a
file altered on purpose and re-checksummed: the plausibility checks refuse the gross forgeries,
and only a recomputation proves a realization; overlapping identical parts are fine. A well-formed part of *another* run (another
fingerprint) is not touched: the run is refused with an error naming the file and the parameters
that differ. Files are netCDF, never pickles: opening a checkpoint never runs code.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import xarray as xr

from analysis import plausibility
from ensemble.io.atomic import interrupts_deferred, pid_alive, remove_stale_temporaries, temporary_name
from ensemble.observables import CHAIN_DIMS, batch_dims
from ensemble.run.seeds import w_key

logger = logging.getLogger(__name__)

__all__ = [
    "fingerprint", "explain_mismatch", "write_part", "load_parts", "PART_GLOB", "REJECTED", "MANIFEST",
    "read_manifest", "write_manifest", "Lock", "session", "checksum",
]

PART_GLOB = "part-*.nc"
REJECTED = "rejected"
MANIFEST = "run.json"
LOCK = "lock"


def fingerprint(**params) -> str:
    """Canonical JSON string of the parameters that determine a realization's numbers."""
    return json.dumps(params, sort_keys=True, default=lambda x: x.tolist() if hasattr(x, "tolist") else str(x))


def _part_name(L: int, W: float, first: int, last: int) -> str:
    return f"part-L{L}-W{w_key(W)}-r{first:07d}-{last:07d}.nc"


def checksum(realization: np.ndarray, arrays: dict[str, np.ndarray]) -> str:
    """``sha256:<hex>`` of the realization indices and the arrays (in name order, as float64)."""
    digest = hashlib.sha256(np.ascontiguousarray(realization, dtype=np.int64).tobytes())
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(arrays[name], dtype=np.float64).tobytes())
    return "sha256:" + digest.hexdigest()


def write_part(directory: Path, fp: str, L: int, W: float, steps: np.ndarray, batch: dict) -> Path:
    """Write one batch as ``part-...nc`` via a per-process temporary file and an atomic rename."""
    r = np.asarray(batch["realization"], dtype=np.int64)
    arrays = {name: values for name, values in batch.items() if name != "realization"}
    part = xr.Dataset(
        {name: (_part_dims(name), values) for name, values in arrays.items()},
        coords={"realization": r, "step": np.asarray(steps, dtype=np.int64)},
        attrs={"run_fingerprint": fp, "L": int(L), "W": float(W), "checksum": checksum(r, arrays)},
    )
    path = directory / _part_name(L, W, int(r[0]), int(r[-1]))
    tmp = temporary_name(path)
    try:
        with interrupts_deferred():  # the finished batch is saved, then a Ctrl-C or SIGTERM acts
            part.to_netcdf(tmp)
            os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # netCDF4 reports HDF errors (e.g. a full disk) as RuntimeError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        free = shutil.disk_usage(directory).free / 2**20
        message = f"cannot write the checkpoint part {path} ({reason}; {free:.3g} MiB free on {directory})"
        raise OSError(getattr(exc, "errno", None) or errno.EIO, message) from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _short(key: str, value) -> str:
    if key == "steps" and isinstance(value, list) and value:
        return f"{len(value)} sample steps up to {value[-1]}"
    return repr(value)


def explain_mismatch(theirs: str, ours: str) -> str:
    """The parameters in which two fingerprints differ, briefly (``"gamma: 1.0 there vs 2.0 now"``)."""
    try:
        a = json.loads(theirs)
    except ValueError:
        a = {}
    b = json.loads(ours)
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    text = ", ".join(f"{k}: {_short(k, a.get(k))} there vs {_short(k, b.get(k))} now" for k in diff[:3])
    if "steps" in diff:
        text += " (t_final, tau, n_times or times differ)"
    return text


class _Rejected(Exception):
    """A part file that cannot be trusted; the message says why."""


def _part_dims(name: str) -> tuple[str, ...]:
    if name == "field":
        return ("realization", "site")
    return batch_dims(name)


def _read_part(path: Path, fp: str, steps: np.ndarray, observables) -> tuple[int, float, np.ndarray, dict]:
    """(L, W, realizations, arrays) of a verified part; ``_Rejected`` or ``ValueError`` otherwise."""
    try:
        with xr.open_dataset(path) as part:
            part.load()
    except Exception as exc:  # netCDF4, h5py and xarray raise many types for broken files
        raise _Rejected(f"cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
    attrs = part.attrs
    needed = ("run_fingerprint", "L", "W", "checksum")
    if any(k not in attrs for k in needed) or any(v not in part for v in ("sz", "field", "realization")):
        raise _Rejected("is not a checkpoint part (missing fingerprint, checksum or variables)")
    if attrs["run_fingerprint"] != fp:
        raise ValueError(f"checkpoint part {path} belongs to a different run "
                         f"({explain_mismatch(str(attrs['run_fingerprint']), fp)}); use another checkpoint directory")
    L, W = int(attrs["L"]), float(attrs["W"])
    r = part.realization.values
    names = (*observables, "field")
    if any(name not in part for name in names):
        raise _Rejected("lacks a variable this run stores")
    arrays = {name: part[name].values for name in names}
    n = r.size
    sizes = {"realization": n, "gamma": 2, "step": steps.size, **{d: L for d in CHAIN_DIMS}}
    shapes = {name: tuple(sizes[d] for d in _part_dims(name)) for name in (*observables, "field")}
    if (r.dtype.kind not in "iu" or n == 0 or np.unique(r).size != n or r.min() < 0
            or "step" not in part.coords or not np.array_equal(part.step.values, steps)
            or any(arrays[k].shape != shapes[k] for k in names)):
        raise _Rejected("has the wrong shape, steps or realization indices")
    if checksum(r, arrays) != attrs["checksum"]:
        raise _Rejected("fails its checksum (the file was altered or corrupted)")
    if not all(np.all(np.isfinite(a)) for a in arrays.values()):
        raise _Rejected("holds non-finite values")
    neel = json.loads(fp).get("initial_state", "neel") == "neel"
    problems = {"sz": plausibility.sz_problem(arrays["sz"], starts_at_zero=steps[0] == 0, neel=neel)}
    if "entanglement" in arrays:
        problems["entanglement"] = plausibility.entanglement_problem(arrays["entanglement"], L,
                                                                     starts_at_zero=steps[0] == 0)
    for name in plausibility.RATE_VARIABLES:
        if name in arrays:
            problems[name] = plausibility.rate_problem(arrays[name], floor=plausibility.rate_floor(
                name, arrays, arrays.get))
    for name, problem in problems.items():
        if problem is not None:
            raise _Rejected(f"{name} {problem}: no run writes that (altered file?)")
    return L, W, r.astype(np.int64), arrays


def _reject(directory: Path, path: Path, reason: str) -> None:
    target_dir = directory / REJECTED
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    k = 1
    while target.exists():
        target = target_dir / f"{path.name}.{k}"
        k += 1
    os.replace(path, target)
    logger.warning("checkpoint: %s %s; moved to %s, its realizations will be recomputed", path, reason, target)


def load_parts(
    directory: Path, fp: str, steps: np.ndarray, observables: tuple[str, ...] = ("sz",)
) -> dict[tuple[int, float], dict[int, dict[str, np.ndarray]]]:
    """All verified realizations stored in ``directory`` as {(L, W): {r: {"field":, "sz":, ...}}}.

    ``observables`` are the stored quantities of the run; a part must hold each of them.

    Parts that fail verification are moved into ``directory/rejected/`` (see the module docstring).

    Raises
    ------
    ValueError
        If a part file was written by a run with other parameters.
    """
    steps = np.asarray(steps, dtype=np.int64)
    parts: dict[Path, tuple[int, float, np.ndarray, dict]] = {}
    for path in sorted(directory.glob(PART_GLOB)):
        try:
            parts[path] = _read_part(path, fp, steps, observables)
        except _Rejected as bad:
            _reject(directory, path, str(bad))
    owner: dict[tuple[int, float, int], Path] = {}
    conflicting: set[Path] = set()
    for path, (L, W, r, arrays) in parts.items():
        for k, index in enumerate(r):
            first = owner.setdefault((L, W, int(index)), path)
            if first != path:
                theirs = parts[first]
                j = int(np.flatnonzero(theirs[2] == index)[0])
                if any(not np.array_equal(arrays[n][k], theirs[3][n][j]) for n in arrays):
                    conflicting |= {first, path}
    for path in sorted(conflicting):
        _reject(directory, path, "overlaps another part with different values")
    found: dict[tuple[int, float], dict[int, dict[str, np.ndarray]]] = {}
    for path, (L, W, r, arrays) in parts.items():
        if path in conflicting:
            continue
        store = found.setdefault((L, W), {})
        for k, index in enumerate(r):
            store[int(index)] = {name: values[k] for name, values in arrays.items()}
    return found


def read_manifest(directory: Path) -> dict | None:
    """The fingerprint parameters recorded in ``directory/run.json``, or None if there is none.

    Raises
    ------
    ValueError
        If the manifest exists but cannot be read.
    """
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"checkpoint manifest {path} is unreadable ({exc}); delete it to start afresh") from None


def write_manifest(directory: Path, fp: str) -> None:
    """Record the run's fingerprint in ``directory/run.json`` (atomically)."""
    path = directory / MANIFEST
    tmp = temporary_name(path)
    try:
        tmp.write_text(fp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


#: Lock files this process holds, with their nesting depth (a lock is re-entrant within a process).
_HELD: dict[Path, int] = {}
#: Seconds a lock file may stay empty or unreadable before it counts as a crashed run's leftover.
_BEING_WRITTEN = 10.0


class Lock:
    """An exclusive lock file ``directory/lock`` holding the owner's pid, host and start time.

    A lock whose owner ran on this host and no longer exists is stale and taken over (with a
    warning through ``logging``), and so is one left empty or unreadable for more than 10 s (a crash between
    creating and writing it); a live one, or one from another host, refuses the second run. Within
    one process the lock is re-entrant: the command line holds it from the run to the written
    output, and the run inside takes it again.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK
        self.held = False

    def _key(self) -> Path:
        return self.path.resolve()

    def acquire(self) -> None:
        """Create the lock file, replacing a stale one.

        Raises
        ------
        ValueError
            If another live run (or a run on another host) holds the lock.
        OSError
            If the lock file cannot be created (a read-only directory), naming it.
        """
        if self.held:
            return
        if self._key() in _HELD:
            _HELD[self._key()] += 1
            self.held = True
            return
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                stale = self._stale(me["host"])
                if stale:
                    logger.warning("checkpoint: removing the stale lock %s %s", self.path, stale)
                    self.path.unlink(missing_ok=True)
                continue
            except OSError as exc:
                raise OSError(exc.errno, f"cannot create the lock file {self.path}: {exc.strerror}") from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            _HELD[self._key()] = 1
            self.held = True
            return
        raise ValueError(f"checkpoint {self.path.parent} is locked by another run that keeps restarting")

    def check(self) -> None:
        """Refuse if another live run holds the lock (a stale lock passes: the run will take it over).

        Raises
        ------
        ValueError
            As :meth:`acquire` would.
        """
        if self.path.exists() and self._key() not in _HELD:
            self._stale(socket.gethostname())

    def _stale(self, host: str) -> str:
        """Why an existing lock file is stale ("" if it vanished); raises if a live run holds it."""
        try:
            holder = json.loads(self.path.read_text())
            pid, their_host = int(holder["pid"]), str(holder["host"])
        except FileNotFoundError:
            return ""
        except (OSError, ValueError, KeyError, TypeError):
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                return ""
            if age < _BEING_WRITTEN:
                raise ValueError(f"checkpoint {self.path.parent} is being locked by another run") from None
            return f"(empty or unreadable for {age:.0f} s: a run that crashed while creating it)"
        if their_host == host and not pid_alive(pid):
            return f"of pid {pid} (no longer running)"
        raise ValueError(
            f"checkpoint {self.path.parent} is in use by pid {pid} on host {their_host} since "
            f"{holder.get('started', '?')}; wait for it, use another directory, or delete {self.path} "
            "if that run is gone"
        )

    def release(self) -> None:
        """Give the lock up; the file is removed when the outermost holder in this process releases it."""
        if not self.held:
            return
        self.held = False
        key = self._key()
        _HELD[key] = _HELD.get(key, 1) - 1
        if _HELD[key] <= 0:
            del _HELD[key]
            self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def session(directory: Path) -> Iterator[None]:
    """Hold the lock of ``directory`` (created if missing) for the block.

    Stale temporary files of crashed writers are removed once the lock is held. A directory this
    call created that holds no part when the block ends is removed again, so a run that saved
    nothing leaves nothing behind.

    Raises
    ------
    ValueError
        If another live run holds the directory.
    OSError
        If the directory or its lock cannot be created, naming the path.
    """
    directory = Path(directory)
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot create the checkpoint directory {directory}: {exc.strerror}") from None
    lock = Lock(directory)
    try:
        lock.acquire()
        if _HELD.get(lock._key()) == 1:  # the outermost holder tidies up
            remove_stale_temporaries(directory)
        yield
    finally:
        lock.release()
        if created and directory.is_dir() and not any(directory.glob(PART_GLOB)):
            (directory / MANIFEST).unlink(missing_ok=True)  # nothing was saved: leave nothing behind
            with contextlib.suppress(OSError):  # not empty: someone else's files, keep them
                directory.rmdir()
