"""The free-fermion form of the chain at Delta = 0 (Jordan-Wigner, up = occupied), paper Appendix B.

.. math::

    H_0 = \\sum_{j,l} c^\\dagger_j Q_{jl} c_l + \\text{const}, \\qquad
    Q = \\operatorname{diag}(h) + \\frac{J}{2}\\,(\\text{nearest-neighbour hopping, open ends}).
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

__all__ = ["hopping_matrix", "entanglement_entropy"]


def hopping_matrix(fields: np.ndarray, J: float = 1.0) -> np.ndarray:
    """Single-particle Hamiltonian Q = diag(h) + (J/2)(hopping between j and j+1), open ends.

    Parameters
    ----------
    fields : array of shape (L,)
        On-site fields h_j (units of J); ``fields[j-1]`` is paper site j.
    J : float
        Exchange coupling; the hopping amplitude is J/2.

    Returns
    -------
    numpy.ndarray
        Real symmetric ``(L, L)`` matrix; row/column ``j - 1`` is site j.
    """
    fields = np.asarray(fields, dtype=np.float64)
    off = np.full(fields.size - 1, 0.5 * J)
    return np.diag(fields) + np.diag(off, 1) + np.diag(off, -1)


def entanglement_entropy(W: np.ndarray, cut: int) -> float:
    """Von Neumann entropy of sites 1..cut for the Slater determinant with orbitals W.

    Uses the eigenvalues x of the restricted correlation matrix ``G_AA = W_A W_A^dagger``
    (``W_A = W[:cut]``): ``S = -sum [x ln x + (1 - x) ln(1 - x)]`` in nats. The nonzero
    eigenvalues of ``W_A W_A^dagger`` are those of ``W_A^dagger W_A``; the smaller is diagonalised.

    Parameters
    ----------
    W : array (L, N)
        Orthonormal orbitals.
    cut : int
        Number of sites in the subsystem A = sites 1..cut, ``0 <= cut <= L``.
    """
    L = W.shape[0]
    if not 0 <= cut <= L:
        raise ValueError(f"cut must be between 0 and L={L}; got cut={cut}")
    WA = W[:cut]
    G = WA @ WA.conj().T if cut <= W.shape[1] else WA.conj().T @ WA
    x = np.clip(np.linalg.eigvalsh(G), 0.0, 1.0)
    return float(-np.sum(xlogy(x, x) + xlogy(1.0 - x, 1.0 - x)))
