"""Array backends of the batched engine: NumPy on the CPU, CuPy on an NVIDIA GPU.

The batched engine (:mod:`ensemble.engines.batched`) is written once against a :class:`Backend`:
its array namespace ``xp`` (``numpy`` or ``cupy``) for every bookkeeping operation, plus two
primitives whose fastest form differs between the two devices:

:meth:`Backend.chebyshev_pass`
    One Chebyshev pass over a block of K columns, each column its own realization at its own stage
    of its own series (the formulas below). NumPy: a SciPy sparse-times-dense product (the shared
    off-diagonal pattern gathers all columns at once) and vectorized updates. CuPy: one fused
    elementwise CUDA kernel that gathers, updates and, for columns that finish their series,
    applies the end-of-interval phase.
:meth:`Backend.hop_sum`
    The plain gather-sum ``A @ V`` of real vectors (the batched Lanczos of the spectral bounds).

The pass, per column with stage j (passes already done in the current series), coefficients
``a_0..a_K`` (K the column's order), ``2 H_s = dd + hh * A`` with ``dd = 2 (diag - centre) / r`` and
``hh = 2 hop / r``:

- j = 0:  ``w = H_s x``,  ``c = a_0 x + a_1 w``;
- j >= 1: ``w = 2 H_s x - y``,  ``c = c + a_{j+1} w``;
- if j + 1 = K (the series is complete): ``w = c * phase`` with the column's phase for the bath
  spin up or down (kick, flip, global phase), and w is the next series' start.

The caller then rotates the buffers: ``(y, x, w) <- (x, w, y)``. CuPy is imported only when a GPU
backend is asked for, never at package import.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["Backend", "backend", "gpu_unavailable_reason"]


class Backend:
    """NumPy (CPU) backend; :class:`_CupyBackend` overrides the kernels for the GPU.

    Attributes
    ----------
    device : str
        ``"cpu"`` or ``"gpu"``.
    xp : module
        The array namespace (``numpy`` or ``cupy``).
    """

    device = "cpu"

    def __init__(self) -> None:
        self.xp = np

    def asarray(self, a, dtype=None):
        """A device array of ``a``."""
        return self.xp.asarray(a, dtype=dtype)

    def to_host(self, a) -> np.ndarray:
        """A NumPy copy (or view) of a device array."""
        return np.asarray(a)

    def pattern(self, indptr: np.ndarray, indices: np.ndarray, dim: int) -> Any:
        """The off-diagonal pattern of H0 (all values 1) as a device-side operator."""
        data = np.ones(indices.size, dtype=np.float64)
        return sp.csr_matrix((data, indices.astype(np.int32), indptr.astype(np.int32)), shape=(dim, dim))

    def hop_sum(self, A, V):
        """``A @ V`` for a real (dim, K) block."""
        return A @ V

    def chebyshev_pass(self, A, x, y, dd, hh, stage, order, offset, table, ph_up, ph_dn, bath_dn, w, c) -> None:
        """One pass for every column (module docstring); writes ``w`` and updates ``c`` in place.

        Parameters
        ----------
        A : operator
            :meth:`pattern` of H0.
        x, y, w, c : complex (dim, K)
            Current and previous Chebyshev vectors, output, accumulated series.
        dd : float (dim, K)
            ``2 (diag - centre) / r`` per column.
        hh : float (K,)
            ``2 hop / r`` per column.
        stage, order : int32 (K,)
            Passes done in the current series; its order.
        offset : int64 (K,)
            Where the column's coefficients start in ``table``.
        table : complex (n,)
            All coefficient series, concatenated.
        ph_up, ph_dn : complex (K,)
            The phase that ends the current series, bath spin up / down.
        bath_dn : bool (dim,)
            True where the bath spin is down.
        """
        g = (A @ x.view(np.float64)).view(np.complex128)
        first = stage == 0
        later = ~first
        np.multiply(dd, x, out=w)
        g *= hh
        w += g
        w[:, first] *= 0.5
        w[:, later] -= y[:, later]
        c0 = np.where(first, table[offset], 0.0)
        ck = table[offset + stage + 1]
        c[:, first] = 0.0
        c += c0 * x
        c += ck * w
        done = np.flatnonzero(stage + 1 == order)
        if done.size:
            phase = np.where(bath_dn[:, None], ph_dn[done], ph_up[done])
            w[:, done] = c[:, done] * phase


class _CupyBackend(Backend):
    """CuPy backend: the pass is one fused elementwise CUDA kernel (gather + update + phase)."""

    device = "gpu"

    def __init__(self) -> None:
        import cupy
        import cupyx.scipy.sparse

        self.xp = cupy
        self._sparse = cupyx.scipy.sparse
        self._pass = cupy.ElementwiseKernel(
            "raw complex128 x, complex128 y, float64 dd, raw int32 indptr, raw int32 indices, raw float64 hh, "
            "raw int32 stage, raw int32 order, raw int64 offset, raw complex128 table, raw complex128 ph_up, "
            "raw complex128 ph_dn, raw bool bath_dn, int64 ncol",
            "complex128 w, complex128 c",
            """
            const long long col = i % ncol;
            const long long row = i / ncol;
            complex<double> g0(0.0, 0.0), g1(0.0, 0.0);
            int p = indptr[row];
            const int end = indptr[row + 1];
            for (; p + 1 < end; p += 2) {
                g0 += x[(long long)indices[p] * ncol + col];
                g1 += x[(long long)indices[p + 1] * ncol + col];
            }
            if (p < end) g0 += x[(long long)indices[p] * ncol + col];
            const complex<double> xv = x[i];
            const complex<double> hx = dd * xv + hh[col] * (g0 + g1);
            const int j = stage[col];
            const long long o = offset[col];
            complex<double> wv, cv;
            if (j == 0) {
                wv = 0.5 * hx;
                cv = table[o] * xv + table[o + 1] * wv;
            } else {
                wv = hx - y;
                cv = c + table[o + j + 1] * wv;
            }
            c = cv;
            if (j + 1 == order[col]) {
                w = cv * (bath_dn[row] ? ph_dn[col] : ph_up[col]);
            } else {
                w = wv;
            }
            """,
            "batched_chebyshev_pass",
        )

    def to_host(self, a) -> np.ndarray:
        return self.xp.asnumpy(a)

    def pattern(self, indptr: np.ndarray, indices: np.ndarray, dim: int) -> Any:
        cp = self.xp
        data = cp.ones(indices.size, dtype=cp.float64)
        A = self._sparse.csr_matrix((data, cp.asarray(indices, dtype=cp.int32), cp.asarray(indptr, dtype=cp.int32)),
                                    shape=(dim, dim))
        A.has_sorted_indices = True
        return A

    def hop_sum(self, A, V):
        return self.xp.ascontiguousarray(A @ V)

    def chebyshev_pass(self, A, x, y, dd, hh, stage, order, offset, table, ph_up, ph_dn, bath_dn, w, c) -> None:
        self._pass(x, y, dd, A.indptr, A.indices, hh, stage, order, offset, table, ph_up, ph_dn, bath_dn,
                   x.shape[1], w, c)


def gpu_unavailable_reason() -> str | None:
    """Why the GPU backend cannot run here (CuPy missing, no device), or None if it can."""
    try:
        import cupy
    except ImportError:
        return 'device="gpu" needs CuPy and an NVIDIA GPU: install the gpu extra (pip install -e ".[gpu]")'
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # the CUDA runtime raises its own error types when no driver is present
        return f'device="gpu": CuPy finds no usable CUDA device ({str(exc).splitlines()[0]})'
    if n < 1:
        return 'device="gpu": CuPy finds no CUDA device on this machine'
    return None


def backend(device: str) -> Backend:
    """The backend of ``device`` ("cpu" or "gpu").

    Raises
    ------
    ValueError
        For another device, or a GPU that cannot be used here (the reason is the message).
    """
    if device == "cpu":
        return Backend()
    if device == "gpu":
        reason = gpu_unavailable_reason()
        if reason:
            raise ValueError(reason)
        return _CupyBackend()
    raise ValueError(f'device must be "cpu" or "gpu"; got device={device!r}')
