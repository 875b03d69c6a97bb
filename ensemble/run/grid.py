"""``run_grid``: realizations over an (L, W) grid, mapped with ``dask.delayed``, into one Dataset.

Each task is a batch of realizations at one grid point, sized to a few seconds of work, with an
explicit key derived from its inputs (``realizations-L10-W8000000-r0-7-<run hash>``), so the
dashboard reads well and resubmission is idempotent. Tasks are pure: a worker that dies costs only
its tasks, which Dask reruns with identical results. Nothing here schedules, retries or moves data
itself: Dask does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dask
import numpy as np
import xarray as xr

from ensemble.run import checkpoint as ckpt
from ensemble.run import cost
from ensemble.run import seeds
from ensemble import validation
from ensemble.engines.batched_kernels import gpu_unavailable_reason
from ensemble.run.cluster import SYNCHRONOUS, connect, memory_slots
from ensemble.threads import limit_threads
from ensemble.io.dataset import build_dataset, provenance_attrs
from ensemble.engines import DEVICES, engine_choices
from ensemble.models.baths import Bath
from ensemble.models.disorder import LAWS, Disorder
from ensemble.models.initial_states import STATES, ProductState
from ensemble.observables import OBSERVABLES, per_realization
from ensemble.run.realization import NOISE_MODES, UNRAVELINGS, RunSpec, run_batch

__all__ = [
    "run_grid", "plan_grid", "Plan", "RunInterrupted", "WorkersLost", "sample_steps", "resolve_steps", "validate_grid",
    "auto_batch_size", "dataset_attrs",
]

#: Wall time one task aims at (seconds): long enough to amortize scheduling, short enough to balance.
TARGET_TASK_SECONDS = 5.0


#: The most sample times a run may have.
MAX_TIMES = 100_000
#: The longest chain (the free-fermion engine's O(L^3) set-up dominates long before).
MAX_L = 4096
#: The largest W (units of J): its seed key round(W * 1e6) stays a 64-bit integer.
MAX_W = 1e12


def sample_steps(t_final: float, tau: float, n_times: int) -> np.ndarray:
    """Log-spaced sample steps from 1 to ``t_final / tau``, plus step 0 (t = 0).

    Rounding to the step grid merges neighbouring early times, so *at most* ``n_times`` steps
    come back: e.g. ``n_times = 40`` with ``t_final = 200`` and ``tau = 0.05`` gives 37, because
    the first log-spaced times 1, 1.25, 1.6, ... steps round to 1, 1, 2, .... The last step is
    always ``t_final / tau``: ``n_times = 2`` samples t = 0 and t_final.
    """
    n_times = validation.integer("n_times", n_times, minimum=2, maximum=MAX_TIMES)
    n_final = _steps_of(np.array([t_final]), tau, "t_final")[0]
    if n_final < 1:
        raise ValueError(f"t_final must be at least one step tau={tau:g}; got t_final={t_final:g}")
    if n_times == 2:  # geomspace of one point is its start, not t_final
        return np.array([0, n_final], dtype=np.int64)
    steps = np.unique(np.round(np.geomspace(1, n_final, n_times - 1)).astype(np.int64))
    return np.r_[0, steps]


def auto_batch_size(
    L: int, delta: float, n_steps: int, engine: str = "auto", unraveling: str = "kick", noise: str = "trajectory"
) -> int:
    """Realizations per task for about ``TARGET_TASK_SECONDS`` of single-core work (the engine's alone)."""
    return _batch_for(cost.seconds_per_realization(L, delta, n_steps, engine, unraveling, noise))


def _batch_for(seconds: float) -> int:
    return max(1, int(TARGET_TASK_SECONDS / max(seconds, 1e-3)))


def _with_observables(verdict: cost.Verdict, L: int, names, max_memory: float | None) -> cost.Verdict:
    """The engine's verdict with the seconds and memory of the per-realization observables added."""
    computations = {OBSERVABLES.get(name).COMPUTATION or name: OBSERVABLES.get(name)() for name in per_realization(names)}
    extra = [obs.cost(L) for obs in computations.values()]  # a shared computation counted once
    if not extra:
        return verdict
    memory = verdict.memory + max(b for _, b in extra)
    cost.check_memory(f"one realization at L={L} with {', '.join(per_realization(names))}", memory, max_memory)
    return dataclasses.replace(verdict, seconds=verdict.seconds + sum(s for s, _ in extra), memory=memory)


def _steps_of(times: np.ndarray, tau: float, name: str) -> np.ndarray:
    with np.errstate(over="ignore"):
        steps = np.round(times / tau)
    if np.any(steps > cost.MAX_STEPS):
        raise ValueError(f"{name} / tau = {np.max(steps):.3g} steps exceeds the limit of {cost.MAX_STEPS:.0e} "
                         f"steps (tau={tau:g}); use a larger tau or shorter times")
    off = np.abs(steps * tau - times) > 1e-9 * np.maximum(1.0, np.abs(times))
    if np.any(off):
        raise ValueError(f"{name} must lie on the step grid t = n * tau (tau={tau}); got {times[off][:3]}")
    return steps.astype(np.int64)


def resolve_steps(
    t_final: float | None, tau: float, n_times: int | None, times: Sequence[float] | None
) -> np.ndarray:
    """The sample steps of a run: explicit ``times`` (t = 0 added) or ``n_times`` log-spaced ones."""
    tau = validation.real("tau", tau, positive=True)
    if times is not None:
        values = validation.real_list("times", times, minimum=0.0)
        if len(values) > MAX_TIMES:
            raise ValueError(f"times holds {len(values)} values, more than {MAX_TIMES}")
        if list(times) != values:
            raise ValueError("times must be strictly increasing")
        steps = _steps_of(np.asarray(values), tau, "times")
        steps = steps if steps[0] == 0 else np.r_[0, steps]
        if t_final is not None and not math.isclose(steps[-1] * tau, validation.real("t_final", t_final)):
            raise ValueError(f"t_final={t_final} disagrees with max(times)={steps[-1] * tau}")
    else:
        if t_final is None:
            raise ValueError("give t_final (with n_times) or explicit times")
        steps = sample_steps(validation.real("t_final", t_final, positive=True), tau, n_times)
    if steps[-1] == 0:
        raise ValueError("the last sample time must be > 0")
    return steps


def validate_grid(L, W, n_realizations) -> tuple[list[int], list[float], dict[int, int]]:
    """Sorted ``L`` and ``W`` lists and realizations per L, after checking each value.

    W values that share a seed key ``round(W * 1e6)`` (closer than ~5e-7) are refused: they would
    share their disorder draws, their Dask task keys and their checkpoint part files.
    """
    Ls = validation.integer_list("L", L, minimum=2, maximum=MAX_L)
    for value in Ls:
        if value % 2:
            raise ValueError(f"L must be even and >= 2 (Néel start, Sz_tot = 0); got L={value}")
    Ws = [w + 0.0 for w in validation.real_list("W", W, minimum=0.0, maximum=MAX_W)]  # -0.0 is 0.0
    for a, b in zip(Ws, Ws[1:]):
        if seeds.w_key(a) == seeds.w_key(b):
            raise ValueError(f"W values {a!r} and {b!r} share the seed key round(W * 1e6) = {seeds.w_key(a)}; "
                             "W values must differ by at least 1e-6")
    if isinstance(n_realizations, Mapping):
        for key in n_realizations:
            validation.integer("n_realizations key L", key)
        missing = [x for x in Ls if x not in n_realizations]
        if missing:
            raise ValueError(f"n_realizations has no entry for L={missing}")
        counts = {x: n_realizations[x] for x in Ls}
    else:
        counts = {x: n_realizations for x in Ls}
    return Ls, Ws, {x: validation.integer(f"n_realizations (L={x})", n, minimum=1) for x, n in counts.items()}


@dataclass(frozen=True)
class Plan:
    """A validated run: what :func:`run_grid` executes and ``--dry-run`` prints.

    Attributes
    ----------
    Ls, Ws : list
        Sorted grid axes.
    counts : dict
        Realizations per L.
    steps : numpy.ndarray
        Sample steps (step 0 first).
    spec : RunSpec
        The physics of every realization (entropy included).
    fingerprint : str
        What a checkpoint part must match (:func:`ensemble.run.checkpoint.fingerprint`).
    batch_sizes : dict
        Realizations per task, per L.
    verdicts : dict
        The cost guard's estimates per L (:class:`ensemble.run.cost.Verdict`).
    checkpoint : pathlib.Path or None
        The checkpoint directory.
    entropy_source : str
        ``"seed"``, ``"fresh"`` or ``"checkpoint"`` (a seedless resume).
    n_workers, omp_threads : int or None, int
        Local cluster size (None: one per CPU) and threads per worker.
    """

    Ls: list[int]
    Ws: list[float]
    counts: dict[int, int]
    steps: np.ndarray
    spec: RunSpec
    fingerprint: str
    batch_sizes: dict[int, int]
    verdicts: dict[int, cost.Verdict]
    checkpoint: Path | None
    entropy_source: str
    n_workers: int | None
    omp_threads: int


def plan_grid(
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
    observables: Sequence[str] | None = None,
    disorder: str | Disorder = "uniform",
    initial_state: str | ProductState = "neel",
    bath_site: int = 1,
    bath: str | Bath = "dephasing",
    n_workers: int | None = None,
    omp_threads: int = 1,
    checkpoint: str | Path | None = None,
    batch_size: int | None = None,
    max_memory: float | None = None,
    device: str = "cpu",
    client=None,
) -> Plan:
    """Check every argument of :func:`run_grid` and the cost of the run, allocating nothing.

    This is the only validation of a run: :func:`run_grid` and ``mbl-avalanche run --dry-run`` both
    call it, so a dry run refuses exactly what the run would refuse. Arguments as in
    :func:`run_grid`; ``client`` tells the memory guard how many realizations run at once on this
    machine (:func:`ensemble.run.cluster.memory_slots`).

    Raises
    ------
    ValueError
        Naming the parameter (and the estimate, for the cost and memory guards).
    """
    Ls, Ws, counts = validate_grid(L, W, n_realizations)
    delta = validation.real("delta", delta)
    J = validation.real("J", J)
    gamma = validation.real("gamma", gamma, positive=True)
    tau = validation.real("tau", tau, positive=True)
    steps = resolve_steps(t_final, tau, n_times, times)
    if batch_size is not None:
        batch_size = validation.integer("batch_size", batch_size, minimum=1)
    if n_workers is not None:
        n_workers = validation.integer("n_workers", n_workers, minimum=1)
    omp_threads = validation.integer("omp_threads", omp_threads, minimum=1)
    if max_memory is not None:
        max_memory = validation.real("max_memory", max_memory, positive=True)
    validation.choice("engine", engine, engine_choices())
    validation.choice("unraveling", unraveling, UNRAVELINGS)
    validation.choice("noise", noise, NOISE_MODES)
    validation.choice("device", device, DEVICES)
    entanglement = validation.boolean("entanglement", entanglement)
    disorder = disorder if isinstance(disorder, Disorder) else LAWS.get(disorder)()
    initial_state = initial_state if isinstance(initial_state, ProductState) else STATES.get(initial_state)()
    bath_site = validation.integer("bath_site", bath_site, minimum=1)
    if bath_site > min(Ls):
        raise ValueError(f"bath_site={bath_site} lies outside the shortest chain (L={min(Ls)})")

    directory, manifest = None, None
    if checkpoint is not None:
        if not isinstance(checkpoint, (str, Path)):
            raise ValueError(f"checkpoint must be a directory path; got {checkpoint!r}")
        directory = Path(checkpoint)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"checkpoint must be a directory; {directory} is a file")
        if directory.is_dir():
            manifest = ckpt.read_manifest(directory)
            ckpt.Lock(directory).check()  # a live run holds it: the dry run says so too
    if seed is None and manifest is not None and "seed_entropy" in manifest:
        entropy, source = int(manifest["seed_entropy"]), "checkpoint"
    else:
        entropy, source = seeds.resolve_entropy(seed), "fresh" if seed is None else "seed"
    spec = RunSpec.build(  # the engine refuses what it cannot run, with its reason
        entropy=entropy, steps=steps, delta=delta, gamma=gamma, tau=tau, J=J, engine=engine, unraveling=unraveling,
        noise=noise, entanglement=entanglement, observables=observables, disorder=disorder, initial=initial_state,
        bath_site=bath_site, device=device, bath=bath,
    )
    fp = ckpt.fingerprint(**spec.fingerprint_params())
    if manifest is not None and manifest != json.loads(fp):
        raise ValueError(f"checkpoint {directory} belongs to a different run "
                         f"({ckpt.explain_mismatch(json.dumps(manifest), fp)}); use another checkpoint directory")

    n_steps = int(steps[-1])
    concurrent, worker_memory = memory_slots(client, n_workers)
    verdicts = {
        L_: cost.check_realization(L=L_, W=max(Ws), delta=delta, J=J, tau=tau, gamma=gamma, n_steps=n_steps,
                                   n_times=len(steps), engine=engine, unraveling=unraveling, noise=noise,
                                   max_memory=max_memory, concurrent=concurrent, worker_memory=worker_memory)
        for L_ in Ls
    }
    for name in per_realization(spec.observables):
        for L_ in Ls:
            reason = OBSERVABLES.get(name)().refuse(L_, spec.chain, spec.bath)
            if reason is not None:
                raise ValueError(reason)
    verdicts = {L_: _with_observables(verdict, L_, spec.observables, max_memory) for L_, verdict in verdicts.items()}
    per_point = max(Ls) * 8 + sum(8 * math.prod(OBSERVABLES.get(name)().shape(max(Ls)))
                                  * (1 if OBSERVABLES.get(name).PER_REALIZATION else 2 * len(steps))
                                  for name in spec.observables)
    cost.check_memory(f"the Dataset ({len(Ls)} L x {len(Ws)} W x {max(counts.values())} realizations)",
                      float(per_point) * len(Ls) * len(Ws) * max(counts.values()), max_memory)
    chosen = spec.resolved_engine()
    sizes = {L_: batch_size or chosen.preferred_batch(L_) or _batch_for(verdicts[L_].seconds) for L_ in Ls}
    return Plan(Ls=Ls, Ws=Ws, counts=counts, steps=steps, spec=spec, fingerprint=fp, batch_sizes=sizes,
                verdicts=verdicts, checkpoint=directory, entropy_source=source, n_workers=n_workers,
                omp_threads=omp_threads)


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
    observables: Sequence[str] | None = None,
    disorder: str | Disorder = "uniform",
    initial_state: str | ProductState = "neel",
    bath_site: int = 1,
    bath: str | Bath = "dephasing",
    client=None,
    n_workers: int | None = None,
    omp_threads: int = 1,
    checkpoint: str | Path | None = None,
    batch_size: int | None = None,
    max_memory: float | None = None,
    progress: bool = True,
    device: str = "cpu",
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
        Number of log-spaced sample times (t = 0 included) when ``times`` is not given: an upper
        bound, since times that round to the same step are merged (:func:`sample_steps`).
    times : sequence of float, optional
        Explicit sample times, each a multiple of tau; t = 0 is added if missing.
    n_realizations : int or mapping L -> int
        Realizations per grid point (e.g. ``{8: 500, 16: 100}`` as in the paper).
    seed : int, optional
        Root entropy (a non-negative integer); None draws fresh entropy, recorded in
        ``attrs["seed_entropy"]`` and in the checkpoint, so a seedless rerun on the same
        checkpoint resumes with the same entropy.
    J : float
        Exchange coupling.
    engine : {"auto", "manybody", "gaussian", "batched"}
        Trajectory engine (:func:`ensemble.magnetization_trajectory`); ``"batched"`` evolves a whole
        task's realizations as one block on NumPy or CuPy (:mod:`ensemble.engines.batched`; sz only,
        agreeing with the serial engines to ~1e-10, not bitwise).
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
        entropy (nats) of each trajectory (kick engines; the same as adding ``"entanglement"`` to
        ``observables``).
    observables : sequence of str, optional
        Stored quantities (:mod:`ensemble.observables`): ``"sz"`` (always stored),
        ``"entanglement"``, and the per-realization relaxation rate Gamma (units of J; no gamma and
        no time axis, dims ``(L, W, realization)``): ``"relaxation_rate"`` (first order in
        gamma^2, Delta != 0), ``"relaxation_resolution"`` (its rounding resolution),
        ``"relaxation_rate_exact"`` (the exact Lindbladian gap, L <= 8) and
        ``"relaxation_resolution_exact"`` (its resolution). An engine refuses the
        ones it cannot evaluate; a rate refuses the sizes it cannot reach before the run starts.
    disorder : str or Disorder
        The disorder law (:mod:`ensemble.models.disorder`): ``"uniform"`` (h_j uniform in [-W, W],
        the paper's), ``"aubry-andre"`` (h_j = W cos(2 pi beta j + phi)), or a law object such as
        ``AubryAndre(beta=...)``.
    initial_state : str or ProductState
        The product start (:mod:`ensemble.models.initial_states`): ``"neel"`` (site 1 up, the
        paper's), ``"domain-wall"`` or ``"random-product"`` (drawn per realization).
    bath_site : int
        The bath site b, 1 <= b <= min(L) (default 1, the chain's end).
    bath : str or Bath
        The bath kind (:mod:`ensemble.models.baths`; ``"dephasing"``, the paper's Gaussian S^z kicks)
        built with ``gamma``, ``tau`` and ``bath_site``, or a bath object that agrees with them. An
        engine that does not apply the kind refuses the run with its reason.
    client : None, str, ensemble.run.jobqueue.ClusterConfig or distributed.Client
        Where to run (:mod:`ensemble.run.cluster`): None starts a TLS-secured local cluster with the
        dashboard on 127.0.0.1; an address connects to a scheduler; ``"synchronous"`` runs
        in-process; a ``ClusterConfig`` starts a local cluster (``tls=False``: a plain one) or a
        batch-queue cluster (SLURM, PBS, SGE through dask-jobqueue) whose lost jobs are resubmitted.
    n_workers : int, optional
        Worker processes of the default local cluster (>= 1; default: one per CPU).
    omp_threads : int
        Numeric threads per local worker (default 1, see docs/design.md "Threads").
    checkpoint : path, optional
        Directory for self-verifying per-batch part files (:mod:`ensemble.run.checkpoint`); a rerun
        computes only what is missing, and recomputes parts that fail verification. One live run
        per directory (lock file).
    batch_size : int, optional
        Realizations per task; default: about ``TARGET_TASK_SECONDS`` of work per task.
    max_memory : float, optional
        GiB one realization (and the Dataset) may use; default: the memory available on this
        machine. Runs estimated to need more are refused before anything is allocated
        (:func:`ensemble.run.cost.check_realization`).
    progress : bool
        Print a progress line on stderr.

    Returns
    -------
    xarray.Dataset
        ``sz(L, W, gamma, realization, time, site)`` and ``field(L, W, realization, site)``
        (see :mod:`ensemble.io.dataset`), attributes holding every parameter and the provenance.

    Raises
    ------
    ValueError
        On any invalid argument, checkpoint conflict or failed cost guard (:func:`plan_grid`).
    RunInterrupted
        On Ctrl-C (a ``KeyboardInterrupt``): its message says what was saved and how to resume.
    """
    call = _call_string({k: v for k, v in locals().items()})
    plan = plan_grid(
        L=L, W=W, delta=delta, gamma=gamma, tau=tau, t_final=t_final, n_times=n_times, times=times,
        n_realizations=n_realizations, seed=seed, J=J, engine=engine, unraveling=unraveling, noise=noise,
        entanglement=entanglement, observables=observables, disorder=disorder, initial_state=initial_state,
        bath_site=bath_site, bath=bath, n_workers=n_workers, omp_threads=omp_threads, checkpoint=checkpoint,
        batch_size=batch_size, max_memory=max_memory, device=device, client=client,
    )
    spec, steps, fp, directory = plan.spec, plan.steps, plan.fingerprint, plan.checkpoint
    if spec.device == "gpu" and _runs_here(client):
        reason = gpu_unavailable_reason()
        if reason:
            raise ValueError(reason)
    entropy, counts = spec.entropy, plan.counts
    run_hash = hashlib.sha1(fp.encode()).hexdigest()[:10]

    with ckpt.session(directory) if directory is not None else contextlib.nullcontext():
        stored: dict = {}
        if directory is not None:
            if not (directory / ckpt.MANIFEST).exists():
                ckpt.write_manifest(directory, fp)
            stored = ckpt.load_parts(directory, fp, steps, spec.observables)

        results: list[tuple[int, float, dict]] = []
        tasks: list[tuple[int, float, tuple[int, ...]]] = []
        for L_ in plan.Ls:
            for W_ in plan.Ws:
                have = stored.get((L_, W_), {})
                reused = sorted(r for r in have if r < counts[L_])
                if reused:
                    batch = {"realization": np.array(reused, dtype=np.int64)}
                    batch.update({name: np.stack([have[r][name] for r in reused]) for name in have[reused[0]]})
                    results.append((L_, W_, batch))
                missing = [r for r in range(counts[L_]) if r not in have]
                tasks += [(L_, W_, b) for b in _batches(missing, plan.batch_sizes[L_])]

        if tasks:
            results += _execute(plan, tasks, run_hash, client, progress)

    attrs = dataset_attrs(plan, engine, provenance_attrs(call))
    return build_dataset(
        Ls=plan.Ls, Ws=plan.Ws, gamma=spec.bath.gamma, steps=steps, tau=spec.bath.tau, n_realizations=counts,
        batches=results, attrs=attrs, observables=spec.observables,
    )


def dataset_attrs(plan: Plan, engine: str, provenance: dict[str, str]) -> dict:
    """The attributes of a run's Dataset: physics, engine, seeds, fingerprint and the given provenance."""
    spec = plan.spec
    chosen = spec.resolved_engine()
    attrs = {
        **_description(spec),
        **spec.attrs(),
        "t_final": float(plan.steps[-1] * spec.bath.tau), "n_steps": int(plan.steps[-1]),
        "engine": engine,
        "engine_resolved": chosen.FAMILY, "engine_name": chosen.NAME,
        "unraveling": spec.unraveling, "noise": spec.noise, "entanglement": int(spec.entanglement),
        "seed_entropy": str(spec.entropy),
        "seed_scheme": seeds.SEED_SCHEME + (seeds.INITIAL_STREAM if spec.initial.RANDOM else ""),
        "run_fingerprint": plan.fingerprint,
        **provenance,
    }
    if spec.device != "cpu":
        attrs["device"] = spec.device
    return attrs


def _description(spec: RunSpec) -> dict[str, str]:
    """The ``title`` and ``conventions`` attributes (for the paper's setup, the strings of every earlier run)."""
    b = spec.bath.site
    start = ("Neel start with site 1 up" if spec.initial.NAME == "neel"
             else f"{spec.initial.NAME} start (attrs initial_state)")
    disorder = "" if spec.disorder.NAME == "uniform" else f"; fields from the {spec.disorder.NAME} law"
    return {
        "title": f"Disordered XXZ chain with a T = infinity bath on site {b}: quantum trajectories",
        "conventions": f"S = sigma/2; sites 1..L, site {b} = bath site; {start}; "
        f"time t = step * tau in units of 1/J; kick exp(-i eta gamma Sz_{b}), eta ~ N(0, tau); "
        f"noise average = Lindblad with dephasing coefficient gamma^2/2{disorder}",
    }


class WorkersLost(RuntimeError):
    """The workers running a task died again and again (Dask's ``KilledWorker``): usually memory."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_grid`; the message says what was saved and how to resume.

    Attributes
    ----------
    checkpoint : pathlib.Path or None
        Where the finished batches are.
    entropy : int
        The run's seed entropy (pass it as ``seed`` to reproduce a seedless run).
    """

    def __init__(self, message: str, checkpoint: Path | None, entropy: int) -> None:
        super().__init__(message)
        self.checkpoint, self.entropy = checkpoint, entropy


def _ignore_interrupts() -> None:
    """Make a local worker process ignore SIGINT: a terminal's Ctrl-C reaches the whole process
    group, and the client, not each worker, should stop the run (one message, no worker tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _runs_here(client) -> bool:
    """Whether the tasks run on this machine (in-process, or a local cluster we start)."""
    if client is None:
        return True
    if isinstance(client, str):
        return client in SYNCHRONOUS
    return getattr(client, "kind", None) == "local"


def _gpu_resources(spec: RunSpec, dask_client, client) -> dict:
    """``resources={"GPU": 1}`` for the tasks of a GPU run on a cluster we did not start ourselves.

    Our own local cluster runs one worker for the GPU and needs no constraint. On another cluster the
    GPU workers must advertise the resource (``dask worker --resources GPU=1``, or ``[cluster] gpus``
    for batch jobs); a scheduler whose running workers have none is refused instead of waiting forever.
    """
    kind = getattr(client, "kind", None)
    if spec.device != "gpu" or client is None or kind == "local":
        return {}
    if isinstance(client, str) or kind == "address":
        workers = dask_client.scheduler_info().get("workers", {})
        if workers and not any(w.get("resources", {}).get("GPU") for w in workers.values()):
            raise ValueError('device = "gpu": no worker of the scheduler advertises the resource GPU '
                             "(start GPU workers with: dask worker ADDRESS --resources GPU=1)")
    return {"resources": {"GPU": 1}}


def _execute(plan: Plan, tasks, run_hash: str, client, show: bool) -> list:
    """Run the tasks where ``client`` says, saving each finished batch as soon as it arrives."""
    spec, directory = plan.spec, plan.checkpoint
    delayed = [
        dask.delayed(run_batch, pure=True)(
            spec, L, W, rs, dask_key_name=f"realizations-L{L}-W{seeds.w_key(W)}-r{rs[0]}-{rs[-1]}-{run_hash}"
        )
        for L, W, rs in tasks
    ]
    bar = _Progress(len(tasks), sum(len(rs) for _, _, rs in tasks), show)
    out = []

    def keep(task, batch):
        L, W, rs = task
        if directory is not None:
            ckpt.write_part(directory, plan.fingerprint, L, W, plan.steps, batch)
        out.append((L, W, batch))
        bar.update(len(rs))

    quiet = contextlib.ExitStack()
    try:
        with quiet, connect(client, n_workers=plan.n_workers, omp_threads=plan.omp_threads, verbose=show,
                            gpu=spec.device == "gpu") as dask_client:
            futures = []
            try:
                if dask_client is None:  # in this process: its thread pools limited for the run only
                    with limit_threads(plan.omp_threads):
                        for task, d in zip(tasks, delayed):
                            keep(task, d.compute(scheduler="synchronous"))
                else:
                    from distributed import as_completed

                    if client is None:  # our own local cluster: Ctrl-C is for this process to handle
                        dask_client.run(_ignore_interrupts)
                    from distributed.scheduler import KilledWorker

                    futures = dask_client.compute(delayed, **_gpu_resources(spec, dask_client, client))
                    index = {f.key: k for k, f in enumerate(futures)}
                    try:
                        for future, batch in as_completed(futures, with_results=True):
                            keep(tasks[index[future.key]], batch)
                    except KilledWorker as exc:
                        raise WorkersLost(
                            f"workers kept dying while running {exc.task} (every worker that ran it died; "
                            "the likely cause is memory: the system kills a worker that exceeds it); use fewer "
                            "workers (--workers, run.workers) or a machine with more memory"
                        ) from None
            except BaseException:
                # stopping with tasks in flight logs warnings and errors (CancelledError, lost workers,
                # closed connections) that tell the user nothing beyond the one line the failure prints:
                # Dask's loggers only, restored once the cluster is closed
                quiet.enter_context(_quiet_dask_loggers())
                if dask_client is not None:
                    with contextlib.suppress(Exception):  # a dying worker must not hide the failure
                        if client is None:  # our own workers, about to stop
                            dask_client.run(logging.disable, logging.ERROR)
                        dask_client.cancel(futures)
                raise
    except KeyboardInterrupt:
        if directory is not None:
            message = (f"interrupted: {bar.done}/{bar.total} batches saved in {directory}; "
                       "run the same call again to resume")
            if plan.entropy_source == "fresh":
                message += f" (the fresh seed entropy {spec.entropy} is recorded there)"
        else:
            message = "interrupted: no checkpoint directory was given, results are lost"
        raise RunInterrupted(message, directory, spec.entropy) from None
    return out


#: The loggers of Dask's own packages, quietened while a run stops after Ctrl-C.
DASK_LOGGERS = ("distributed", "dask")


@contextlib.contextmanager
def _quiet_dask_loggers(level: int = logging.CRITICAL):
    """Raise the level of Dask's loggers (and of their children that set their own) to ``level``
    inside the block and restore each one's previous level after; no other logger is touched."""
    names = [name for name in list(logging.root.manager.loggerDict)
             if any(name == p or name.startswith(p + ".") for p in DASK_LOGGERS)]
    loggers = [logging.getLogger(name) for name in dict.fromkeys([*DASK_LOGGERS, *names])]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.level, level))
    try:
        yield
    finally:
        for lg, old in zip(loggers, before):
            lg.setLevel(old)
