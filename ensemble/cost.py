"""Rough cost model of one realization, for batch sizing and ``--dry-run`` estimates.

The constants are single-core measurements on the project's 2-vCPU development machine
(see ``benchmarks/``); they are meant to be right within a factor of ~2, which is all batch
sizing needs. A realization is the noisy run plus the (much cheaper) noiseless reference.
"""

from __future__ import annotations

from math import comb

__all__ = ["resolved_engine", "seconds_per_realization", "bytes_per_realization"]

#: Many-body Chebyshev stepper: seconds per step per (sector dimension x L), plus a per-step overhead
#: (benchmarks/stepper.py: 0.063 ms/step at L = 12, 1.17 ms/step at L = 16).
MANYBODY_SECONDS_PER_ENTRY = 6e-9
MANYBODY_SECONDS_PER_STEP = 5e-6
#: The jump unraveling needs ~35 matvecs per unit time instead of ~250 (benchmarks/stepper.py).
JUMP_COST_FRACTION = 0.2
#: Exact noise average at Delta = 0 (L x L correlation matrix): seconds per step per L^3.
AVERAGED_SECONDS_PER_ENTRY = 5e-11
#: Free-fermion engine: seconds per step per L^2 / 2 (eigenbasis rank-1 update), plus overhead.
GAUSSIAN_SECONDS_PER_ENTRY = 2e-9
GAUSSIAN_SECONDS_PER_STEP = 5e-6


def resolved_engine(engine: str, delta: float) -> str:
    """The engine that ``engine`` selects for this ``delta`` ("auto": gaussian iff delta == 0)."""
    if engine == "auto":
        return "gaussian" if delta == 0 else "manybody"
    return engine


def seconds_per_realization(
    L: int, delta: float, n_steps: int, engine: str = "auto", unraveling: str = "kick", noise: str = "trajectory"
) -> float:
    """Estimated single-core wall time (s) of one realization with ``n_steps`` steps."""
    if noise == "averaged":
        per_step = GAUSSIAN_SECONDS_PER_STEP + AVERAGED_SECONDS_PER_ENTRY * L**3
    elif resolved_engine(engine, delta) == "gaussian":
        per_step = GAUSSIAN_SECONDS_PER_STEP + GAUSSIAN_SECONDS_PER_ENTRY * L * L / 2
    else:
        per_step = MANYBODY_SECONDS_PER_STEP + MANYBODY_SECONDS_PER_ENTRY * comb(L, L // 2) * L
        if unraveling == "jump":
            per_step *= JUMP_COST_FRACTION
    return n_steps * per_step


def bytes_per_realization(L: int, delta: float, n_times: int, engine: str = "auto") -> int:
    """Estimated peak working memory (bytes) of one realization plus its stored result."""
    result = 2 * n_times * L * 8
    if resolved_engine(engine, delta) == "gaussian":
        work = 8 * L * L * 16  # a few L x L complex matrices
    else:
        ns = comb(L, L // 2)
        work = ns * (L * 8 + 6 * 16) + ns * L * 3 * 12  # Sz table, state vectors, CSR matrix
    return int(result + work)
