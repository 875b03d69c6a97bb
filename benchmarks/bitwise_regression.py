"""Bitwise regression across a refactor: run one small grid per engine path, save, compare.

Run it on the revision before a change and on the one after, on the same machine (numbers are
bitwise reproducible on one machine; another CPU differs by ~1e-12, see
``tests/test_shipped_reproduce.py``)::

    git stash; python benchmarks/bitwise_regression.py write before.npz; git stash pop
    python benchmarks/bitwise_regression.py write after.npz
    python benchmarks/bitwise_regression.py compare before.npz after.npz

Every variable of every case and the run fingerprint must be identical ("bitwise" on each line);
the exit code is 1 otherwise. Cases: the kick stepper (two L, two W), the jump unraveling, the
free-fermion engine with and without the entanglement entropy, the averaged noise and the many-body
engine at Delta = 0. About a minute on one core.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

CASES = {
    "kick": dict(L=[6, 8], W=[2.0, 5.0], delta=1.0, t_final=20.0, n_times=12, n_realizations=3, seed=11),
    "jump": dict(L=[8], W=[4.0], delta=1.0, t_final=50.0, n_times=12, n_realizations=3, seed=12, unraveling="jump",
                 engine="manybody"),
    "gaussian": dict(L=[10], W=[3.0], delta=0.0, t_final=30.0, n_times=12, n_realizations=3, seed=13),
    "gaussian_entanglement": dict(L=[10], W=[3.0], delta=0.0, t_final=30.0, n_times=12, n_realizations=3, seed=13,
                                  entanglement=True),
    "averaged": dict(L=[10], W=[3.0], delta=0.0, t_final=30.0, n_times=12, n_realizations=2, seed=14,
                     noise="averaged"),
    "manybody_delta0": dict(L=[6], W=[3.0], delta=0.0, t_final=20.0, n_times=12, n_realizations=2, seed=15,
                            engine="manybody"),
}


def write(path: str) -> None:
    import ensemble

    out = {}
    for name, kw in CASES.items():
        ds = ensemble.run_grid(client="synchronous", progress=False, **kw)
        for var in ds.data_vars:
            out[f"{name}/{var}"] = ds[var].values
        out[f"{name}/fingerprint"] = np.array(ds.attrs["run_fingerprint"])
    np.savez(path, **out)
    print(f"wrote {path} ({len(out)} arrays)")


def compare(a_path: str, b_path: str) -> int:
    a, b = np.load(a_path), np.load(b_path)
    bad = 0
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            print(f"{key}: only in {a_path if key in a else b_path}")
            bad += 1
            continue
        x, y = a[key], b[key]
        same = str(x) == str(y) if x.dtype.kind in "US" else np.array_equal(x, y, equal_nan=True)
        if same:
            print(f"{key}: bitwise")
        else:
            bad += 1
            print(f"{key}: DIFFERS" + ("" if x.dtype.kind in "US" else f" (max {np.nanmax(np.abs(x - y)):.3g})"))
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("write").add_argument("path")
    cmp = sub.add_parser("compare")
    cmp.add_argument("before")
    cmp.add_argument("after")
    args = parser.parse_args()
    if args.command == "write":
        write(args.path)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
