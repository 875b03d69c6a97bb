"""The batched engine: many disorder realizations evolved side by side, on NumPy (CPU) or CuPy (GPU).

The off-diagonal part of H0 in the Sz_tot = 0 sector is the same for every disorder realization
(all elements J/2 on one pattern, :mod:`ensemble.engines.chebyshev`); only the diagonal (fields and
Delta S^z S^z) differs. So a block X of shape (dim, K) holds K states, one per column, and one
pass applies ``2 H_s X = dd * X + hh * (A @ X)`` to all of them with one gather over the shared
pattern A and a per-column diagonal dd and scale hh (:mod:`ensemble.engines.batched_kernels`).

Every column runs its own restarting Chebyshev series at its own stage (asynchronous columns):

- a column is one *job*, the noiseless reference or the bath run of one realization;
- a job is a sequence of *intervals* between *events*: one tau step per interval for the
  Gaussian kicks (the event is the kick ``exp(-i eta_n gamma S^z_b)``, paper Eq. 4), the waiting
  time to the next Z_b flip or sample step for the jump unraveling (:mod:`ensemble.engines.jump`),
  and the time to the next sample for the reference;
- an interval is propagated with the same Chebyshev series and error budget as the serial engines
  (intervals with ``t r > CHUNK_ARGUMENT`` in equal chunks, each ``tol / n``); the series' last
  pass applies the event's phase for the column;
- the host knows how many passes each column still needs, so it runs passes back to back until
  the first column finishes, then handles exactly the finished columns (vectorized over them):
  samples, the next interval, and a new job from the queue when a job is complete, so the block
  stays full and no column waits for another. Only when the queue is empty are idle columns
  dropped (in steps of a quarter of the block).

Spectral bounds come per realization from a batched Lanczos run (dense ``eigvalsh`` for small
sectors), widened and intersected with Gershgorin's interval exactly as in the serial engine. The
half-width r is then rounded *up* to the grid ``2^(n / 64)`` (at most 1.1 % wider, so at most ~1 %
more passes): realizations with the same rounded r and the same interval share one coefficient
series, so the Bessel coefficients come from a table filled by ``scipy.special.jv`` on the host
(the serial engine's own functions), a few thousand series per batch, instead of one per column
and interval.

The noise is drawn exactly as by the serial engines, from the same keyed streams: the kicks'
``eta_n ~ N(0, tau)`` in step order (drawn in blocks, which gives the same numbers), the jump's
waiting times by :func:`ensemble.engines.jump.flip_steps`. So each realization is the serial
engines' realization; the numbers agree within the two engines' truncation budgets, 2 x 1e-12 per
step (they use different spectral bounds, hence different but equally accurate polynomials, and
sum in another order; measured: <= 1.4e-10 at t <= 100, 7.2e-9 over 20 000 kicked steps at L = 16),
not bit for bit, and not bit for bit across block widths either (~1e-15).

Only ``sz`` is recorded; the engine refuses other observables.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np

from ensemble.engines import REGISTRY, Engine, Task
from ensemble.engines.batched_kernels import Backend, backend, gpu_unavailable_reason
from ensemble.engines.chebyshev import (CHUNK_ARGUMENT, DENSE_BOUNDS_MAX, LANCZOS_MARGIN, STEP_TOLERANCE,
                                        chebyshev_series, compact_operator, widened_bounds)
from ensemble.engines.jump import _MAX_INTERVAL_TOL, flip_steps
from ensemble.engines.manybody import SECONDS_PER_ENTRY, SECONDS_PER_STEP, sector_working_bytes
from ensemble.engines.stepper import NORM_TOLERANCE
from ensemble.models import xxz
from ensemble.models.baths import Bath
from ensemble.models.xxz import XXZChain
from ensemble.observables import OBSERVABLES

__all__ = ["BatchedEngine", "BatchedJumpEngine", "run_batched", "MAX_COLUMNS", "R_GRID", "LANCZOS_STEPS",
           "bytes_per_column"]

#: Columns per block by device (the GPU default takes 14 GB of an H200 at L = 18, bytes_per_column).
MAX_COLUMNS = {"cpu": 32, "gpu": 4096}
#: The half-width r is rounded up to ``2 ** (ceil(R_GRID * log2 r) / R_GRID)``.
R_GRID = 64
#: Lanczos steps of the batched spectral bounds (sectors larger than DENSE_BOUNDS_MAX).
LANCZOS_STEPS = 120
#: Noise increments drawn per column at a time (kicks).
_ETA_BLOCK = 4096
#: Kinds of job: the noiseless reference, the Gaussian-kick run, the jump run.
_REFERENCE, _KICK, _JUMP = 0, 1, 2
#: GPU cost model, measured on one H200 (docs/performance.md): seconds per (sector entry x column) of
#: one pass, and the host's share of a pass (launches, events) that the columns of a block split.
_GPU_SECONDS_PER_ENTRY = 3.6e-11
_GPU_PASS_OVERHEAD = 1.5e-4
#: Passes per tau step: the Chebyshev order of one kicked step (14-17 at L = 16-18, W <= 10), and the
#: jump unraveling's ~35-40 passes per unit time.
_PASSES_PER_STEP = {"kick": 15.0, "jump": 2.0}


def bytes_per_column(L: int) -> int:
    """Device memory of one column: four complex vectors and the real diagonal, per sector entry."""
    return math.comb(L, L // 2) * (4 * 16 + 8)


class _CoefficientTable:
    """Chebyshev series keyed by (rounded r, interval steps, tolerance), concatenated in one array."""

    def __init__(self, tau: float) -> None:
        self.tau = tau
        self.ids: dict[tuple[int, int, float], int] = {}
        # per series: start in the table, order, number of chunks, chunk length (units of 1/J)
        self._meta: list[tuple[int, int, int, float]] = []
        self.offset = np.zeros(0, dtype=np.int64)
        self.order = np.zeros(0, dtype=np.int32)
        self.chunks = np.zeros(0, dtype=np.int64)
        self.dt = np.zeros(0)
        self.host = np.zeros(0, dtype=np.complex128)
        self._pieces: list[np.ndarray] = []
        self._size = 0

    def id(self, n_r: int, m: int, tol: float) -> int:
        """The id of the series for ``m`` steps at half-width ``2^(n_r/R_GRID)`` and 2-norm error ``tol``."""
        key = (n_r, m, tol)
        found = self.ids.get(key)
        if found is not None:
            return found
        r = 2.0 ** (n_r / R_GRID)
        t = m * self.tau
        chunks = max(1, math.ceil(t * r / CHUNK_ARGUMENT))
        coef = chebyshev_series(t / chunks * r, tol / chunks)
        self._meta.append((self._size, coef.size - 1, chunks, t / chunks))
        self._pieces.append(coef)
        self._size += coef.size
        self.ids[key] = len(self._meta) - 1
        return self.ids[key]

    def flush(self) -> np.ndarray:
        """The whole table, with the series added since the last call appended (and their metadata)."""
        if self._pieces:
            self.host = np.concatenate([self.host, *self._pieces])
            self._pieces = []
            meta = np.array(self._meta, dtype=np.float64).reshape(-1, 4)
            self.offset = meta[:, 0].astype(np.int64)
            self.order = meta[:, 1].astype(np.int32)
            self.chunks = meta[:, 2].astype(np.int64)
            self.dt = meta[:, 3].copy()
        return self.host


class _Sector:
    """What every realization of one L shares: the pattern, S^z table, bond diagonal and start."""

    def __init__(self, L: int, chain: XXZChain, bath_site: int, be: Backend) -> None:
        bonds = xxz.xxz_hamiltonian(np.zeros(L), delta=chain.delta, J=chain.J)
        sz = xxz.sz_diagonals(L)
        op = compact_operator(bonds, sz[bath_site - 1] > 0)
        self.L, self.dim, self.hop = L, op.dim, op.hop
        self.rowlen = np.diff(op.indptr.astype(np.int64))
        self.dense_offdiag = op.csr.toarray() - np.diag(op.diag) if op.dim <= DENSE_BOUNDS_MAX else None
        self.A = be.pattern(op.indptr, op.indices, op.dim)
        self.SZ = be.asarray(np.ascontiguousarray(sz.T))  # (dim, L)
        self.ZZ = be.asarray(op.diag)  # the Delta S^z S^z diagonal (the fields are zero here)
        self.bath_dn = be.asarray(op.bath == 1)

    def diagonals(self, be: Backend, fields: np.ndarray):
        """H0's diagonal for each column of fields (L, n): (dim, n) on the device."""
        return self.SZ @ be.asarray(fields) + self.ZZ[:, None]


def _bounds(be: Backend, sector: _Sector, fields: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(E_min, E_max) per realization: Lanczos (or dense) widened by the margin, within Gershgorin."""
    xp = be.xp
    D = sector.diagonals(be, fields)
    radius = be.asarray(abs(sector.hop) * sector.rowlen.astype(np.float64))
    g_lo = be.to_host((D - radius[:, None]).min(axis=0))
    g_hi = be.to_host((D + radius[:, None]).max(axis=0))
    if sector.dense_offdiag is not None:
        Dh = be.to_host(D)
        H = np.broadcast_to(sector.dense_offdiag, (Dh.shape[1], sector.dim, sector.dim)).copy()
        idx = np.arange(sector.dim)
        H[:, idx, idx] = Dh.T
        ev = np.linalg.eigvalsh(H)
        lo, hi = ev[:, 0], ev[:, -1]
        ok = np.ones(lo.size, dtype=bool)
    else:
        m = min(LANCZOS_STEPS, sector.dim - 1)
        v = xp.cos(xp.arange(sector.dim, dtype=xp.float64) * 0.7 + 0.3)
        v = xp.ascontiguousarray(xp.broadcast_to((v / xp.sqrt(v @ v))[:, None], D.shape))
        v_prev = xp.zeros_like(v)
        beta = xp.zeros(D.shape[1])
        alphas, betas = [], []
        for _ in range(m):
            w = D * v + sector.hop * be.hop_sum(sector.A, v)
            alpha = (w * v).sum(axis=0)
            w -= alpha * v + beta * v_prev
            beta = xp.sqrt((w * w).sum(axis=0))
            v_prev, v = v, w / xp.where(beta > 0, beta, 1.0)
            alphas.append(alpha)
            betas.append(beta)
        a = be.to_host(xp.stack(alphas, axis=1))
        b = be.to_host(xp.stack(betas, axis=1))
        T = np.zeros((a.shape[0], m, m))
        i = np.arange(m)
        T[:, i, i] = a
        T[:, i[:-1], i[:-1] + 1] = b[:, :-1]
        T[:, i[:-1] + 1, i[:-1]] = b[:, :-1]
        theta, s = np.linalg.eigh(T)
        lo, hi = theta[:, 0], theta[:, -1]
        # residual of the extreme Ritz pairs: an eigenvalue lies within it (Lanczos error bound)
        res = np.maximum(np.abs(b[:, -1] * s[:, -1, 0]), np.abs(b[:, -1] * s[:, -1, -1]))
        ok = np.isfinite(lo) & np.isfinite(hi) & (res <= 0.1 * LANCZOS_MARGIN * (hi - lo))
    wide_lo, wide_hi = widened_bounds(lo, hi, g_lo, g_hi)
    return np.where(ok, wide_lo, g_lo), np.where(ok, wide_hi, g_hi)


class _Block:
    """The device arrays and host bookkeeping of one block of K columns."""

    def __init__(self, be: Backend, dim: int, K: int) -> None:
        xp = be.xp
        self.X = xp.zeros((dim, K), dtype=xp.complex128)
        self.Y = xp.zeros((dim, K), dtype=xp.complex128)
        self.W = xp.zeros((dim, K), dtype=xp.complex128)
        self.C = xp.zeros((dim, K), dtype=xp.complex128)
        self.DD = xp.zeros((dim, K), dtype=xp.float64)
        self.K = K
        # host mirrors of the per-column parameters (uploaded after each round of events)
        self.job = np.full(K, -1, dtype=np.int64)  # job index, -1: idle
        self.stage = np.zeros(K, dtype=np.int32)
        self.order = np.full(K, np.iinfo(np.int32).max, dtype=np.int32)
        self.offset = np.zeros(K, dtype=np.int64)
        self.hh = np.zeros(K)
        self.ph_up = np.ones(K, dtype=np.complex128)
        self.ph_dn = np.ones(K, dtype=np.complex128)
        # interval state: current interval index (jobs with a schedule) or step (kicks), chunks left
        self.interval = np.zeros(K, dtype=np.int64)
        self.step = np.zeros(K, dtype=np.int64)
        self.chunks_left = np.zeros(K, dtype=np.int64)
        self.series = np.zeros(K, dtype=np.int64)
        # kicks: noise increments eta_n of steps eta_base + 0 .. _ETA_BLOCK - 1, per column
        self.etas = np.zeros((K, _ETA_BLOCK))
        self.eta_base = np.zeros(K, dtype=np.int64)
        # reference and jump jobs: each interval's end step, flip and series id (padded per column)
        self.ends = np.zeros((K, 1), dtype=np.int64)
        self.flips = np.zeros((K, 1), dtype=bool)
        self.ids = np.zeros((K, 1), dtype=np.int64)

    def set_schedule(self, col: int, ends: np.ndarray, flips: np.ndarray, ids: np.ndarray) -> None:
        """Store one column's intervals (the tables grow to the longest schedule)."""
        if ends.size > self.ends.shape[1]:
            grow = ends.size - self.ends.shape[1]
            self.ends, self.flips, self.ids = (np.pad(a, ((0, 0), (0, grow))) for a in (self.ends, self.flips, self.ids))
        n = ends.size
        self.ends[col, :n], self.flips[col, :n], self.ids[col, :n] = ends, flips, ids

    def keep(self, be: Backend, cols: np.ndarray) -> None:
        """Drop every column not in ``cols`` (idle ones, once the queue is empty)."""
        for name in ("X", "Y", "W", "C", "DD"):
            setattr(self, name, be.xp.ascontiguousarray(getattr(self, name)[:, be.asarray(cols)]))
        for name in ("job", "stage", "order", "offset", "hh", "ph_up", "ph_dn", "interval", "step", "chunks_left",
                     "series", "etas", "eta_base", "ends", "flips", "ids"):
            setattr(self, name, getattr(self, name)[cols].copy())
        self.K = cols.size


class _BatchedRun:
    """One call of :func:`run_batched`: the queue of jobs, the block, the tables and the results."""

    def __init__(self, tasks: Sequence[Task], rngs: Sequence[np.random.Generator], unraveling: str,
                 device: str, max_columns: int | None, tol: float) -> None:
        first = tasks[0]
        for t in tasks:
            if (t.L != first.L or t.chain != first.chain or t.bath != first.bath
                    or not np.array_equal(t.steps, first.steps)):
                raise ValueError("a batch must share L, the chain, the bath and the sample steps")
        self.be = backend(device)
        self.tasks, self.rngs, self.unraveling, self.tol = tasks, rngs, unraveling, tol
        self.L, self.tau, self.bath = first.L, first.bath.tau, first.bath
        self.steps = np.asarray(first.steps, dtype=np.int64)
        self.n_final = int(self.steps[-1])
        self.sector = _Sector(self.L, first.chain, first.bath.site, self.be)
        self.table = _CoefficientTable(self.tau)
        n_jobs = 2 * len(tasks)
        self.K = min(max_columns or MAX_COLUMNS[device], n_jobs)
        self.out = np.full((len(tasks), 2, self.steps.size, self.L), np.nan)
        self.passes = 0
        self.column_passes = 0
        self._table_dev = None

    def run(self) -> list[dict[str, np.ndarray]]:
        """Bounds for every realization, then the block until every job is done: ``{"sz": (2, T, L)}`` each."""
        be = self.be
        fields = np.stack([t.fields for t in self.tasks], axis=1)  # (L, n)
        lo, hi = np.empty(len(self.tasks)), np.empty(len(self.tasks))
        for a in range(0, len(self.tasks), self.K):
            lo[a:a + self.K], hi[a:a + self.K] = _bounds(be, self.sector, fields[:, a:a + self.K])
        self.center = 0.5 * (hi + lo)
        radius = np.maximum(0.5 * (hi - lo), 1e-12)
        self.n_r = np.ceil(R_GRID * np.log2(radius)).astype(np.int64)
        self.r_q = 2.0 ** (self.n_r / R_GRID)
        self.fields = fields
        self.start_index = np.array([np.flatnonzero(xxz.product_state(self.L, t.up_sites))[0] for t in self.tasks])
        self.queue = deque(range(2 * len(self.tasks)))  # job 2i: reference of task i, 2i + 1: bath run
        blk = self.block = _Block(be, self.sector.dim, self.K)
        self._start(np.arange(self.K))
        while np.any(blk.job >= 0):
            live = blk.job >= 0
            n = int(np.min(blk.order[live] - blk.stage[live]))
            dev = self._upload()
            for _ in range(n):
                be.chebyshev_pass(self.sector.A, blk.X, blk.Y, blk.DD, dev["hh"], dev["stage"], dev["order"],
                                  dev["offset"], dev["table"], dev["ph_up"], dev["ph_dn"], self.sector.bath_dn,
                                  blk.W, blk.C)
                blk.X, blk.Y, blk.W = blk.W, blk.X, blk.Y
                dev["stage"] += 1
            self.passes += n
            self.column_passes += n * int(np.count_nonzero(live))
            blk.stage += n
            blk.stage[~live] = 0
            done = np.flatnonzero(live & (blk.stage == blk.order))
            self._events(done)
            if not self.queue:
                idle = blk.job < 0
                if idle.any() and (idle.sum() >= max(1, blk.K // 4) or idle.all()):
                    blk.keep(be, np.flatnonzero(~idle))
        return [{"sz": self.out[i]} for i in range(len(self.tasks))]

    def _sample_index(self, steps: np.ndarray) -> np.ndarray:
        """The sample index of each step, -1 where it is not a sample step."""
        k = np.minimum(np.searchsorted(self.steps, steps), self.steps.size - 1)
        return np.where(self.steps[k] == steps, k, -1)

    def _upload(self) -> dict:
        """The per-column parameters as device arrays (``stage`` a copy: the passes advance it)."""
        be, blk, xp = self.be, self.block, self.be.xp
        host = self.table.flush()
        if self._table_dev is None or self._table_dev.size != host.size:
            self._table_dev = be.asarray(host)
        return {"stage": xp.array(blk.stage, copy=True), "order": be.asarray(blk.order),
                "offset": be.asarray(blk.offset), "hh": be.asarray(blk.hh), "ph_up": be.asarray(blk.ph_up),
                "ph_dn": be.asarray(blk.ph_dn), "table": self._table_dev}

    def _schedule(self, job: int) -> tuple[np.ndarray, ...]:
        """(end step, flip?, series id) of each interval of a reference or jump job."""
        task_i, bath_run = divmod(job, 2)
        ends = self.steps[1:]
        flips = np.zeros(0, dtype=np.int64)
        if bath_run:
            p = self.bath.flip_probability()
            flips = flip_steps(p, self.n_final, self.rngs[task_i])
            ends = np.union1d(flips, ends)
        m = np.diff(ends, prepend=0)
        is_flip = np.isin(ends, flips)
        n_r = int(self.n_r[task_i])
        ids = np.empty(ends.size, dtype=np.int64)
        for value in np.unique(m):
            tol = min(self.tol * int(value), _MAX_INTERVAL_TOL) if bath_run else self.tol
            ids[m == value] = self.table.id(n_r, int(value), tol)
        return ends, is_flip, ids

    def _start(self, cols: np.ndarray) -> None:
        """Give the next jobs of the queue to the idle columns ``cols`` (the rest stay idle)."""
        be, blk = self.be, self.block
        take = min(cols.size, len(self.queue))
        jobs = np.array([self.queue.popleft() for _ in range(take)], dtype=np.int64)
        cols, idle = cols[:take], cols[take:]
        if idle.size:  # zero state, never finishes (its stage is reset every round)
            blk.job[idle] = -1
            blk.order[idle] = np.iinfo(np.int32).max
            blk.offset[idle] = 0
            blk.X[:, be.asarray(idle)] = 0.0
            blk.Y[:, be.asarray(idle)] = 0.0
            blk.C[:, be.asarray(idle)] = 0.0
        if not take:
            return
        tasks = jobs // 2
        dcols = be.asarray(cols)
        D = self.sector.diagonals(be, self.fields[:, tasks])
        blk.DD[:, dcols] = (D - be.asarray(self.center[tasks])) * be.asarray(2.0 / self.r_q[tasks])
        blk.hh[cols] = 2.0 * self.sector.hop / self.r_q[tasks]
        blk.X[:, dcols] = 0.0
        blk.X[be.asarray(self.start_index[tasks]), dcols] = 1.0
        blk.job[cols] = jobs
        blk.step[cols] = 0
        blk.interval[cols] = 0
        self._record(cols, np.zeros(take, dtype=np.int64))
        for col, job in zip(cols.tolist(), jobs.tolist()):
            task_i, bath_run = divmod(job, 2)
            if bath_run and self.unraveling == "kick":
                blk.etas[col] = self.bath.noise(self.rngs[task_i], _ETA_BLOCK)
                blk.eta_base[col] = 0
                blk.series[col] = self.table.id(int(self.n_r[task_i]), 1, self.tol)
            else:
                blk.set_schedule(col, *self._schedule(job))
                blk.series[col] = blk.ids[col, 0]
        self._begin_interval(cols)

    def _kind(self, cols: np.ndarray) -> np.ndarray:
        bath_run = (self.block.job[cols] % 2) == 1
        return np.where(bath_run, _KICK if self.unraveling == "kick" else _JUMP, _REFERENCE)

    def _begin_interval(self, cols: np.ndarray) -> None:
        """Start the current interval of each column (its series id is set): order, chunks, phase."""
        blk, table = self.block, self.table
        table.flush()
        series = blk.series[cols]
        blk.offset[cols], blk.order[cols], blk.chunks_left[cols] = table.offset[series], table.order[series], \
            table.chunks[series]
        blk.stage[cols] = 0
        self._set_phase(cols)

    def _set_phase(self, cols: np.ndarray) -> None:
        """The phase that ends each column's current chunk: global, times the event's on the last chunk."""
        blk = self.block
        g = np.exp(-1j * self.table.dt[blk.series[cols]] * self.center[blk.job[cols] // 2])
        up, dn = g.copy(), g.copy()
        last = blk.chunks_left[cols] == 1
        kind = self._kind(cols)
        kick = np.flatnonzero(last & (kind == _KICK))
        if kick.size:
            kc = cols[kick]
            for col in kc[blk.step[kc] - blk.eta_base[kc] >= _ETA_BLOCK].tolist():  # the next block, same stream
                blk.eta_base[col] += _ETA_BLOCK
                blk.etas[col] = self.bath.noise(self.rngs[blk.job[col] // 2], _ETA_BLOCK)
            phases = self.bath.kick_phases(blk.etas[kc, blk.step[kc] - blk.eta_base[kc]])
            up[kick] *= phases[:, 0]
            dn[kick] *= phases[:, 1]
        flip = np.flatnonzero(last & (kind == _JUMP))
        flip = flip[blk.flips[cols[flip], blk.interval[cols[flip]]]]
        dn[flip] = -dn[flip]
        blk.ph_up[cols], blk.ph_dn[cols] = up, dn

    def _events(self, done: np.ndarray) -> None:
        """Handle the columns whose series just completed (their new state is in X)."""
        blk = self.block
        if done.size == 0:
            return
        more = blk.chunks_left[done] > 1
        chunk = done[more]
        blk.chunks_left[chunk] -= 1
        blk.stage[chunk] = 0
        self._set_phase(chunk)
        ended = done[~more]
        if ended.size == 0:
            return
        kind = self._kind(ended)
        kick = kind == _KICK
        # the step each interval ended on, and whether it is a sample
        end_step = np.empty(ended.size, dtype=np.int64)
        end_step[kick] = blk.step[ended[kick]] + 1
        sched = ended[~kick]
        end_step[~kick] = blk.ends[sched, blk.interval[sched]]
        blk.step[ended] = end_step
        sample = self._sample_index(end_step)
        has = sample >= 0
        self._record(ended[has], sample[has])
        blk.interval[ended[~kick]] += 1
        finished = end_step == self.n_final
        nxt = ended[~finished & ~kick]
        blk.series[nxt] = blk.ids[nxt, blk.interval[nxt]]
        cont = ended[~finished]
        self._begin_interval(cont)
        if finished.any():
            self._start(ended[finished])

    def _record(self, cols: np.ndarray, k: np.ndarray) -> None:
        """Store <S^z_j> of columns ``cols`` at sample indices ``k`` (norm checked)."""
        if cols.size == 0:
            return
        be, blk = self.be, self.block
        psi = blk.X[:, be.asarray(cols)]
        prob = psi.real ** 2 + psi.imag ** 2
        sz = be.to_host(self.sector.SZ.T @ prob)
        norm = be.to_host(prob.sum(axis=0))
        steps = self.steps[k]
        drift = np.abs(norm - 1.0)
        limit = NORM_TOLERANCE + 2.0 * self.tol * (steps + k)
        bad = ~(drift <= limit)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FloatingPointError(
                f"state norm drifted by {drift[i]:.3e} (> {limit[i]:.3g}) at step {steps[i]} in the batched engine; "
                "the propagation is not trustworthy")
        jobs = blk.job[cols]
        self.out[jobs // 2, jobs % 2, k] = sz.T


def run_batched(tasks: Sequence[Task], rngs: Sequence[np.random.Generator], *, unraveling: str = "kick",
                device: str = "cpu", max_columns: int | None = None,
                tol: float = STEP_TOLERANCE) -> tuple[list[dict[str, np.ndarray]], dict[str, int]]:
    """Both runs of every realization, batched (module docstring).

    Parameters
    ----------
    tasks : sequence of Task
        Realizations sharing L, the chain, the bath and the sample steps (any fields and starts).
    rngs : sequence of numpy.random.Generator
        Each realization's noise stream (:func:`ensemble.run.seeds.noise_rng`).
    unraveling : {"kick", "jump"}
        Gaussian kicks (paper Eq. 4) or the exact jump unraveling of their mean.
    device : {"cpu", "gpu"}
        NumPy or CuPy.
    max_columns : int, optional
        Columns of the block (default :data:`MAX_COLUMNS` of the device).
    tol : float
        2-norm error bound per tau step (kicks), per interval (reference) or ``m tol`` per interval
        of m steps (jumps), as in the serial engines.

    Returns
    -------
    (list of dict, dict)
        Per realization ``{"sz": array (2, n_times, L)}`` (index 0 the gamma = 0 reference), and the
        counters ``passes`` (block passes) and ``column_passes`` (passes times busy columns, the
        serial engines' matvec count for the same work).
    """
    if unraveling not in ("kick", "jump"):
        raise ValueError(f'unraveling must be "kick" or "jump"; got {unraveling!r}')
    if len(tasks) != len(rngs):
        raise ValueError("give one noise generator per task")
    if not tasks:
        return [], {"passes": 0, "column_passes": 0}
    run = _BatchedRun(tasks, rngs, unraveling, device, max_columns, tol)
    outs = run.run()
    return outs, {"passes": run.passes, "column_passes": run.column_passes}


@REGISTRY.register("batched")
class BatchedEngine(Engine):
    """Many realizations at once on NumPy or CuPy, the paper's Gaussian kicks (module docstring).

    Selected with ``engine="batched"``; ``device`` ("cpu" or "gpu") chooses the backend.
    """

    FAMILY = "manybody"
    ALIASES = ("batched",)
    STATE = "sector"
    PRIORITY = 90
    DEVICES = ("cpu", "gpu")
    BITWISE_ACROSS_BATCHES = False

    def refuse(self, chain: XXZChain, bath: Bath, observables: Sequence[str]) -> str | None:
        """Also refuses every sampled observable but ``sz`` (per-realization ones run beside it).

        Whether a GPU is usable is checked where the run executes (:func:`ensemble.run_grid` for a
        local run, the backend on a worker), not here: a login node without a GPU plans and submits
        GPU jobs to a batch cluster.
        """
        reason = super().refuse(chain, bath, observables)
        if reason:
            return reason
        extra = [name for name in observables if name != "sz" and not OBSERVABLES.get(name).PER_REALIZATION]
        if extra:
            return f"the batched engine records sz only; it cannot evaluate {extra}"
        return None

    def working_bytes(self, L: int) -> float:
        """Per column, the many-body engine's count (its sector vectors and its share of the operators)."""
        return sector_working_bytes(L)

    def seconds(self, L: int, n_steps: int) -> float:
        """CPU: about the serial engine's cost per realization; GPU: the bandwidth model per column."""
        serial = n_steps * (SECONDS_PER_STEP + SECONDS_PER_ENTRY * math.comb(L, L // 2) * L)
        if self.device == "cpu":
            return serial * (0.2 if self.UNRAVELING == "jump" else 1.0)
        passes = n_steps * _PASSES_PER_STEP[self.UNRAVELING]
        return passes * (math.comb(L, L // 2) * _GPU_SECONDS_PER_ENTRY + _GPU_PASS_OVERHEAD / MAX_COLUMNS["gpu"])

    def preferred_batch(self, L: int) -> int:
        """Realizations per task: a full block (two columns per realization)."""
        return max(1, MAX_COLUMNS[self.device] // 2)

    def block_plan(self, L: int, realizations: int, n_steps: int) -> str:
        """One line for ``--dry-run``: the block of one task, its device memory and estimated time."""
        columns = min(MAX_COLUMNS[self.device], 2 * realizations)
        return (f"L = {L:3d}: batched engine on {self.device}: {realizations} realizations per task in blocks of "
                f"{columns} columns (reference + bath run each), {bytes_per_column(L) * columns / 2**30:.3g} GiB "
                f"per block; ~{self.seconds(L, n_steps) * realizations:.3g} s per task ({self.device} estimate)"
                + ("" if self.device == "cpu" else f"; a GPU here: {gpu_unavailable_reason() or 'usable'}"))

    def run(self, task: Task, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """One realization (a block of two columns)."""
        return self.run_batch([task], [rng])[0]

    def run_batch(self, tasks: Sequence[Task], rngs: Sequence[np.random.Generator]) -> list[dict[str, np.ndarray]]:
        """All realizations in blocks of columns on this engine's device."""
        return run_batched(tasks, rngs, unraveling=self.UNRAVELING, device=self.device)[0]


@REGISTRY.register("batched-jump")
class BatchedJumpEngine(BatchedEngine):
    """The batched engine with the exact jump unraveling (``engine="batched"``, ``unraveling="jump"``)."""

    UNRAVELING = "jump"
    EXACT_FOR = "linear means"
