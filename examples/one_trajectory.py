"""One noisy trajectory and its noiseless partner at L = 10, W = 8: print the imbalance.

Run: ``python examples/one_trajectory.py`` (a few seconds).
"""

import numpy as np

import ensemble

L, W, TAU, GAMMA = 10, 8.0, 0.05, 1.0
fields_rng = np.random.default_rng(np.random.SeedSequence(2024, spawn_key=(0,)))
noise_rng = np.random.default_rng(np.random.SeedSequence(2024, spawn_key=(1,)))
fields = fields_rng.uniform(-W, W, L)
steps = np.unique(np.round(np.geomspace(1, 2000, 12)).astype(int))
steps = np.r_[0, steps]
etas = noise_rng.normal(0.0, np.sqrt(TAU), steps[-1])
sign = (-1.0) ** np.arange(L)  # (-1)^(j+1) for j = 1..L
for gamma in (0.0, GAMMA):
    sz = ensemble.magnetization_trajectory(fields, etas, steps, delta=1.0, gamma=gamma, tau=TAU)
    imbalance = 2.0 / L * sz @ sign
    print(f"gamma = {gamma}:")
    for t, i in zip(steps * TAU, imbalance):
        print(f"  t = {t:8.2f}   I = {i:+.4f}")
