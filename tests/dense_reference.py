"""Independent dense reference for the XXZ chain, written with plain numpy (no QuSpin).

Configurations are integers whose bit ``j - 1`` is paper site j (1 = up) - deliberately the
opposite bit order from QuSpin's, so agreement can only come from matching site labels.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as la


def sector_states(L: int) -> np.ndarray:
    """All L-bit integers with L/2 set bits (Sz_tot = 0), increasing."""
    states = np.arange(2**L)
    popcount = np.array([bin(s).count("1") for s in states])
    return states[popcount == L // 2]


def sz_table(L: int, states: np.ndarray) -> np.ndarray:
    """(L, Ns) array of Sz_j = +-1/2, row j - 1 is paper site j."""
    return ((states[None, :] >> np.arange(L)[:, None]) & 1) - 0.5


def dense_hamiltonian(fields: np.ndarray, delta: float, J: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Dense H0 (paper Eq. 1, open ends, S = sigma/2) in the Sz_tot = 0 sector, and the Sz table."""
    L = len(fields)
    states = sector_states(L)
    index = {int(s): k for k, s in enumerate(states)}
    sz = sz_table(L, states)
    H = np.diag(fields @ sz + J * delta * np.sum(sz[:-1] * sz[1:], axis=0))
    for k, s in enumerate(states):
        for j in range(L - 1):
            a, b = (int(s) >> j) & 1, (int(s) >> (j + 1)) & 1
            if a != b:  # S+S- + S-S+ = 2 (SxSx + SySy): matrix element J/2
                H[index[int(s) ^ (0b11 << j)], k] += J / 2
    return H, sz


def neel(L: int, states: np.ndarray) -> np.ndarray:
    """Néel state with site 1 up (bits 0, 2, 4, ... set)."""
    target = sum(1 << j for j in range(0, L, 2))
    psi = np.zeros(len(states), dtype=complex)
    psi[np.flatnonzero(states == target)[0]] = 1.0
    return psi


def dense_trajectory(
    fields, etas, sample_steps, *, delta, gamma, tau, J=1.0, kick_site=1, kick_scale=1.0
) -> np.ndarray:
    """<Sz_j> after each sample step of exp(-i eta gamma Sz_site) exp(-i tau H0) from Néel.

    ``kick_site`` and ``kick_scale`` exist to build deliberately wrong references.
    """
    L = len(fields)
    H, sz = dense_hamiltonian(np.asarray(fields, float), delta, J)
    energies, V = la.eigh(H)
    U = (V * np.exp(-1j * tau * energies)) @ V.conj().T
    psi = neel(L, sector_states(L))
    out, step = [], 0
    for target in sample_steps:
        while step < target:
            psi = U @ psi
            psi = np.exp(-1j * kick_scale * gamma * etas[step] * sz[kick_site - 1]) * psi
            step += 1
        out.append(sz @ np.abs(psi) ** 2)
    return np.array(out)


def dense_exact(fields, times, *, delta, J=1.0) -> np.ndarray:
    """<Sz_j>(t) of the noiseless evolution by exact diagonalization."""
    L = len(fields)
    H, sz = dense_hamiltonian(np.asarray(fields, float), delta, J)
    energies, V = la.eigh(H)
    c0 = V.conj().T @ neel(L, sector_states(L))
    return np.array([sz @ np.abs(V @ (np.exp(-1j * energies * t) * c0)) ** 2 for t in times])
