"""The disordered XXZ chain of paper Eq. (1), built with QuSpin in the Sz_tot = 0 sector.

.. math::

    H_0 = \\sum_{j=1}^{L} h_j S^z_j
        + J \\sum_{j=1}^{L-1} \\left( S^x_j S^x_{j+1} + S^y_j S^y_{j+1}
        + \\Delta S^z_j S^z_{j+1} \\right),
    \\qquad S^\\alpha = \\sigma^\\alpha / 2,

with open ends. Energies are in units of J (J = 1 by default), times in units of 1/J.

Site convention (docs/design.md): paper site j = 1..L is QuSpin site j - 1. QuSpin's spin basis puts
its site 0 in the most significant bit of a state's integer, so nothing here ever relies on the
basis *index* of a configuration: site-resolved quantities come from :func:`sz_diagonals`, whose
row j - 1 belongs to paper site j (site 1 is the bath site).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ensemble.models.parameters import REQUIRED, Parameters, parameter

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["XXZChain", "sector_basis", "xxz_hamiltonian", "neel_state", "product_state", "sz_diagonals"]

_NO_CHECKS = dict(check_symm=False, check_herm=False, check_pcon=False)


@dataclass(frozen=True, kw_only=True)
class XXZChain(Parameters):
    """The couplings of H0 (paper Eq. 1); the fields come from a disorder law, L from the grid.

    Energies in units of J; ``delta = 0`` is the Anderson (free-fermion) chain.
    """

    TABLE = "model"
    delta: float = parameter(REQUIRED, doc="anisotropy Delta of the S^z S^z coupling (0: Anderson, free fermions)")
    J: float = parameter(1.0, doc="exchange coupling J (sets the unit of energy)")


@lru_cache(maxsize=16)
def sector_basis(L: int):
    """QuSpin basis (``spin_basis_1d``) of the Sz_tot = 0 sector (``Nup = L // 2``), S = sigma/2.

    QuSpin is imported here, not at module import, so that code which only reads parameters (TOML
    parsing, the engine registry) does not load it.

    Parameters
    ----------
    L : int
        Even chain length >= 2.
    """
    if L < 2 or L % 2:
        raise ValueError(f"L must be even and >= 2 (Néel start, Sz_tot = 0); got L={L}")
    from quspin.basis import spin_basis_1d

    return spin_basis_1d(L, Nup=L // 2, pauli=False)


@lru_cache(maxsize=16)
def _bond_operator(L: int, delta: float, J: float) -> sp.csr_matrix:
    """The field-independent part J sum_j (SxSx + SySy + delta SzSz) as a CSR matrix."""
    from quspin.operators import hamiltonian

    bonds = range(L - 1)
    static = [
        ["+-", [[J / 2, i, i + 1] for i in bonds]],
        ["-+", [[J / 2, i, i + 1] for i in bonds]],
        ["zz", [[J * delta, i, i + 1] for i in bonds]],
    ]
    op = hamiltonian(static, [], basis=sector_basis(L), dtype=np.float64, **_NO_CHECKS)
    csr = op.tocsr()
    csr.sort_indices()
    return csr


def sz_diagonals(L: int) -> np.ndarray:
    """Diagonals of S^z_j in the Sz_tot = 0 basis, one row per site.

    Returns
    -------
    numpy.ndarray
        Shape ``(L, Ns)``, values +-1/2; row ``j - 1`` is paper site j. ``<S^z_j> =
        sz[j-1] @ |psi|**2``.
    """
    return _sz_diagonals(L).copy()


@lru_cache(maxsize=16)
def _sz_diagonals(L: int) -> np.ndarray:
    basis = sector_basis(L)
    # QuSpin site i (paper site i + 1) is bit L - 1 - i of the state integer.
    shifts = (L - 1 - np.arange(L))[:, None]
    bits = (basis.states[None, :].astype(np.int64) >> shifts) & 1
    diag = bits - 0.5
    diag.setflags(write=False)
    return diag


def xxz_hamiltonian(fields: np.ndarray, *, delta: float, J: float = 1.0) -> sp.csr_matrix:
    """H0 of paper Eq. (1) for the given fields, as a real symmetric CSR matrix in the sector.

    Parameters
    ----------
    fields : array of shape (L,)
        On-site fields h_j (units of J), paper site j at index j - 1.
    delta : float
        Anisotropy Delta of the S^z S^z coupling (Delta = 0: Anderson; Delta = 1: Heisenberg).
    J : float
        Exchange coupling (sets the energy unit).

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(Ns, Ns)`` with ``Ns = binom(L, L/2)``, basis :func:`sector_basis`.
    """
    fields = np.asarray(fields, dtype=np.float64)
    L = fields.size
    bonds = _bond_operator(L, float(delta), float(J))
    import scipy.sparse as sp  # here, not at import: parsing a config needs the parameter objects only

    onsite = sp.diags(fields @ _sz_diagonals(L), format="csr")
    H = (bonds + onsite).tocsr()
    H.sort_indices()
    return H


def neel_state(L: int) -> np.ndarray:
    """The Néel state |up down up down ...> (site 1 up) as a complex vector in the sector.

    Site 1 up means S^z_j(0) = (-1)^(j+1)/2.
    """
    return product_state(L, np.arange(0, L, 2))


def product_state(L: int, up_sites: np.ndarray) -> np.ndarray:
    """The product state with the given sites up as a complex vector in the sector.

    Parameters
    ----------
    L : int
        Even chain length.
    up_sites : array of int
        0-based indices (site j at j - 1) of the L / 2 up spins.
    """
    sz = _sz_diagonals(L)
    target = np.full(L, -0.5)
    target[np.asarray(up_sites, dtype=np.int64)] = 0.5
    matches = np.flatnonzero(np.all(sz == target[:, None], axis=0))
    if matches.size != 1:
        raise ValueError(f"up_sites must name L/2 = {L // 2} distinct sites of 0..{L - 1}; got {list(up_sites)}")
    psi = np.zeros(sz.shape[1], dtype=np.complex128)
    psi[matches[0]] = 1.0
    return psi
