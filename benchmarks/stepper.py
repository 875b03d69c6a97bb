"""Ratio benchmark of the many-body propagators (scipy loop, QuSpin, Chebyshev, jumps).

Times, on the same disorder realization (W = 8, Delta = 1, gamma = 1, tau = 0.05, seed fixed), in one
run and with repeats interleaved between methods (best-of and median reported, ratios printed):

1. a plain ``scipy.sparse.linalg.expm_multiply`` loop (one call per tau step, then the kick),
2. QuSpin's ``expm_multiply_parallel`` at its default tolerance (then the kick; the reference path),
3. the production Chebyshev stepper (``ensemble.engines.stepper``, kick fused into the kernel),
4. the jump unraveling (``ensemble.engines.jump``), per unit time;

checks each against a dense exact reference at L = 12 (``eigh``), prints the stepper's accuracy and
speed as its per-step tolerance changes, and a scaling table of seconds per realization
(gamma = 0 run + gamma run) for t_final = 1e3 at L = 8..18.

Usage::

    python benchmarks/stepper.py                  # everything (~12 min on 2 vCPUs)
    python benchmarks/stepper.py --quick          # L = 12, 14 only, short runs (~1 min)
    python benchmarks/stepper.py --sizes 16 --no-accuracy --no-tolerance --no-scaling

Single-threaded on purpose (docs/design.md, Threads): every runtime is pinned to one thread below,
before numpy is imported.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg as la  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.sparse.linalg import expm_multiply  # noqa: E402

import ensemble  # noqa: E402
from ensemble.engines import chebyshev
from ensemble.engines import jump
from ensemble.models import xxz as model
from ensemble.engines import stepper  # noqa: E402

TAU, W, DELTA, GAMMA, SEED = 0.05, 8.0, 1.0, 1.0, 2024


def realization(L: int, index: int = 0):
    """Fields, H0, Sz table, Néel state and noise of the benchmark's fixed disorder realization.

    ``index`` > 0 gives further fixed realizations (the tolerance section uses several).
    """
    rng = np.random.default_rng([SEED, L] if index == 0 else [SEED, L, index])
    fields = rng.uniform(-W, W, L)
    etas = rng.normal(0.0, np.sqrt(TAU), 200_000)
    H = model.xxz_hamiltonian(fields, delta=DELTA)
    return fields, H, model.sz_diagonals(L), model.neel_state(L), etas


def sample_grid(t_final: float, n: int = 60) -> np.ndarray:
    """Production-like sample steps: 0 and ~n log-spaced step counts up to t_final / tau."""
    last = int(round(t_final / TAU))
    return np.unique(np.concatenate([[0], np.round(np.logspace(0, np.log10(last), n)).astype(int)]))


# -- the three per-step propagators ---------------------------------------------------------------


def scipy_loop(H, sz, psi, etas):
    A = (-1j * TAU) * H.astype(np.complex128)
    up = sz[0] > 0
    for eta in etas:
        psi = expm_multiply(A, psi)
        ph = np.exp(-0.5j * GAMMA * eta)
        psi *= np.where(up, ph, ph.conjugate())
    return psi


def quspin_loop(H, sz, psi, etas, prop=None):
    from quspin.tools.evolution import expm_multiply_parallel

    prop = prop or expm_multiply_parallel(H, a=-1j * TAU, dtype=np.complex128)
    work = np.empty(2 * psi.size, dtype=np.complex128)
    up = sz[0] > 0
    for eta in etas:
        psi = prop.dot(psi, work_array=work, overwrite_v=True)
        ph = np.exp(-0.5j * GAMMA * eta)
        psi *= np.where(up, ph, ph.conjugate())
    return psi


def chebyshev_loop(prop, psi, etas):
    return prop.run(psi, TAU, stepper.kick_phases(etas, GAMMA))


def scipy_matvecs_per_step(H) -> str:
    """Upper bound s * m* of scipy's expm_multiply per call (its own parameter selection)."""
    try:
        from scipy.sparse.linalg._expm_multiply import LazyOperatorNormInfo, _fragment_3_1

        A = (-1j * TAU) * H.astype(np.complex128)
        mu = A.diagonal().sum() / A.shape[0]
        B = A - mu * sp.identity(A.shape[0], dtype=A.dtype, format="csr")
        info = LazyOperatorNormInfo(B, A_1_norm=abs(B).sum(axis=0).max(), ell=2)
        m_star, s = _fragment_3_1(info, 1, 2.0**-53, ell=2)
        return f"<={m_star * s}"
    except Exception:  # private API: report nothing rather than fail
        return "?"


def quspin_matvecs_per_step(H) -> str:
    from quspin.tools.evolution import expm_multiply_parallel

    prop = expm_multiply_parallel(H, a=-1j * TAU, dtype=np.complex128)
    return f"<={prop._m_star * prop._s}" if hasattr(prop, "_m_star") else "?"


def dense_kicked_sz(energies, V, sz, psi0, etas) -> np.ndarray:
    """<Sz_j> after the kicked steps, by dense exact evolution (``energies, V = eigh(H0)``)."""
    U = (V * np.exp(-1j * TAU * energies)) @ V.conj().T
    psi = psi0.astype(np.complex128)
    for eta in etas:
        psi = np.exp(-1j * GAMMA * eta * sz[0]) * (U @ psi)
    return sz @ np.abs(psi) ** 2


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# -- sections -------------------------------------------------------------------------------------


def accuracy(n_steps: int, t_jump: float) -> None:
    L = 12
    fields, H, sz, psi0, etas = realization(L)
    etas = etas[:n_steps]
    energies, V = la.eigh(H.toarray())
    exact = dense_kicked_sz(energies, V, sz, psi0, etas)

    prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0)
    rows = [
        ("scipy expm_multiply loop", scipy_loop(H, sz, psi0.copy(), etas)),
        ("QuSpin expm_multiply_parallel", quspin_loop(H, sz, psi0.copy(), etas)),
        ("Chebyshev stepper (production)", chebyshev_loop(prop, psi0.copy(), etas)),
    ]
    print(f"\n## Accuracy at L = {L} (Ns = {H.shape[0]}), W = {W}: max_j |dSz_j| after {n_steps} steps "
          "against dense exact evolution (eigh) with the same etas")
    print("| method | max abs error | norm drift |")
    print("| --- | --- | --- |")
    for name, psi in rows:
        print(f"| {name} | {np.abs(sz @ np.abs(psi) ** 2 - exact).max():.1e} "
              f"| {abs(np.vdot(psi, psi).real - 1):.1e} |")

    # Jump unraveling: the same flip sequence propagated densely (flips drawn from the same seed).
    steps = sample_grid(t_jump)
    p = jump.flip_probability(GAMMA, TAU)
    got, n_flips = jump.jump_from_operator(prop, sz, psi0, steps, p=p, tau=TAU, rng=np.random.default_rng(7))
    flips = set(jump.flip_steps(p, int(steps[-1]), np.random.default_rng(7)).tolist())
    c = V.conj().T @ psi0
    ref, now = [], 0
    z1 = np.where(sz[0] > 0, 1.0, -1.0)
    for n in sorted(flips | set(steps.tolist())):
        psi = V @ (np.exp(-1j * energies * (n - now) * TAU) * c)
        now = n
        if n in flips:
            psi = z1 * psi
        c = V.conj().T @ psi
        if n in steps:
            ref.append(sz @ np.abs(psi) ** 2)
    err = np.abs(got - np.array(ref)).max()
    print(f"| jump unraveling, one trajectory to t = {t_jump:g} ({n_flips} flips, {steps.size} samples), "
          f"vs dense with the same flips | {err:.1e} | - |")


def per_step(sizes, repeats: int, jump_time: float) -> None:
    print(f"\n## Per-step cost, W = {W}, Delta = {DELTA}, gamma = {GAMMA}, tau = {TAU}; "
          f"{repeats} interleaved repeats, best (median) ms per step")
    print("| L | Ns | scipy expm_multiply loop | QuSpin expm_multiply_parallel | Chebyshev stepper "
          "| scipy / Chebyshev | QuSpin / Chebyshev | scipy / QuSpin |")
    lines = []
    mv_lines = []
    for L in sizes:
        fields, H, sz, psi0, etas = realization(L)
        n = max(20, int(4e5 / H.shape[0]))  # ~0.1-0.5 s per timing
        from quspin.tools.evolution import expm_multiply_parallel

        qprop = expm_multiply_parallel(H, a=-1j * TAU, dtype=np.complex128)
        cprop = chebyshev.ChebyshevPropagator(H, sz[0] > 0)
        chebyshev_loop(cprop, psi0.copy(), etas[:3])  # compile / load the kernel cache
        runs = {
            "scipy": lambda: scipy_loop(H, sz, psi0.copy(), etas[:n]),
            "quspin": lambda: quspin_loop(H, sz, psi0.copy(), etas[:n], qprop),
            "cheb": lambda: chebyshev_loop(cprop, psi0.copy(), etas[:n]),
        }
        times = {k: [] for k in runs}
        for _ in range(repeats):
            for k, fn in runs.items():
                times[k].append(timed(fn) / n * 1e3)
        best = {k: min(v) for k, v in times.items()}
        med = {k: statistics.median(v) for k, v in times.items()}
        lines.append(
            f"| {L} | {H.shape[0]} | {best['scipy']:.3f} ({med['scipy']:.3f}) "
            f"| {best['quspin']:.3f} ({med['quspin']:.3f}) | {best['cheb']:.3f} ({med['cheb']:.3f}) "
            f"| {best['scipy'] / best['cheb']:.1f}x ({med['scipy'] / med['cheb']:.1f}x) "
            f"| {best['quspin'] / best['cheb']:.1f}x ({med['quspin'] / med['cheb']:.1f}x) "
            f"| {best['scipy'] / best['quspin']:.1f}x ({med['scipy'] / med['quspin']:.1f}x) |"
        )
        # Jump unraveling, asymptotic cost per unit time (no samples in between).
        jprop = chebyshev.ChebyshevPropagator(H, sz[0] > 0)
        n_jump = int(round(jump_time / TAU))
        p = jump.flip_probability(GAMMA, TAU)
        jt = []
        n_runs = max(2, repeats // 2)
        for r in range(n_runs):
            jt.append(timed(lambda: jump.jump_from_operator(
                jprop, sz, psi0, np.array([0, n_jump]), p=p, tau=TAU, rng=np.random.default_rng(r))))
        jump_mv = jprop.matvecs / (n_runs * jump_time)  # the flips are random: average the runs
        jump_ms = min(jt) / jump_time * 1e3
        K = cprop.order(TAU)
        mv_lines.append(
            f"| {L} | {scipy_matvecs_per_step(H)} | {quspin_matvecs_per_step(H)} | {K} "
            f"| {K / TAU:.0f} | {jump_mv:.1f} | {jump_ms:.1f} ({jump_ms * TAU:.3f}) "
            f"| {best['cheb'] / TAU / jump_ms:.1f}x | {jump_ms * 1e4 / 1e3:.0f} s |"
        )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(lines))
    print(f"\n## Matrix-vector products and the jump unraveling (asymptotic: runs of {jump_time:g} "
          "time units with no samples in between; matvecs averaged over the runs, time best of them)")
    print("| L | scipy matvecs/step | QuSpin matvecs/step | Chebyshev order K (matvecs/step) "
          "| Chebyshev matvecs/unit time | jump matvecs/unit time | jump ms/unit time (per tau) "
          "| stepper / jump time | jump s/realization at t_f = 1e4 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(mv_lines))


def tolerance_tradeoff(tols, size: int, n_realizations: int, n_steps: int, repeats: int) -> None:
    """Speed against accuracy of the Chebyshev stepper as its per-step tolerance changes.

    Accuracy: L = 12, ``n_realizations`` disorder realizations, max_j |dSz_j| after ``n_steps``
    steps against dense exact evolution (worst realization). Speed: L = ``size``, the plain scipy
    loop and the stepper at every tolerance, repeats interleaved; the time per H0 application is
    ms/step divided by the Chebyshev order K.
    """
    acc = {tol: [] for tol in tols}
    orders12 = {tol: set() for tol in tols}
    for r in range(n_realizations):
        _, H, sz, psi0, etas = realization(12, r)
        exact = dense_kicked_sz(*la.eigh(H.toarray()), sz, psi0, etas[:n_steps])
        bounds = chebyshev.ChebyshevPropagator(H, sz[0] > 0).bounds
        for tol in tols:
            prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0, tol=tol, bounds=bounds)
            psi = chebyshev_loop(prop, psi0.astype(np.complex128), etas[:n_steps])
            acc[tol].append(np.abs(sz @ np.abs(psi) ** 2 - exact).max())
            orders12[tol].add(prop.order(TAU))

    _, H, sz, psi0, etas = realization(size)
    n = max(20, int(4e5 / H.shape[0]))
    bounds = chebyshev.ChebyshevPropagator(H, sz[0] > 0).bounds
    props = {tol: chebyshev.ChebyshevPropagator(H, sz[0] > 0, tol=tol, bounds=bounds) for tol in tols}
    runs = {"scipy": lambda: scipy_loop(H, sz, psi0.copy(), etas[:n])}
    for tol, prop in props.items():
        chebyshev_loop(prop, psi0.copy(), etas[:3])
        runs[tol] = lambda prop=prop: chebyshev_loop(prop, psi0.copy(), etas[:n])
    times = {k: [] for k in runs}
    for _ in range(repeats):
        for k, fn in runs.items():
            times[k].append(timed(fn) / n * 1e3)
    best = {k: min(v) for k, v in times.items()}

    print(f"\n## Tolerance against speed: accuracy at L = 12 (worst of {n_realizations} realizations, "
          f"{n_steps} steps, vs dense exact), speed at L = {size} (best of {repeats} interleaved "
          f"repeats; scipy loop {best['scipy']:.3f} ms/step in the same run)")
    print("| per-step tol | K at L = 12 | max abs dSz at L = 12 | K at L = " f"{size} | ms/step "
          "| us per H0 application | scipy / Chebyshev |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for tol, prop in props.items():
        K = prop.order(TAU)
        k12 = sorted(orders12[tol])
        k12 = str(k12[0]) if len(k12) == 1 else f"{k12[0]}-{k12[-1]}"
        print(f"| {tol:g} | {k12} | {max(acc[tol]):.1e} | {K} | {best[tol]:.3f} "
              f"| {best[tol] / K * 1e3:.0f} | {best['scipy'] / best[tol]:.1f}x |")


def scaling(sizes, t_final: float) -> None:
    print(f"\n## Seconds per realization, t_final = {t_final:g} (gamma = 0 run + gamma = {GAMMA} run, "
          f"{sample_grid(t_final).size} log-spaced samples), W = {W}")
    print("| L | Ns | setup s | gamma = 0 s | Chebyshev stepper s | realization s (stepper) "
          "| jump run s | realization s (jump) | how |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for L in sizes:
        fields, H, sz, psi0, etas = realization(L)
        Ns = H.shape[0]
        t0 = time.perf_counter()
        H = model.xxz_hamiltonian(fields, delta=DELTA)
        prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0)
        setup = time.perf_counter() - t0
        # The gamma = 0 run and the jump run are measured over the whole run; the stepper (a fixed
        # cost per step) is measured on a prefix where the run is long, and extrapolated linearly.
        steps = sample_grid(t_final)
        t_meas = t_final if Ns <= 3432 else (50.0 if Ns <= 12870 else 10.0)
        scale = t_final / t_meas
        n_meas = int(round(t_meas / TAU))
        steps_meas = np.union1d(steps[steps <= n_meas], [n_meas])
        t_noiseless = timed(lambda: stepper.noiseless_magnetizations(H, sz, psi0, steps * TAU, propagator=prop))
        t_step = timed(lambda: stepper.kicked_magnetizations(
            H, sz, psi0, etas[:n_meas], steps_meas, gamma=GAMMA, tau=TAU, propagator=prop)) * scale
        t_jump = timed(lambda: jump.jump_from_operator(
            prop, sz, psi0, steps, p=jump.flip_probability(GAMMA, TAU), tau=TAU, rng=np.random.default_rng(1)))
        how = "measured" if scale == 1 else f"stepper extrapolated x{scale:g} from {n_meas} steps"
        print(f"| {L} | {Ns} | {setup:.2f} | {t_noiseless:.1f} | {t_step:.1f} "
              f"| {setup + t_noiseless + t_step:.1f} | {t_jump:.1f} | {setup + t_noiseless + t_jump:.1f} "
              f"| {how} |", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[12, 14, 16], help="L for the per-step table")
    ap.add_argument("--scaling-sizes", type=int, nargs="+", default=[8, 10, 12, 14, 16, 18])
    ap.add_argument("--t-final", type=float, default=1e3, help="t_final of the scaling table")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats per timing")
    ap.add_argument("--accuracy-steps", type=int, default=2000)
    ap.add_argument("--jump-time", type=float, default=200.0, help="time units per jump timing")
    ap.add_argument("--tolerances", type=float, nargs="+", default=[1e-8, 1e-9, 1e-10, 1e-11, 1e-12],
                    help="per-step tolerances of the tolerance-against-speed table")
    ap.add_argument("--tolerance-size", type=int, default=16, help="L for the speed columns of that table")
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--no-per-step", action="store_true")
    ap.add_argument("--no-tolerance", action="store_true")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="L = 12, 14; 3 repeats; 500 accuracy steps; tolerance speed at L = 14; "
                         "scaling L = 8..14 at t_final = 100")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats, args.accuracy_steps, args.jump_time = [12, 14], 3, 500, 50.0
        args.scaling_sizes, args.t_final = [8, 10, 12, 14], 100.0
        args.tolerance_size = 14

    import numba
    import quspin

    print("# benchmarks/stepper.py")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
          f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
          f"numpy {np.__version__}, scipy {scipy.__version__}, numba {numba.__version__}, "
          f"quspin {getattr(quspin, '__version__', '?')}, ensemble {ensemble.__version__}")
    print("threads: " + ", ".join(f"{v}={os.environ[v]}" for v in ensemble.threads.THREAD_VARIABLES))
    print(f"Chebyshev per-step tolerance {chebyshev.STEP_TOLERANCE:g} (2-norm), Lanczos bounds")
    if not args.no_accuracy:
        accuracy(args.accuracy_steps, t_jump=min(args.t_final, 100.0))
    if not args.no_per_step:
        per_step(args.sizes, args.repeats, args.jump_time)
    if not args.no_tolerance:
        tolerance_tradeoff(args.tolerances, args.tolerance_size, n_realizations=6,
                           n_steps=args.accuracy_steps, repeats=args.repeats)
    if not args.no_scaling:
        scaling(args.scaling_sizes, args.t_final)


if __name__ == "__main__":
    main()
