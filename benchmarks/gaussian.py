"""Free-fermion engine vs the plain per-step numpy loop, single core (numbers in docs/gaussian.md).

    python benchmarks/gaussian.py                 # t_final = 1000: 20,000 steps, 55 log samples
    python benchmarks/gaussian.py --steps 2000    # shorter

For L = 100 and 200 (W = 3, gamma = 1, tau = 0.05) it times one kicked realization of
``ensemble.engines.gaussian.gaussian_magnetizations`` (eigendecomposition, all steps, the samples and their
orthonormality checks) and the plain loop: ``U = expm(-i tau Q)`` once, then per step
``W = U @ W`` and the kick as the row-0 scaling ``W[0] *= exp(-i eta gamma)`` (K applied as a row
scaling, cheaper than a dense ``K @``, so the ratio is conservative). The plain loop is timed on
``--plain-steps`` steps and scaled per step to ``--steps`` (said in the output). Measurements are
interleaved and repeated ``--repeats`` times; the median and the best are printed (the machine may
be shared). Both runs start from the same fields and noise, and their final magnetizations are
compared.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # a single-core benchmark by definition

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg as sla  # noqa: E402

from ensemble.engines import gaussian  # noqa: E402
from ensemble.models.free_fermion import hopping_matrix  # noqa: E402

TAU, GAMMA, W_DISORDER = 0.05, 1.0, 3.0


def sample_steps(n_steps: int, n_samples: int = 60) -> np.ndarray:
    """Step 0 plus ~n_samples - 1 log-spaced steps up to n_steps."""
    logs = np.unique(np.round(np.logspace(0, np.log10(n_steps), n_samples - 1)).astype(np.int64))
    return np.concatenate([[0], logs])


def plain_loop(
    fields: np.ndarray, etas: np.ndarray, n_steps: int
) -> tuple[np.ndarray, float, float]:
    """Baseline: expm once, then W = U @ W and the row-0 kick per step -> (Sz, t_expm, t_steps)."""
    t0 = time.perf_counter()
    U = sla.expm(-1j * TAU * hopping_matrix(fields))
    W = gaussian.neel_orbitals(fields.size)
    t1 = time.perf_counter()
    kicks = np.exp(-1j * GAMMA * etas[:n_steps])
    for n in range(n_steps):
        W = U @ W
        W[0] *= kicks[n]
    t2 = time.perf_counter()
    return gaussian.orbital_magnetizations(W), t1 - t0, t2 - t1


def engine(fields: np.ndarray, etas: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    sz = gaussian.gaussian_magnetizations(fields, etas, steps, gamma=GAMMA, tau=TAU)
    return sz, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="tau steps per realization")
    parser.add_argument(
        "--plain-steps", type=int, default=2_000, help="steps timed for the plain loop"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200])
    args = parser.parse_args()
    n_plain = min(args.plain_steps, args.steps)
    steps = sample_steps(args.steps)
    rng = np.random.default_rng(2024)
    cases = {}
    for L in args.sizes:
        fields = rng.uniform(-W_DISORDER, W_DISORDER, L)
        etas = rng.normal(0.0, np.sqrt(TAU), args.steps)
        cases[L] = (fields, etas)
        # compile (numba, cached on disk) and check agreement with the plain loop at n_plain steps
        sz_plain, _, _ = plain_loop(fields, etas, n_plain)
        sz_fast, _ = engine(fields, etas, np.array([0, n_plain]))
        *_, W = gaussian.evolve_orbitals(fields, etas, [0, args.steps], gamma=GAMMA, tau=TAU)
        drift = np.abs(W.conj().T @ W - np.eye(L // 2)).max()
        cases[L] += (np.abs(sz_plain - sz_fast[-1]).max(), drift)

    fast_t = {L: [] for L in args.sizes}
    plain_t = {L: [] for L in args.sizes}
    for _ in range(args.repeats):  # interleaved
        for L in args.sizes:
            fields, etas, *_ = cases[L]
            fast_t[L].append(engine(fields, etas, steps)[1])
            _, t_expm, t_steps = plain_loop(fields, etas, n_plain)
            plain_t[L].append((t_expm, t_steps / n_plain))

    print(
        f"single core; tau = {TAU}, gamma = {GAMMA}, W = {W_DISORDER}; {args.steps} steps "
        f"(t_final = {args.steps * TAU:g}), {steps.size} samples; "
        f"{args.repeats} interleaved repeats"
    )
    scaled = "" if n_plain == args.steps else f" (timed on {n_plain} steps, scaled per step)"
    print(f"plain loop: expm once, then W = U @ W; W[0] *= kick per step{scaled}")
    header = (
        f"{'L':>4} {'engine ms/step':>15} {'plain ms/step':>14} "
        f"{'engine s/real':>14} {'plain s/real':>13} {'ratio':>7} {'best ratio':>11} {'|dSz|':>9} "
        f"{'drift':>9}"
    )
    print(header)
    for L in args.sizes:
        fast = np.array(fast_t[L])
        expm_s = np.array([p[0] for p in plain_t[L]])
        per_step = np.array([p[1] for p in plain_t[L]])
        plain_real = expm_s + per_step * args.steps
        f_med, p_med = np.median(fast), np.median(plain_real)
        print(
            f"{L:>4} {1e3 * f_med / args.steps:>15.4f} {1e3 * np.median(per_step):>14.4f} "
            f"{f_med:>14.3f} {p_med:>13.2f} {p_med / f_med:>7.1f} "
            f"{plain_real.min() / fast.min():>11.1f} {cases[L][2]:>9.1e} {cases[L][3]:>9.1e}"
        )
    print("engine ms/step = engine s/realization / steps (eigh and samples included);")
    print("ratio = median plain / median engine; best ratio = best plain / best engine;")
    print(f"|dSz| = max difference of the two methods' <S^z_j> after {n_plain} steps;")
    print(f"drift = max |W^dagger W - 1| of the engine's orbitals after {args.steps} steps.")


if __name__ == "__main__":
    main()
