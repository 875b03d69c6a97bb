"""``run_grid``: realizations over an (L, W) grid, mapped with ``dask.delayed``, into one Dataset.

Each task is a batch of realizations at one grid point, sized to a few seconds of work, with an
explicit key derived from its inputs (``realizations-L10-W8000000-r0-7-<run hash>``), so the
dashboard reads well and resubmission is idempotent. Tasks are pure: a worker that dies costs only
its tasks, which Dask reruns with identical results. Nothing here schedules, retries or moves data
itself: Dask does.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import dask
import numpy as np
import xarray as xr

from . import checkpoint as ckpt
from . import cost, seeds
from .cluster import connect
from .dataset import build_dataset, provenance_attrs
from .realization import RunSpec, run_batch

__all__ = ["run_grid", "sample_steps", "resolve_steps", "validate_grid", "auto_batch_size"]

#: Wall time one task aims at (seconds): long enough to amortize scheduling, short enough to balance.
TARGET_TASK_SECONDS = 5.0


def sample_steps(t_final: float, tau: float, n_times: int) -> np.ndarray:
    """Log-spaced sample steps from 1 to ``t_final / tau``, plus step 0 (t = 0).

    Rounding to the step grid can merge neighbouring early times, so fewer than ``n_times``
    steps may come back.
    """
    n_final = _steps_of(np.array([t_final]), tau, "t_final")[0]
    if n_times < 2:
        raise ValueError(f"n_times must be >= 2 (t = 0 and t_final); got n_times={n_times}")
    steps = np.unique(np.round(np.geomspace(1, n_final, n_times - 1)).astype(np.int64))
    return np.r_[0, steps]


def auto_batch_size(
    L: int, delta: float, n_steps: int, engine: str = "auto", unraveling: str = "kick", noise: str = "trajectory"
) -> int:
    """Realizations per task for about ``TARGET_TASK_SECONDS`` of single-core work."""
    seconds = cost.seconds_per_realization(L, delta, n_steps, engine, unraveling, noise)
    return max(1, int(TARGET_TASK_SECONDS / max(seconds, 1e-3)))


def _steps_of(times: np.ndarray, tau: float, name: str) -> np.ndarray:
    steps = np.round(times / tau)
    off = np.abs(steps * tau - times) > 1e-9 * np.maximum(1.0, np.abs(times))
    if np.any(off):
        raise ValueError(f"{name} must lie on the step grid t = n * tau (tau={tau}); got {times[off][:3]}")
    return steps.astype(np.int64)


def _as_list(value, name: str, kind: type) -> list:
    values = list(value) if isinstance(value, (Sequence, np.ndarray)) else [value]
    if not values:
        raise ValueError(f"{name} must not be empty")
    out = sorted({kind(v) for v in values})
    if len(out) != len(values):
        raise ValueError(f"{name} has duplicate values: {values}")
    return out


def resolve_steps(
    t_final: float | None, tau: float, n_times: int | None, times: Sequence[float] | None
) -> np.ndarray:
    """The sample steps of a run: explicit ``times`` (t = 0 added) or ``n_times`` log-spaced ones."""
    if times is not None:
        t = np.asarray(times, dtype=np.float64)
        if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
            raise ValueError("times must be finite, non-negative and strictly increasing")
        steps = _steps_of(t, tau, "times")
        steps = steps if steps[0] == 0 else np.r_[0, steps]
        if t_final is not None and not math.isclose(steps[-1] * tau, t_final):
            raise ValueError(f"t_final={t_final} disagrees with max(times)={steps[-1] * tau}")
    else:
        if t_final is None or not (math.isfinite(t_final) and t_final > 0):
            raise ValueError(f"t_final must be finite and > 0; got t_final={t_final!r}")
        steps = sample_steps(t_final, tau, n_times)
    if steps[-1] == 0:
        raise ValueError("the last sample time must be > 0")
    return steps


def validate_grid(L, W, n_realizations) -> tuple[list[int], list[float], dict[int, int]]:
    """Sorted ``L`` and ``W`` lists and realizations per L, after checking each value."""
    Ls = _as_list(L, "L", int)
    for value in Ls:
        if value < 2 or value % 2:
            raise ValueError(f"L must be even and >= 2 (Néel start, Sz_tot = 0); got L={value}")
    Ws = _as_list(W, "W", float)
    for value in Ws:
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"W must be finite and >= 0; got W={value}")
    if isinstance(n_realizations, Mapping):
        missing = [x for x in Ls if x not in n_realizations]
        if missing:
            raise ValueError(f"n_realizations has no entry for L={missing}")
        counts = {x: n_realizations[x] for x in Ls}
    else:
        counts = {x: n_realizations for x in Ls}
    for x, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n_realizations must be an integer >= 1; got {n!r} for L={x}")
    return Ls, Ws, {x: int(n) for x, n in counts.items()}


def _batches(missing: list[int], size: int) -> list[tuple[int, ...]]:
    """Split sorted realization indices into contiguous runs of at most ``size``."""
    out, current = [], []
    for r in missing:
        if current and (r != current[-1] + 1 or len(current) == size):
            out.append(tuple(current))
            current = []
        current.append(r)
    if current:
        out.append(tuple(current))
    return out


class _Progress:
    """One line of progress on stderr: batches, realizations, elapsed and remaining time."""

    def __init__(self, n_batches: int, n_realizations: int, enabled: bool) -> None:
        self.total, self.total_r, self.enabled = n_batches, n_realizations, enabled
        self.done = self.done_r = 0
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._last_print = -1.0

    def update(self, n_r: int) -> None:
        self.done += 1
        self.done_r += n_r
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        if not self.tty and self.done < self.total and elapsed - self._last_print < 10:
            return
        self._last_print = elapsed
        left = elapsed / self.done * (self.total - self.done)
        bar = "#" * int(30 * self.done / self.total)
        line = (
            f"[{bar:<30}] {self.done}/{self.total} batches, {self.done_r}/{self.total_r} realizations, "
            f"{elapsed:.0f} s elapsed, ~{left:.0f} s left"
        )
        end = "\n" if (not self.tty or self.done == self.total) else ""
        print(("\r" if self.tty else "") + line, end=end, file=sys.stderr, flush=True)


def _call_string(kwargs: dict) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k != "client" or isinstance(v, str))
    return f"ensemble.run_grid({shown})"


def run_grid(
    *,
    L: int | Sequence[int],
    W: float | Sequence[float],
    delta: float,
    gamma: float = 1.0,
    tau: float = 0.05,
    t_final: float | None = None,
    n_times: int = 60,
    times: Sequence[float] | None = None,
    n_realizations: int | Mapping[int, int],
    seed: int | None = None,
    J: float = 1.0,
    engine: str = "auto",
    unraveling: str = "kick",
    noise: str = "trajectory",
    entanglement: bool = False,
    client=None,
    n_workers: int | None = None,
    omp_threads: int = 1,
    checkpoint: str | Path | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> xr.Dataset:
    """Run the paired gamma = 0 / gamma ensemble on an (L, W) grid and return one Dataset.

    Parameters
    ----------
    L : int or sequence of int
        Even chain lengths.
    W : float or sequence of float
        Disorder strengths (fields uniform in [-W, W], units of J), >= 0.
    delta : float
        Anisotropy Delta (0: Anderson, run on free fermions by default; 1: Heisenberg).
    gamma : float
        Bath coupling (> 0); the gamma = 0 reference always runs on the same disorder.
    tau : float
        Trotter step (units of 1/J).
    t_final : float, optional
        Last sample time (on the step grid); required unless ``times`` is given.
    n_times : int
        Number of log-spaced sample times (t = 0 included) when ``times`` is not given.
    times : sequence of float, optional
        Explicit sample times, each a multiple of tau; t = 0 is added if missing.
    n_realizations : int or mapping L -> int
        Realizations per grid point (e.g. ``{8: 500, 16: 100}`` as in the paper).
    seed : int, optional
        Root entropy; None draws fresh entropy, recorded in ``attrs["seed_entropy"]``.
    J : float
        Exchange coupling.
    engine : {"auto", "manybody", "gaussian"}
        Trajectory engine (:func:`ensemble.magnetization_trajectory`).
    unraveling : {"kick", "jump"}
        ``"kick"``: the paper's Gaussian kick per step (default). ``"jump"``: the exact Z1-flip
        unraveling of the same channel (many-body engine, several times fewer matvecs); exact for
        realization-averaged linear quantities (I, Ir, t~, the mean-then-abs front), not for
        single trajectories nor the default abs-then-mean front.
    noise : {"trajectory", "averaged"}
        ``"trajectory"``: one noise trajectory per realization (default). ``"averaged"``
        (Delta = 0 only): the gamma run of each disorder realization is the exact noise average of
        the stepper (correlation-matrix solver), so only disorder fluctuates; again exact for the
        linear quantities only.
    entanglement : bool
        Also store ``entanglement(L, W, gamma, realization, time)``, the half-chain entanglement
        entropy (nats) of each trajectory (free-fermion engine, Delta = 0, only).
    client : None, str, ensemble.jobqueue.ClusterConfig or distributed.Client
        Where to run (:mod:`ensemble.cluster`): None starts a local cluster with the dashboard on
        127.0.0.1; an address connects to a scheduler; ``"synchronous"`` runs in-process; a
        ``ClusterConfig`` starts a TLS-secured local cluster or a batch-queue cluster (SLURM, PBS,
        SGE through dask-jobqueue) whose lost jobs are resubmitted.
    n_workers : int, optional
        Worker processes of the default local cluster.
    omp_threads : int
        Numeric threads per local worker (default 1, see docs/design.md "Threads").
    checkpoint : path, optional
        Directory for per-batch part files; a rerun computes only what is missing.
    batch_size : int, optional
        Realizations per task; default: about ``TARGET_TASK_SECONDS`` of work per task.
    progress : bool
        Print a progress line on stderr.

    Returns
    -------
    xarray.Dataset
        ``sz(L, W, gamma, realization, time, site)`` and ``field(L, W, realization, site)``
        (see :mod:`ensemble.dataset`), attributes holding every parameter and the provenance.
    """
    call = _call_string({k: v for k, v in locals().items()})
    Ls, Ws, counts = validate_grid(L, W, n_realizations)
    for name, value in (("tau", tau), ("gamma", gamma)):
        if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be finite and > 0; got {name}={value!r}")
    if not (isinstance(delta, numbers.Real) and math.isfinite(delta)):
        raise ValueError(f"delta must be finite; got delta={delta!r}")
    steps = resolve_steps(t_final, tau, n_times, times)
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    entropy = seeds.resolve_entropy(seed)
    spec = RunSpec(  # checks engine, unraveling, noise and their combinations
        entropy=entropy, steps=tuple(int(s) for s in steps), delta=float(delta), gamma=float(gamma),
        tau=float(tau), J=float(J), engine=engine, unraveling=unraveling, noise=noise,
        entanglement=bool(entanglement),
    )
    fp = ckpt.fingerprint(
        delta=spec.delta, gamma=spec.gamma, tau=spec.tau, J=spec.J, engine=engine, unraveling=unraveling,
        noise=noise, seed_entropy=str(entropy), steps=list(spec.steps), entanglement=spec.entanglement,
    )
    run_hash = hashlib.sha1(fp.encode()).hexdigest()[:10]

    stored: dict = {}
    directory = None
    if checkpoint is not None:
        directory = Path(checkpoint)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"checkpoint must be a directory; {directory} is a file")
        directory.mkdir(parents=True, exist_ok=True)
        stored = ckpt.load_parts(directory, fp)

    results: list[tuple[int, float, dict]] = []
    tasks: list[tuple[int, float, tuple[int, ...]]] = []
    for L_ in Ls:
        for W_ in Ws:
            have = stored.get((L_, W_), {})
            reused = sorted(r for r in have if r < counts[L_])
            if reused:
                batch = {"realization": np.array(reused, dtype=np.int64)}
                batch.update({name: np.stack([have[r][name] for r in reused]) for name in have[reused[0]]})
                results.append((L_, W_, batch))
            missing = [r for r in range(counts[L_]) if r not in have]
            size = batch_size or auto_batch_size(L_, delta, int(steps[-1]), engine, unraveling, noise)
            tasks += [(L_, W_, b) for b in _batches(missing, size)]

    if tasks:
        results += _execute(spec, tasks, steps, fp, run_hash, directory, client, n_workers, omp_threads, progress)

    attrs = {
        "title": "Disordered XXZ chain with a T = infinity bath on site 1: quantum trajectories",
        "conventions": "S = sigma/2; sites 1..L, site 1 = bath site; Neel start with site 1 up; "
        "time t = step * tau in units of 1/J; kick exp(-i eta gamma Sz_1), eta ~ N(0, tau); "
        "noise average = Lindblad with dephasing coefficient gamma^2/2",
        "delta": spec.delta, "J": spec.J, "tau": spec.tau, "gamma": spec.gamma,
        "t_final": float(steps[-1] * tau), "n_steps": int(steps[-1]),
        "engine": engine,
        "engine_resolved": cost.resolved_engine(engine, delta),
        "unraveling": unraveling, "noise": noise, "entanglement": int(spec.entanglement),
        "seed_entropy": str(entropy), "seed_scheme": seeds.SEED_SCHEME,
        "run_fingerprint": fp,
        **provenance_attrs(call),
    }
    return build_dataset(
        Ls=Ls, Ws=Ws, gamma=spec.gamma, steps=steps, tau=spec.tau, n_realizations=counts,
        batches=results, attrs=attrs,
    )


def _execute(spec, tasks, steps, fp, run_hash, directory, client, n_workers, omp_threads, show):
    """Run the tasks where ``client`` says, saving each finished batch as soon as it arrives."""
    delayed = [
        dask.delayed(run_batch, pure=True)(
            spec, L, W, rs, dask_key_name=f"realizations-L{L}-W{int(round(W * 1e6))}-r{rs[0]}-{rs[-1]}-{run_hash}"
        )
        for L, W, rs in tasks
    ]
    bar = _Progress(len(tasks), sum(len(rs) for _, _, rs in tasks), show)
    out = []

    def keep(task, batch):
        L, W, rs = task
        if directory is not None:
            ckpt.write_part(directory, fp, L, W, steps, batch)
        out.append((L, W, batch))
        bar.update(len(rs))

    with connect(client, n_workers=n_workers, omp_threads=omp_threads, verbose=show) as dask_client:
        try:
            if dask_client is None:
                for task, d in zip(tasks, delayed):
                    keep(task, d.compute(scheduler="synchronous"))
            else:
                from distributed import as_completed

                futures = dask_client.compute(delayed)
                index = {f.key: k for k, f in enumerate(futures)}
                for future, batch in as_completed(futures, with_results=True):
                    keep(tasks[index[future.key]], batch)
        except KeyboardInterrupt:
            if directory is not None:
                print(
                    f"\ninterrupted: {bar.done}/{bar.total} batches saved in {directory}; "
                    "run the same call again to resume",
                    file=sys.stderr,
                )
            else:
                print("\ninterrupted: no checkpoint directory was given, results are lost", file=sys.stderr)
            raise
    return out
