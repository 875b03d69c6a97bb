"""Resampled h(t) curves of the Anderson front (paper Fig. 4a) at one L, for resampled 1/A intervals.

    python examples/paper/anderson_resamples.py --L 100                  # 1200 realizations, ~0.5 core-hours
    python examples/paper/anderson_resamples.py --L 200 --n 300          # ~0.4 core-hours

Runs the README's Anderson configuration (``examples/paper/anderson_front.toml``: Delta = 0, gamma = 1,
W = 3, 5, 8, 10, 15, t to 1000, seed 41, so the same realizations as the shipped mean curves
``docs/results/anderson_L*_front.nc``) at the given L, with a checkpoint (a rerun resumes), and writes
``docs/results/anderson_L{L}_resamples.nc``: the 1000 resampled h(t) curves (float32) from which
``examples/paper/reduce.py`` gives that L's 1/A intervals and P. The realizations themselves (180-360
MB) are not shipped.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import ensemble
from anderson_conventions import ROOT, write_resamples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--L", type=int, required=True, help="chain length")
    parser.add_argument("--n", type=int, default=1200, help="realizations per W (the README: 1200; 300 at L = 200)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    parser.add_argument("--checkpoint", type=Path, default=None, help="default: results/anderson_L{L}.checkpoint")
    args = parser.parse_args(argv)
    cfg = tomllib.loads((ROOT / "examples" / "paper" / "anderson_front.toml").read_text())
    model, grid, run = cfg["model"], cfg["grid"], cfg["run"]
    checkpoint = args.checkpoint or ROOT / "results" / f"anderson_L{args.L}.checkpoint"
    ds = ensemble.run_grid(L=[args.L], W=grid["W"], n_realizations=args.n, delta=model["delta"], gamma=model["gamma"],
                           tau=model["tau"], t_final=grid["t_final"], n_times=grid["n_times"], seed=run["seed"],
                           engine=run["engine"], n_workers=args.workers, checkpoint=checkpoint)
    path = args.out / f"anderson_L{args.L}_resamples.nc"
    write_resamples(ds, path, f"python examples/paper/anderson_resamples.py --L {args.L} --n {args.n}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
