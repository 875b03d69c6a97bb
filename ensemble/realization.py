"""One disorder realization: its fields, the gamma = 0 reference and the bath run.

Plain numpy in, plain numpy out: no Dask, no xarray, so it can be run and tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import cost, seeds
from .trajectory import ENGINES, magnetization_trajectory

__all__ = ["RunSpec", "run_realization", "run_batch", "UNRAVELINGS", "NOISE_MODES"]

#: "kick": the paper's Gaussian kick per step; "jump": exact Z1-flip unraveling of the same
#: channel (:mod:`ensemble.jump`), exact for realization-averaged linear quantities only.
UNRAVELINGS = ("kick", "jump")
#: "trajectory": one noise trajectory per realization; "averaged": the exact noise mean of the
#: stepper (Delta = 0, correlation matrix, :func:`ensemble.lindblad.averaged_magnetizations`).
NOISE_MODES = ("trajectory", "averaged")


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """Everything but (L, W, r) that determines a realization's numbers.

    Frozen, hence hashable and cheap to ship to Dask workers.

    Attributes
    ----------
    entropy : int
        Root seed entropy (see :mod:`ensemble.seeds`).
    steps : tuple of int
        Sample steps, strictly increasing, starting at 0; times are ``steps * tau``.
    delta, gamma, tau, J : float
        Anisotropy, bath coupling (> 0), Trotter step (1/J), exchange coupling.
    engine : str
        ``"auto"``, ``"manybody"`` or ``"gaussian"`` (see :func:`magnetization_trajectory`).
    unraveling : str
        ``"kick"``: the paper's Gaussian kick exp(-i eta gamma Sz_1) per step (default);
        ``"jump"``: Z1 flips after geometric waiting times, the same noise average at fewer
        matvecs (many-body engine; exact for I, Ir, t~ and the mean-then-abs front only).
    noise : str
        ``"trajectory"``: one noise trajectory per realization (default); ``"averaged"``: the exact
        noise average of the stepper per disorder realization (Delta = 0 only).
    entanglement : bool
        Also record the half-chain entanglement entropy (natural log) of each trajectory, from
        the Gaussian state's correlation matrix (free-fermion engine only).
    """

    entropy: int
    steps: tuple[int, ...]
    delta: float
    gamma: float
    tau: float = 0.05
    J: float = 1.0
    engine: str = "auto"
    unraveling: str = "kick"
    noise: str = "trajectory"
    entanglement: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}; got engine={self.engine!r}")
        if self.unraveling not in UNRAVELINGS:
            raise ValueError(f"unraveling must be one of {UNRAVELINGS}; got {self.unraveling!r}")
        if self.noise not in NOISE_MODES:
            raise ValueError(f"noise must be one of {NOISE_MODES}; got {self.noise!r}")
        if self.engine == "gaussian" and self.delta != 0:
            raise ValueError(f"engine='gaussian' needs delta == 0; got delta={self.delta}")
        engine = cost.resolved_engine(self.engine, self.delta)
        if self.noise == "averaged" and (self.delta != 0 or self.unraveling != "kick"):
            raise ValueError("noise='averaged' needs delta == 0 and unraveling='kick' (Gaussian correlation matrix)")
        if self.unraveling == "jump" and engine != "manybody":
            raise ValueError("unraveling='jump' runs on the many-body engine: set engine='manybody' "
                             "(for delta == 0 at large L use noise='averaged')")
        if self.entanglement and (engine != "gaussian" or self.noise != "trajectory"):
            raise ValueError("entanglement=True needs the free-fermion engine (delta == 0) and noise='trajectory'")
        if not (np.isfinite(self.gamma) and self.gamma > 0):
            raise ValueError(
                f"gamma must be > 0 (the gamma = 0 reference is always run too); got gamma={self.gamma}"
            )
        if not (np.isfinite(self.tau) and self.tau > 0):
            raise ValueError(f"tau must be > 0; got tau={self.tau}")
        if not np.isfinite(self.delta):
            raise ValueError(f"delta must be finite; got delta={self.delta}")
        if len(self.steps) == 0 or self.steps[0] != 0 or np.any(np.diff(self.steps) <= 0):
            raise ValueError("steps must start at 0 and be strictly increasing")


def run_realization(spec: RunSpec, L: int, W: float, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run realization ``r`` at (L, W): same fields for gamma = 0 and gamma.

    Returns
    -------
    fields : numpy.ndarray
        Shape (L,): h_j (units of J).
    sz : numpy.ndarray
        Shape (2, n_times, L): <S^z_j>(t) for gamma = 0 (index 0) and gamma (index 1).
    entanglement : numpy.ndarray or None
        Shape (2, n_times): half-chain entanglement entropy (nats) when ``spec.entanglement``.
    """
    steps = np.asarray(spec.steps, dtype=np.int64)
    fields = seeds.draw_fields(spec.entropy, L, W, r)
    if spec.entanglement:
        from .gaussian import gaussian_trajectory

        etas = seeds.draw_etas(spec.entropy, L, W, r, int(steps[-1]), spec.tau)
        runs = [gaussian_trajectory(fields, etas, steps, gamma=g, tau=spec.tau, J=spec.J, cuts=[L // 2])
                for g in (0.0, spec.gamma)]
        return fields, np.stack([s.sz for s in runs]), np.stack([s.entropy[:, 0] for s in runs])
    common = dict(delta=spec.delta, tau=spec.tau, J=spec.J, engine=spec.engine)
    reference = magnetization_trajectory(fields, [], steps, gamma=0.0, **common)
    if spec.noise == "averaged":
        from .lindblad import averaged_magnetizations

        bath = averaged_magnetizations(fields, steps, gamma=spec.gamma, tau=spec.tau, J=spec.J)
    elif spec.unraveling == "jump":
        from .jump import jump_magnetizations

        rng = seeds.noise_rng(spec.entropy, L, W, r)
        bath = jump_magnetizations(fields, steps, delta=spec.delta, gamma=spec.gamma, tau=spec.tau, J=spec.J, rng=rng)
    else:
        etas = seeds.draw_etas(spec.entropy, L, W, r, int(steps[-1]), spec.tau)
        bath = magnetization_trajectory(fields, etas, steps, gamma=spec.gamma, **common)
    return fields, np.stack([reference, bath]), None


def run_batch(spec: RunSpec, L: int, W: float, realizations: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Run several realizations at one grid point (one Dask task).

    Returns
    -------
    dict
        ``"realization"`` (n,), ``"field"`` (n, L), ``"sz"`` (n, 2, n_times, L), and with
        ``spec.entanglement`` also ``"entanglement"`` (n, 2, n_times).
    """
    out = [run_realization(spec, L, W, r) for r in realizations]
    batch = {
        "realization": np.asarray(realizations, dtype=np.int64),
        "field": np.stack([f for f, _, _ in out]),
        "sz": np.stack([s for _, s, _ in out]),
    }
    if spec.entanglement:
        batch["entanglement"] = np.stack([e for _, _, e in out])
    return batch
