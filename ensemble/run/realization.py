"""One disorder realization: its fields, its start, the gamma = 0 reference and the bath run.

Plain numpy in, plain numpy out: no Dask, no xarray, so it can be run and tested on its own. The
engine (:mod:`ensemble.engines`) prepares H0 and its propagator once and shares them between the
two runs.
"""

from __future__ import annotations

import numpy as np

from ensemble.engines import FLAGS, Task
from ensemble.observables import OBSERVABLES, per_realization, sampled
from ensemble.run import seeds
from ensemble.run.spec import RunSpec

__all__ = ["RunSpec", "realization_task", "run_realization", "run_batch", "UNRAVELINGS", "NOISE_MODES"]

#: "kick": the paper's Gaussian kick per step; "jump": exact Z-flip unraveling of the same
#: channel (:mod:`ensemble.engines.jump`), exact for realization-averaged linear quantities only.
UNRAVELINGS = FLAGS["unraveling"]
#: "trajectory": one noise trajectory per realization; "averaged": the exact noise mean of the
#: stepper (Delta = 0, correlation matrix, :func:`ensemble.lindblad.averaged_magnetizations`).
NOISE_MODES = FLAGS["noise"]


def realization_task(spec: RunSpec, L: int, W: float, r: int) -> Task:
    """The engine's input for realization ``r`` at (L, W): fields and start from their keyed streams."""
    fields = spec.disorder.fields(L, W, seeds.fields_rng(spec.entropy, L, W, r))
    rng = seeds.initial_rng(spec.entropy, L, W, r) if spec.initial.RANDOM else None
    return Task(fields=fields, up_sites=spec.initial.up_sites(L, rng), steps=np.asarray(spec.steps, dtype=np.int64),
                chain=spec.chain, bath=spec.bath, observables=sampled(spec.observables))


def run_realization(spec: RunSpec, L: int, W: float, r: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run realization ``r`` at (L, W): the same fields and start for gamma = 0 and gamma.

    Returns
    -------
    fields : numpy.ndarray
        Shape (L,): h_j (units of J).
    observables : dict
        ``name -> array (2, n_times, *sample shape)``, index 0 the gamma = 0 reference; ``"sz"``
        has shape (2, n_times, L).
    """
    task = realization_task(spec, L, W, r)
    return task.fields, _engine(spec, L).run(task, seeds.noise_rng(spec.entropy, L, W, r))


def run_batch(spec: RunSpec, L: int, W: float, realizations: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Run several realizations at one grid point (one Dask task).

    Returns
    -------
    dict
        ``"realization"`` (n,), ``"field"`` (n, L), and each observable, e.g. ``"sz"`` (n, 2, n_times, L),
        ``"entanglement"`` (n, 2, n_times) and a per-realization one such as ``"relaxation_rate"`` (n,).
    """
    engine = _engine(spec, L)
    tasks = [realization_task(spec, L, W, r) for r in realizations]
    outs = engine.run_batch(tasks, [seeds.noise_rng(spec.entropy, L, W, r) for r in realizations])
    batch = {"realization": np.asarray(realizations, dtype=np.int64), "field": np.stack([t.fields for t in tasks])}
    batch.update({name: np.stack([o[name] for o in outs]) for name in sampled(spec.observables)})
    for name in per_realization(spec.observables):
        obs = OBSERVABLES.get(name)()
        batch[name] = np.array([obs.evaluate_realization(task) for task in tasks], dtype=np.float64)
    return batch


def _engine(spec: RunSpec, L: int):
    if spec.bath.site > L:
        raise ValueError(f"bath.site = {spec.bath.site} lies outside the chain of L = {L} sites")
    return spec.resolved_engine()
