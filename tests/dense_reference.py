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


def product(L: int, states: np.ndarray, up_sites) -> np.ndarray:
    """The product state with the given 0-based sites up."""
    target = sum(1 << int(j) for j in up_sites)
    psi = np.zeros(len(states), dtype=complex)
    psi[np.flatnonzero(states == target)[0]] = 1.0
    return psi


def dense_states(
    fields, etas, sample_steps, *, delta, gamma, tau, J=1.0, kick_site=1, kick_scale=1.0, up_sites=None
) -> list[np.ndarray]:
    """The state after each sample step of exp(-i eta gamma Sz_site) exp(-i tau H0), from a product start.

    ``kick_site`` and ``kick_scale`` exist to build deliberately wrong references; ``up_sites``
    (0-based) is the start, Néel by default. Amplitudes are in the basis of :func:`sector_states`.
    """
    L = len(fields)
    H, sz = dense_hamiltonian(np.asarray(fields, float), delta, J)
    energies, V = la.eigh(H)
    U = (V * np.exp(-1j * tau * energies)) @ V.conj().T
    states = sector_states(L)
    psi = neel(L, states) if up_sites is None else product(L, states, up_sites)
    out, step = [], 0
    for target in sample_steps:
        while step < target:
            psi = U @ psi
            psi = np.exp(-1j * kick_scale * gamma * etas[step] * sz[kick_site - 1]) * psi
            step += 1
        out.append(psi.copy())
    return out


def dense_trajectory(
    fields, etas, sample_steps, *, delta, gamma, tau, J=1.0, kick_site=1, kick_scale=1.0, up_sites=None
) -> np.ndarray:
    """<Sz_j> after each sample step of exp(-i eta gamma Sz_site) exp(-i tau H0) (see :func:`dense_states`)."""
    sz = sz_table(len(fields), sector_states(len(fields)))
    return np.array([sz @ np.abs(psi) ** 2 for psi in dense_states(
        fields, etas, sample_steps, delta=delta, gamma=gamma, tau=tau, J=J, kick_site=kick_site,
        kick_scale=kick_scale, up_sites=up_sites)])


def schmidt_entropy(psi: np.ndarray, L: int, cut: int) -> float:
    """Von Neumann entropy (nats) of sites 1..cut from the SVD of the full 2^L amplitude array."""
    full = np.zeros(2**L, dtype=complex)
    full[sector_states(L)] = psi
    # bit j - 1 is site j: reshape so that the first axis is the bits of sites 1..cut
    tensor = full.reshape((2,) * L)  # axis k is bit L - 1 - k
    A = np.moveaxis(tensor, list(range(L - 1, L - 1 - cut, -1)), list(range(cut))).reshape(2**cut, -1)
    s = np.linalg.svd(A, compute_uv=False) ** 2
    s = s[s > 1e-300]
    return float(-np.sum(s * np.log(s)))


def dense_stepper_mean(fields, sample_steps, *, delta, gamma, tau, J=1.0, bath_site=1, up_sites=None) -> np.ndarray:
    """Exact noise mean of the kicked stepper, by brute force on the sector density matrix.

    Each step: rho -> U rho U^dag, then the Gaussian kick averaged over eta ~ N(0, tau) multiplies
    rho_ab by exp(-gamma^2 tau (s_a - s_b)^2 / 2), s = Sz of ``bath_site``.
    """
    L = len(fields)
    H, sz = dense_hamiltonian(np.asarray(fields, float), delta, J)
    energies, V = la.eigh(H)
    U = (V * np.exp(-1j * tau * energies)) @ V.conj().T
    states = sector_states(L)
    psi = neel(L, states) if up_sites is None else product(L, states, up_sites)
    rho = np.outer(psi, psi.conj())
    s = sz[bath_site - 1]
    F = np.exp(-0.5 * gamma**2 * tau * (s[:, None] - s[None, :]) ** 2)
    out, step = [], 0
    for target in sample_steps:
        while step < target:
            rho = F * (U @ rho @ U.conj().T)
            step += 1
        out.append(sz @ np.diagonal(rho).real)
    return np.array(out)


def dense_lindblad(fields, times, *, delta, gamma, J=1.0, bath_site=1, up_sites=None) -> np.ndarray:
    """<Sz_j>(t) under d rho/dt = -i[H, rho] - (gamma^2/2)[Sz_b, [Sz_b, rho]], by a dense superoperator."""
    L = len(fields)
    H, sz = dense_hamiltonian(np.asarray(fields, float), delta, J)
    states = sector_states(L)
    psi = neel(L, states) if up_sites is None else product(L, states, up_sites)
    n = len(states)
    s = sz[bath_site - 1]
    eye = np.eye(n)
    # row-major vec: vec(A rho B) = kron(A, B^T) vec(rho)
    gen = -1j * (np.kron(H, eye) - np.kron(eye, H.T)) - 0.5 * gamma**2 * np.diag(((s[:, None] - s[None, :]) ** 2).ravel())
    rho0 = np.outer(psi, psi.conj()).ravel()
    out = []
    for t in times:
        rho = (la.expm(gen * t) @ rho0).reshape(n, n)
        out.append(sz @ np.diagonal(rho).real)
    return np.array(out)


def dense_exact(fields, times, *, delta, J=1.0) -> np.ndarray:
    """<Sz_j>(t) of the noiseless evolution by exact diagonalization."""
    L = len(fields)
    H, sz = dense_hamiltonian(np.asarray(fields, float), delta, J)
    energies, V = la.eigh(H)
    c0 = V.conj().T @ neel(L, sector_states(L))
    return np.array([sz @ np.abs(V @ (np.exp(-1j * energies * t) * c0)) ** 2 for t in times])
