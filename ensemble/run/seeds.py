"""Random streams keyed by what a realization *is*, never by call order (docs/design.md, Randomness).

Realization r at grid point (L, W) draws from two independent ``numpy.random.SeedSequence``
children of the root entropy:

* stream 0, the disorder: ``h_j ~ U(-W, W)``, j = 1..L, in site order;
* stream 1, the noise: ``eta_n ~ N(0, tau)`` (standard deviation ``sqrt(tau)``), n = 1, 2, ...
  (or the waiting times of the jump unraveling);
* stream 2, a random initial state (:mod:`ensemble.models.initial_states`), only for starts that draw.

The disorder stream feeds the run's disorder law (:mod:`ensemble.models.disorder`); for the default
uniform law that is ``rng.uniform(-W, W, L)``.

The key ``(stream, L, round(W * 1e6), r)`` holds plain ints (never Python's salted ``hash``), so a
realization's numbers depend only on (entropy, L, W, r): not on the worker count, the batching,
the other grid points, gamma, tau or t_final (a generator fills a longer request with the same
leading values, so a longer run extends the same noise trajectory).
"""

from __future__ import annotations

import numpy as np

from ensemble import validation

__all__ = [
    "SEED_SCHEME", "INITIAL_STREAM", "resolve_entropy", "w_key", "fields_rng", "noise_rng", "initial_rng", "draw_fields",
    "draw_etas",
]

SEED_SCHEME = (
    "numpy SeedSequence(entropy, spawn_key=(stream, L, round(W*1e6), realization)); "
    "stream 0: fields h_j ~ U(-W, W) in site order; stream 1: noise eta_n ~ N(0, tau) in step order"
)


#: Appended to :data:`SEED_SCHEME` in the attributes of runs whose start is random (older runs keep
#: the scheme string they were made with, which combining compares).
INITIAL_STREAM = "; stream 2: the random initial state"


def resolve_entropy(seed: int | None) -> int:
    """The root entropy of a run: ``seed`` itself, or fresh entropy when ``seed`` is None."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    return validation.integer("seed", seed, minimum=0)


def w_key(W: float) -> int:
    """The integer that stands for W in seed keys, task keys and part names: ``round(W * 1e6)``.

    Two W values closer than ~5e-7 share it; :func:`ensemble.run.grid.validate_grid` refuses such grids.
    """
    return int(round(float(W) * 1_000_000))


def _key(stream: int, L: int, W: float, r: int) -> tuple[int, int, int, int]:
    return (stream, int(L), w_key(W), int(r))


def fields_rng(entropy: int, L: int, W: float, r: int) -> np.random.Generator:
    """Generator of the disorder of realization ``r`` at (L, W)."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=_key(0, L, W, r)))


def noise_rng(entropy: int, L: int, W: float, r: int) -> np.random.Generator:
    """Generator of the bath noise of realization ``r`` at (L, W)."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=_key(1, L, W, r)))


def initial_rng(entropy: int, L: int, W: float, r: int) -> np.random.Generator:
    """Generator of the random initial state of realization ``r`` at (L, W) (stream 2)."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=_key(2, L, W, r)))


def draw_fields(entropy: int, L: int, W: float, r: int) -> np.ndarray:
    """On-site fields h_j ~ U(-W, W) (units of J), shape (L,), index j - 1 = site j."""
    return fields_rng(entropy, L, W, r).uniform(-W, W, L)


def draw_etas(entropy: int, L: int, W: float, r: int, n_steps: int, tau: float) -> np.ndarray:
    """Noise increments eta_1..eta_n ~ N(0, tau) (variance tau), shape (n_steps,)."""
    return noise_rng(entropy, L, W, r).normal(0.0, np.sqrt(tau), n_steps)
