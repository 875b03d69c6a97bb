"""Regenerate the numbers of docs/validation.md: trajectory average vs exact noise average.

    python benchmarks/validation.py            # the test cases of tests/ensemble/test_lindblad.py
    python benchmarks/validation.py --scale 4  # 4x the trajectories (SE halves, literal z doubles)

Prints, for the many-body engine (L = 6, Delta = 1, W = 2) and the Gaussian engine (L = 20,
Delta = 0, W = 2), t = 1..20 every 1, gamma = 1, tau = 0.05, the rms and max of
|trajectory mean - exact| / SE against the stepper mean with the coefficient gamma^2/2 (what the
stepper produces) and gamma^2 (paper Eq. 2 as printed); then the Trotter table (stepper mean vs
continuous Lindbladian) and the cost of the L = 10 many-body Lindblad solve. Seeds as in the tests.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg as la  # noqa: E402

from ensemble.references import lindblad
from ensemble.models import xxz as model  # noqa: E402
from ensemble.engines.trajectory import magnetization_trajectory  # noqa: E402

TAU, GAMMA = 0.05, 1.0
STEPS = np.arange(20, 401, 20)  # t = 1 .. 20


def manybody_samples(n_traj: int) -> tuple[np.ndarray, np.ndarray]:
    """L = 6, Delta = 1, W = 2: all trajectories stepped at once (they share exp(-i tau H0))."""
    L = 6
    fields = np.random.default_rng(2024).uniform(-2.0, 2.0, L)
    etas = np.random.default_rng(77).normal(0.0, np.sqrt(TAU), (STEPS[-1], n_traj))
    energies, V = la.eigh(model.xxz_hamiltonian(fields, delta=1.0).toarray())
    U = (V * np.exp(-1j * TAU * energies)) @ V.conj().T
    sz = model.sz_diagonals(L)
    psi = np.repeat(model.neel_state(L)[:, None], n_traj, axis=1)
    samples = np.empty((n_traj, len(STEPS), L))
    step = 0
    for k, target in enumerate(STEPS):
        while step < target:
            psi = U @ psi
            psi *= np.exp(-1j * GAMMA * np.outer(sz[0], etas[step]))
            step += 1
        samples[:, k] = (np.abs(psi) ** 2).T @ sz.T
    return fields, samples


def gaussian_samples(n_traj: int) -> tuple[np.ndarray, np.ndarray]:
    """L = 20, Delta = 0, W = 2: the public trajectory API with the free-fermion engine."""
    fields = np.random.default_rng(11).uniform(-2.0, 2.0, 20)
    rng = np.random.default_rng(78)
    samples = np.array(
        [
            magnetization_trajectory(
                fields, rng.normal(0.0, np.sqrt(TAU), STEPS[-1]), STEPS,
                delta=0.0, gamma=GAMMA, tau=TAU, engine="gaussian",
            )
            for _ in range(n_traj)
        ]
    )
    return fields, samples


def z_scores(samples: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|mean - exact| / SE at the (time, site) points with SE > 1e-8 (the noise has arrived)."""
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    resolved = se > 1e-8
    return np.abs(mean - exact)[resolved] / se[resolved]


def report_statistics(name: str, fields, samples, delta: float) -> None:
    n_traj, n_times, L = samples.shape
    print(f"\n{name}: {n_traj} trajectories, {n_times} times x {L} sites")
    print(f"  {'coefficient':<22}{'rms dev/SE':>12}{'max dev/SE':>12}{'points':>8}")
    coefficients = (("gamma^2/2 (stepper)", GAMMA), ("gamma^2 (paper Eq. 2)", np.sqrt(2.0) * GAMMA))
    for label, gamma in coefficients:
        exact = lindblad.stepper_mean(fields, STEPS, delta=delta, gamma=gamma, tau=TAU)
        z = z_scores(samples, exact)
        print(f"  {label:<22}{np.sqrt(np.mean(z**2)):>12.2f}{z.max():>12.2f}{z.size:>8d}")


def report_trotter() -> None:
    fields = np.random.default_rng(9).uniform(-2.0, 2.0, 6)
    times = np.array([2.5, 5.0, 10.0, 20.0])
    exact = lindblad.magnetization(fields, times, delta=1.0, gamma=GAMMA)
    print("\nTrotter error, L = 6, Delta = 1, W = 2, gamma = 1, t = 2.5..20:")
    print(f"  {'tau':>8}{'max |stepper mean - Lindblad|':>32}{'ratio':>8}")
    previous = None
    for tau in (0.05, 0.025, 0.0125, 0.00625):
        steps = np.round(times / tau).astype(int)
        mean = lindblad.stepper_mean(fields, steps, delta=1.0, gamma=GAMMA, tau=tau)
        err = np.abs(mean - exact).max()
        ratio = f"{previous / err:8.2f}" if previous else f"{'':>8}"
        print(f"  {tau:>8g}{err:>32.3e}{ratio}")
        previous = err


def report_cost() -> None:
    fields = np.random.default_rng(1).uniform(-2.0, 2.0, 10)
    times = np.r_[0.0, np.geomspace(0.05, 20.0, 15)]
    start = time.process_time()
    lindblad.magnetization(fields, times, delta=1.0, gamma=GAMMA)
    cont = time.process_time() - start
    start = time.process_time()
    steps = np.unique(np.round(times / TAU).astype(int))
    lindblad.stepper_mean(fields, steps, delta=1.0, gamma=GAMMA, tau=TAU)
    disc = time.process_time() - start
    print(f"\nL = 10 (Ns = 252), Delta = 1, W = 2, t = 20 (CPU time): Lindblad {cont:.1f} s, "
          f"stepper mean {disc:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the trajectory counts")
    args = parser.parse_args()
    start = time.process_time()
    fields, samples = manybody_samples(round(6000 * args.scale))
    report_statistics("many-body, L = 6, Delta = 1, W = 2", fields, samples, 1.0)
    fields, samples = gaussian_samples(round(4000 * args.scale))
    report_statistics("Gaussian, L = 20, Delta = 0, W = 2", fields, samples, 0.0)
    report_trotter()
    report_cost()
    print(f"\ntotal CPU time {time.process_time() - start:.0f} s")


if __name__ == "__main__":
    main()
