"""Rough cost model of one realization, for batch sizing, ``--dry-run`` estimates and the guards.

The constants are single-core measurements on the project's 2-vCPU development machine
(see ``benchmarks/``); they are meant to be right within a factor of ~2, which is all batch
sizing needs. A realization is the noisy run plus the (much cheaper) noiseless reference.

:func:`check_realization` is the guard that runs before anything is allocated: it refuses a run
whose memory per realization exceeds the machine's available memory (or ``max_memory``), whose
step count is absurd, or whose Chebyshev order (set by the spectral width of H0, i.e. by W, J and
Delta, times tau and t) would make one realization run for days. ``run_grid`` and ``--dry-run``
call it through the same planning function, so both give the same verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb, inf

from ensemble.engines import select
from ensemble.models.baths.dephasing import DephasingBath
from ensemble.models.xxz import XXZChain

__all__ = [
    "resolved_engine", "seconds_per_realization", "bytes_per_realization", "spectral_width_bound",
    "available_memory", "total_memory", "check_memory", "check_realization", "Verdict", "MAX_STEPS",
    "MEMORY_CALIBRATION", "WORKER_BASELINE", "WORKER_KILL_FRACTION",
    "MAX_ORDER_PER_STEP", "MAX_MATVECS", "MAX_PHASE_PER_STEP",
]

def resolved_engine(engine: str, delta: float, unraveling: str = "kick", noise: str = "trajectory") -> str:
    """The family ("manybody" or "gaussian") of the engine the registry selects for these flags.

    Asked of :func:`ensemble.engines.select`, never decided here: e.g. ``unraveling="jump"`` at
    delta = 0 runs the many-body jump engine, whose memory is the sector's, not the free fermions'.
    """
    return select(engine, unraveling, noise, XXZChain(delta=delta), DephasingBath()).FAMILY


def seconds_per_realization(
    L: int, delta: float, n_steps: int, engine: str = "auto", unraveling: str = "kick", noise: str = "trajectory"
) -> float:
    """Estimated single-core wall time (s) of one realization with ``n_steps`` steps (the engine's own
    estimate, :meth:`ensemble.engines.Engine.seconds`)."""
    chosen = select(engine, unraveling, noise, XXZChain(delta=delta), DephasingBath())
    return chosen.seconds(L, n_steps)


#: Measured peak resident memory above the baseline over the uncalibrated estimate, rounded up
#: (``benchmarks/memory_per_realization.py``: 1.41, 1.49, 1.24 at L = 18, 20, 22 with the entanglement
#: entropy stored; 1.15 at L = 24 without it, measured on a larger machine).
MEMORY_CALIBRATION = 1.5
#: Resident memory of a worker process before its first realization (imports of numpy, QuSpin, numba,
#: xarray and Dask, and an L = 4 realization: 286 MiB measured), rounded up.
WORKER_BASELINE = 300 * 2**20
#: The share of a local worker's memory limit (total memory / workers) at which Dask's nanny kills it.
WORKER_KILL_FRACTION = 0.95


def bytes_per_realization(L: int, delta: float, n_times: int, engine: str = "auto", *, calibrated: bool = True,
                          unraveling: str = "kick", noise: str = "trajectory") -> int:
    """Estimated peak working memory (bytes) of one realization plus its stored result.

    ``calibrated=False`` gives the bare count of the arrays, the selected engine's own
    (:meth:`ensemble.engines.Engine.working_bytes`: for the many-body engines the Sz table, the
    state vectors and the CSR matrix of H0), plus the result; by default it is scaled by
    :data:`MEMORY_CALIBRATION`, the measured ratio of the peak resident memory to that count
    (temporaries, allocator slack).
    """
    chosen = select(engine, unraveling, noise, XXZChain(delta=delta), DephasingBath())
    result = 2 * n_times * L * 8
    return int((result + chosen.working_bytes(L)) * (MEMORY_CALIBRATION if calibrated else 1.0))


#: The largest number of tau steps a run may take (1e8: ~50 x the paper's longest runs).
MAX_STEPS = 10**8
#: The largest Chebyshev argument tau * width(H0) / 2 per step (normal runs: 1-50). Beyond it
#: a tau step is many times the fastest time scale of H0 and each step costs thousands of matvecs.
MAX_ORDER_PER_STEP = 1000.0
#: The largest phase (radians) one step may rotate by, tau * width(H0) / 2 or a 6-sigma kick
#: gamma * 6 sqrt(tau): beyond it double precision (1e-16 relative) cannot resolve the phase.
MAX_PHASE_PER_STEP = 1e10
#: The largest number of H0 applications one many-body realization may need (~hours at L = 16).
MAX_MATVECS = 1e9
#: Chebyshev orders beyond the argument needed for the 1e-12 tail bound (a generous constant).
_ORDER_MARGIN = 20


def spectral_width_bound(L: int, W: float, delta: float, J: float) -> float:
    """An upper bound on E_max - E_min of H0 (units of J) for fields in [-W, W].

    Each field term h_j S^z_j spans at most W, each bond (J/2)(S^+S^- + h.c.) + J Delta S^z S^z
    at most |J| (1 + |Delta| / 2).
    """
    return L * W + (L - 1) * abs(J) * (1.0 + abs(delta) / 2.0)


def available_memory() -> int:
    """Bytes of memory available to new allocations on this machine (``psutil``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def total_memory() -> int:
    """Bytes of memory of this machine (``psutil``)."""
    import psutil

    return int(psutil.virtual_memory().total)


def check_memory(what: str, needed: float, max_memory: float | None) -> None:
    """Raise ``ValueError`` if ``needed`` bytes exceed ``max_memory`` GiB (default: what is free)."""
    if max_memory is None:
        limit = available_memory()
        source = "available on this machine (set max_memory, run.max_memory in a config, in GiB to override)"
    else:
        limit, source = max_memory * 2**30, f"allowed by max_memory={max_memory:g} GiB"
    if needed > limit:
        raise ValueError(f"{what} needs ~{needed / 2**20:.3g} MiB, more than the {limit / 2**20:.3g} MiB {source}")


@dataclass(frozen=True)
class Verdict:
    """The guard's estimates for one chain length, as printed by ``--dry-run``.

    Attributes
    ----------
    engine : str
        The engine that runs (``"manybody"`` or ``"gaussian"``).
    seconds, memory : float
        Single-core seconds and peak bytes of one realization.
    matvecs : float
        H0 applications per realization (many-body engine; 0 otherwise).
    concurrent : int or None
        Realizations that run at once on this machine (local workers); None when they run elsewhere.
    """

    engine: str
    seconds: float
    memory: float
    matvecs: float
    concurrent: int | None = None

    def summary(self) -> str:
        """One line: the estimates that the limits are compared with."""
        mv = f", ~{self.matvecs:.3g} H0 applications" if self.matvecs else ""
        at_once = ""
        if self.concurrent is not None and self.concurrent > 1:
            total = self.concurrent * (self.memory + WORKER_BASELINE)
            at_once = f" (x {self.concurrent} at once with the workers: ~{total / 2**20:.3g} MiB)"
        return f"~{self.seconds:.3g} s and ~{self.memory / 2**20:.3g} MiB per realization{at_once}{mv}"


def check_realization(
    *,
    L: int,
    W: float,
    delta: float,
    J: float,
    tau: float,
    gamma: float,
    n_steps: int,
    n_times: int,
    engine: str = "auto",
    unraveling: str = "kick",
    noise: str = "trajectory",
    max_memory: float | None = None,
    concurrent: int | None = 1,
    worker_memory: float | None = None,
) -> Verdict:
    """Refuse a realization that cannot finish or cannot fit, before anything is allocated.

    Parameters
    ----------
    L, W : int, float
        Chain length and the largest disorder strength of the grid.
    delta, J, tau, gamma : float
        Anisotropy, exchange coupling, Trotter step (1/J) and bath coupling.
    n_steps, n_times : int
        Steps up to the last sample time, and the number of sample times.
    engine, unraveling, noise : str
        As in :func:`ensemble.run_grid`.
    max_memory : float, optional
        GiB one realization may use; default: the memory available on this machine.
    concurrent : int or None
        Realizations that run at once on this machine: 1 in this process, the number of workers of
        a local cluster (one single-threaded worker each). Together, with a worker process's
        baseline each, they must fit the memory available here and stay below the share of the
        machine's memory at which Dask kills a local worker. None: they run elsewhere.
    worker_memory : float, optional
        Bytes per thread of the workers of a running scheduler (their ``memory_limit``), when known.

    Returns
    -------
    Verdict
        The estimates, when every limit holds.

    Raises
    ------
    ValueError
        Naming the parameter and the estimate that exceeds its limit.
    """
    resolved = resolved_engine(engine, delta, unraveling, noise)
    # beyond L ~ 500 the many-body sector's size does not even fit a float
    memory = (float(bytes_per_realization(L, delta, n_times, engine, unraveling=unraveling, noise=noise))
              if resolved == "gaussian" or L <= 512 else inf)
    engine_text = "many-body engine, sector dimension " + str(comb(L, L // 2)) if resolved == "manybody" else (
        "free-fermion engine")
    check_memory(f"one realization at L={L} ({engine_text})", memory, max_memory)
    if concurrent is not None and concurrent > 1:
        limit = min(available_memory(), WORKER_KILL_FRACTION * total_memory())
        need = concurrent * (memory + WORKER_BASELINE)
        if need > limit:
            raise ValueError(
                f"{concurrent} realizations at once at L={L} ({concurrent} workers, ~{memory / 2**20:.3g} MiB each "
                f"plus ~{WORKER_BASELINE / 2**20:.3g} MiB per worker process) need ~{need / 2**20:.3g} MiB, more "
                f"than the {limit / 2**20:.3g} MiB this machine can give them; use at most "
                f"{max(1, int(limit // (memory + WORKER_BASELINE)))} workers (--workers, run.workers)"
            )
    if worker_memory is not None and memory + WORKER_BASELINE > WORKER_KILL_FRACTION * worker_memory:
        raise ValueError(
            f"one realization at L={L} ({engine_text}) needs ~{(memory + WORKER_BASELINE) / 2**20:.3g} MiB with its "
            f"worker process, more than the {worker_memory / 2**20:.3g} MiB per thread the scheduler's workers have"
        )
    if n_steps > MAX_STEPS:
        raise ValueError(f"t_final / tau = {n_steps:.3g} steps exceeds the limit of {MAX_STEPS:.0e} steps "
                         f"(tau={tau:g}); use a larger tau or a smaller t_final")
    half_width = spectral_width_bound(L, W, delta, J) / 2.0
    per_step = tau * half_width
    matvecs = 0.0
    if resolved == "manybody":
        if per_step > MAX_ORDER_PER_STEP:
            raise ValueError(
                f"the Chebyshev order per step, tau * width(H0) / 2 ~ {per_step:.3g} (L={L}, W={W:g}, J={J:g}, "
                f"delta={delta:g}, tau={tau:g}), exceeds {MAX_ORDER_PER_STEP:g}: tau is far longer than the "
                "fastest time scale of H0"
            )
        # the kicked run steps tau at a time; the noiseless reference jumps between sample times
        matvecs = n_steps * (per_step + _ORDER_MARGIN) + n_steps * tau * half_width + n_times * _ORDER_MARGIN
        if matvecs > MAX_MATVECS:
            raise ValueError(
                f"one realization at L={L}, W={W:g} needs ~{matvecs:.3g} H0 applications (limit {MAX_MATVECS:.0e}): "
                "W, J, delta or t_final is too large for the many-body engine"
            )
    kick = 6.0 * gamma * tau**0.5
    if max(per_step, kick) > MAX_PHASE_PER_STEP:
        raise ValueError(
            f"one step rotates phases by up to ~{max(per_step, kick):.3g} rad (tau * width(H0) / 2 with L={L}, "
            f"W={W:g}, J={J:g}, delta={delta:g}, tau={tau:g}; kicks gamma={gamma:g}), more than the "
            f"{MAX_PHASE_PER_STEP:.0e} rad that double precision resolves"
        )
    return Verdict(engine=resolved, seconds=seconds_per_realization(L, delta, n_steps, engine, unraveling, noise),
                   memory=memory, matvecs=matvecs, concurrent=concurrent)
