"""The batched engine on a GPU: agreement with the serial engines, speed, and a production run.

Three stages (``python benchmarks/gpu.py STAGE --help``):

``prepare DIR`` (here, with QuSpin)
    Writes the sector tables (S^z basis states and the bond operator of H0) for the sizes the device
    stage uses, so the device machine needs no QuSpin (it has CuPy, NumPy, SciPy and numba).
``device DIR OUT [--budget SECONDS]`` (on the GPU machine)
    1. agreement: the batched engine on the GPU against the serial engines (numba, one CPU core) and
       against the batched engine on NumPy, same seeds, L = 10 and 12, Gaussian kicks and jumps,
       gamma = 0 reference included: max |dSz|;
    2. speed: one Chebyshev pass over K = 256 ... 4096 columns at L = 16 and 18 (CUDA events), per
       realization-matvec, the fraction of the H200's 4.8 TB/s it moves, and the serial engine's
       matvec on one CPU core of the same machine, as a ratio; plus an end-to-end kicked run;
    3. production: the L = 16 front of ``examples/paper/mbl_front.toml`` (seed 42, W = 2..10,
       t = 1e3, Gaussian kicks) with as many realizations per W as the remaining budget allows (at
       most 100), the same realizations as the shipped CPU run, which ``collect`` compares.
    Everything lands in OUT as it is measured (``gpu_results.json``, ``front_L16_gpu.npz``).
``cpu [--sizes L ...] [--repeats N]`` (any machine)
    The NumPy backend against the serial engines on this CPU: best-of-N seconds side by side, their
    ratio and the largest |dSz| (Gaussian kicks to t = 10, jumps to t = 200; 8 realizations).
``table RESULTS`` (any machine)
    The measured numbers of a device run (``gpu_results.json``) as the tables of docs/performance.md.
``collect OUT [--output-dir DIR]`` (here)
    Turns the production arrays into netCDF files of the project's schema (``combine``, ``report``
    and the paper comparison read them), one per L, and prints the largest |dSz| of the L = 16 run
    against the shipped CPU front (same seed, same realizations).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

SIZES = (10, 12, 16, 18)
FRONT = dict(seed=42, W=[2.0, 4.0, 6.0, 8.0, 10.0], t_final=1000.0, n_times=50, delta=1.0, gamma=1.0, tau=0.05)
H200_BANDWIDTH = 4.8e12


def prepare(directory: Path) -> None:
    """Sector tables for the device (QuSpin runs here)."""
    from ensemble.models import xxz

    directory.mkdir(parents=True, exist_ok=True)
    tables = {}
    for L in SIZES:
        bonds = xxz._bond_operator(L, 1.0, 1.0)
        tables[f"sz_{L}"] = (2 * xxz.sz_diagonals(L)).astype(np.int8)  # +-1, exact
        tables[f"indptr_{L}"], tables[f"indices_{L}"], tables[f"data_{L}"] = bonds.indptr, bonds.indices, bonds.data
    from ensemble.run.grid import sample_steps

    tables["front_steps"] = sample_steps(FRONT["t_final"], FRONT["tau"], FRONT["n_times"])
    np.savez_compressed(directory / "sectors.npz", **tables)
    print(f"wrote {directory / 'sectors.npz'} ({(directory / 'sectors.npz').stat().st_size / 1e6:.1f} MB)")


def _use_tables(directory: Path) -> None:
    """Serve the sector tables from the prepared file instead of QuSpin (Delta = 1, J = 1 only)."""
    import scipy.sparse as sp

    from ensemble.models import xxz

    tables = np.load(directory / "sectors.npz")

    def bond_operator(L, delta, J):
        if (delta, J) != (1.0, 1.0):
            raise ValueError("the prepared tables hold Delta = 1, J = 1 only")
        n = tables[f"indptr_{L}"].size - 1
        return sp.csr_matrix((tables[f"data_{L}"], tables[f"indices_{L}"], tables[f"indptr_{L}"]), shape=(n, n))

    def sz_diagonals(L):
        return tables[f"sz_{L}"].astype(np.float64) / 2

    xxz._bond_operator = bond_operator
    xxz._sz_diagonals = sz_diagonals


def _tasks(L, Ws, n, steps, seed=42, first=0):
    """Realizations first..first+n-1 of each W (the front configuration's chain and bath) and their keys."""
    from ensemble.engines import Task
    from ensemble.models.baths.dephasing import DephasingBath
    from ensemble.models.initial_states.neel import Neel
    from ensemble.models.xxz import XXZChain
    from ensemble.run import seeds

    chain, bath = XXZChain(delta=1.0), DephasingBath(gamma=1.0, tau=0.05)
    tasks, keys = [], []
    for W in Ws:
        for r in range(first, first + n):
            tasks.append(Task(fields=seeds.draw_fields(seed, L, W, r), up_sites=Neel().up_sites(L),
                              steps=np.asarray(steps, dtype=np.int64), chain=chain, bath=bath))
            keys.append((L, W, r))
    return tasks, keys


def _rngs(keys, seed=42):
    from ensemble.run import seeds

    return [seeds.noise_rng(seed, L, W, r) for L, W, r in keys]


class _Log:
    def __init__(self, out: Path) -> None:
        self.path, self.data = out / "gpu_results.json", {}

    def put(self, key, value) -> None:
        self.data[key] = value
        self.path.write_text(json.dumps(self.data, indent=1))
        print(key, json.dumps(value), flush=True)


def agreement(log: _Log) -> None:
    """GPU batched vs serial (numba) vs NumPy batched, same seeds."""
    from ensemble.engines import select
    from ensemble.engines.batched import run_batched
    from ensemble.models.baths.dephasing import DephasingBath
    from ensemble.models.xxz import XXZChain

    chain, bath = XXZChain(delta=1.0), DephasingBath(gamma=1.0, tau=0.05)
    for L in (10, 12):
        for unraveling, steps in (("kick", [0, 1, 5, 20, 50, 100]), ("jump", [0, 10, 100, 500, 1000, 2000])):
            tasks, keys = _tasks(L, [4.0, 8.0], 3, steps)
            t0 = time.perf_counter()
            gpu, _ = run_batched(tasks, _rngs(keys), unraveling=unraveling, device="gpu")
            t1 = time.perf_counter()
            cpu, _ = run_batched(tasks, _rngs(keys), unraveling=unraveling, device="cpu")
            serial_engine = select("manybody", unraveling, "trajectory", chain, bath)
            serial = [serial_engine.run(t, g) for t, g in zip(tasks, _rngs(keys))]
            d_serial = max(float(np.max(np.abs(a["sz"] - b["sz"]))) for a, b in zip(gpu, serial))
            d_numpy = max(float(np.max(np.abs(a["sz"] - b["sz"]))) for a, b in zip(gpu, cpu))
            log.put(f"agreement_L{L}_{unraveling}", {"max_dsz_gpu_vs_serial": d_serial, "max_dsz_gpu_vs_numpy": d_numpy,
                                                     "realizations": len(tasks), "t_final": steps[-1] * 0.05,
                                                     "gpu_seconds": t1 - t0})


def speed(log: _Log, deadline: float) -> dict:
    """Pass time against K at L = 16, 18, and the serial matvec on one core of this machine."""
    import cupy as cp

    from ensemble.engines.batched import _Sector
    from ensemble.engines.batched_kernels import backend
    from ensemble.engines.chebyshev import ChebyshevPropagator, chebyshev_series
    from ensemble.models import xxz
    from ensemble.models.xxz import XXZChain
    from ensemble.run import seeds

    be = backend("gpu")
    per_pass = {}
    for L in (16, 18):
        sector = _Sector(L, XXZChain(delta=1.0), 1, be)
        nnz = int(sector.A.nnz)
        # the serial engine on one CPU core: matvecs per second of kicked steps
        fields = seeds.draw_fields(42, L, 8.0, 0)
        H = xxz.xxz_hamiltonian(fields, delta=1.0)
        prop = ChebyshevPropagator(H, xxz.sz_diagonals(L)[0] > 0)
        psi = xxz.neel_state(L)
        phases = np.ones((20, 2), dtype=np.complex128)
        prop.run(psi, 0.05, phases[:2])
        best = math.inf
        for _ in range(3):
            m0, t0 = prop.matvecs, time.perf_counter()
            prop.run(psi, 0.05, phases)
            best = min(best, (time.perf_counter() - t0) / (prop.matvecs - m0))
        log.put(f"serial_matvec_L{L}", {"seconds": best, "dim": sector.dim})
        coef = cp.asarray(chebyshev_series(1.5, 1e-12))
        for K in (256, 1024, 4096):
            if time.time() > deadline:
                return per_pass
            dim = sector.dim
            rng = cp.random.default_rng(0)
            x = rng.standard_normal((dim, K)) + 1j * rng.standard_normal((dim, K))
            y, w, c = cp.zeros_like(x), cp.zeros_like(x), cp.zeros_like(x)
            dd = rng.standard_normal((dim, K))
            hh = cp.full(K, 0.03)
            stage = cp.asarray(np.arange(K) % 10 + 1, dtype=cp.int32)
            order = cp.full(K, 100, dtype=cp.int32)
            offset = cp.zeros(K, dtype=cp.int64)
            ph = cp.ones(K, dtype=cp.complex128)
            table = cp.concatenate([coef, cp.zeros(200, dtype=cp.complex128)])
            for _ in range(3):
                be.chebyshev_pass(sector.A, x, y, dd, hh, stage, order, offset, table, ph, ph, sector.bath_dn, w, c)
            start, stop = cp.cuda.Event(), cp.cuda.Event()
            n = 20
            start.record()
            for _ in range(n):
                be.chebyshev_pass(sector.A, x, y, dd, hh, stage, order, offset, table, ph, ph, sector.bath_dn, w, c)
            stop.record()
            stop.synchronize()
            seconds = cp.cuda.get_elapsed_time(start, stop) / 1e3 / n
            streamed = dim * K * (16 + 16 + 8 + 32 + 16) + nnz * K * 16 + (dim + 1 + nnz) * 4
            per_pass[(L, K)] = seconds
            log.put(f"pass_L{L}_K{K}", {"seconds_per_pass": seconds, "seconds_per_realization_matvec": seconds / K,
                                        "ratio_to_one_cpu_core": log.data[f"serial_matvec_L{L}"]["seconds"] / (seconds / K),
                                        "bytes_counted": streamed, "fraction_of_4.8TB/s": streamed / seconds / H200_BANDWIDTH})
            del x, y, w, c, dd
            cp.get_default_memory_pool().free_all_blocks()
    return per_pass


def end_to_end(log: _Log, L: int, n_per_w: int, t_final: float) -> float:
    """A short kicked run through the engine (all overheads): seconds per block pass."""
    from ensemble.engines.batched import run_batched

    tasks, keys = _tasks(L, FRONT["W"], n_per_w, [0, int(round(t_final / 0.05))])
    t0 = time.perf_counter()
    _, counters = run_batched(tasks, _rngs(keys), unraveling="kick", device="gpu")
    seconds = time.perf_counter() - t0
    log.put(f"end_to_end_L{L}_{len(tasks)}r_t{t_final:g}", {"seconds": seconds, **counters,
                                                              "seconds_per_pass": seconds / counters["passes"]})
    return seconds / counters["passes"]


def _front(log: _Log, out: Path, steps: np.ndarray, L: int, n: int, first: int = 0) -> None:
    """Realizations first..first+n-1 per W of the front configuration at L on the GPU, saved and logged."""
    from ensemble.engines.batched import run_batched

    tasks, keys = _tasks(L, FRONT["W"], n, steps, seed=FRONT["seed"], first=first)
    t0 = time.perf_counter()
    outs, counters = run_batched(tasks, _rngs(keys, FRONT["seed"]), unraveling="kick", device="gpu")
    wall = time.perf_counter() - t0
    sz = np.stack([o["sz"] for o in outs]).reshape(len(FRONT["W"]), n, 2, steps.size, L)
    fields = np.stack([t.fields for t in tasks]).reshape(len(FRONT["W"]), n, L)
    part = f"_from{first}" if first else ""
    np.savez_compressed(out / f"front_L{L}_gpu{part}.npz", sz=sz, field=fields, steps=steps, W=np.asarray(FRONT["W"]),
                        first=first, config=json.dumps(FRONT))
    log.put(f"production_front_L{L}" + (f"_gpu{part}" if first else ""),
            {"realizations_per_W": n, "first": first, "wall_seconds": wall, **counters,
             "seconds_per_pass": wall / counters["passes"]})


def production(log: _Log, out: Path, steps: np.ndarray, per_pass: dict, deadline: float) -> None:
    """The L = 16 front with as many realizations per W as fit before the deadline (at most 100)."""
    probe = end_to_end(log, 16, 20, 5.0)  # 100 realizations (200 columns), 100 steps: the overhead per pass
    kernel = per_pass.get((16, 1024), probe * 5) / 1024  # kernel seconds per column and pass
    overhead = max(probe - kernel * 200, 0.0)
    kick_passes = steps[-1] * 16.0  # Chebyshev order per kicked step at L = 16, W <= 10: about 14-17
    left = deadline - time.time()
    n = 100
    while n > 5 and 1.3 * kick_passes * (overhead + kernel * 2 * len(FRONT["W"]) * n) > left:
        n -= 5
    _front(log, out, steps, 16, n)


def fronts(log: _Log, out: Path, steps: np.ndarray, runs: str) -> None:
    """Production fronts at fixed sizes, ``runs`` = "L:n[@first],...": realizations first..first+n-1 per W."""
    for item in runs.split(","):
        L, rest = item.split(":")
        n, first = (rest.split("@") + ["0"])[:2]
        _front(log, out, steps, int(L), int(n), int(first))


def device(directory: Path, out: Path, budget: float, runs: str | None = None) -> None:
    deadline = time.time() + budget
    out.mkdir(parents=True, exist_ok=True)
    _use_tables(directory)
    log = _Log(out)
    if runs:
        fronts(log, out, np.load(directory / "sectors.npz")["front_steps"], runs)
        return
    import cupy as cp

    props = cp.cuda.runtime.getDeviceProperties(0)
    log.put("device", {"name": props["name"].decode(), "memory_GB": props["totalGlobalMem"] / 1e9,
                       "cupy": cp.__version__, "numpy": np.__version__})
    agreement(log)
    per_pass = speed(log, deadline - 0.6 * budget)
    production(log, out, np.load(directory / "sectors.npz")["front_steps"], per_pass, deadline - 15)


def collect(out: Path, output_dir: Path) -> None:
    """The production arrays as netCDF files of the project's schema; L = 16 compared with the shipped front."""
    import xarray as xr

    from ensemble.io.dataset import build_dataset, provenance_attrs
    from ensemble.run.grid import dataset_attrs, plan_grid

    results = json.loads((out / "gpu_results.json").read_text())
    output_dir.mkdir(parents=True, exist_ok=True)
    by_L: dict[int, list] = {}
    for path in sorted(out.glob("front_L*_gpu*.npz")):
        data = np.load(path)
        by_L.setdefault(int(data["sz"].shape[-1]), []).append(data)
    for L, parts in sorted(by_L.items()):
        parts.sort(key=lambda d: int(d["first"]) if "first" in d else 0)
        sz = np.concatenate([d["sz"] for d in parts], axis=1)
        field = np.concatenate([d["field"] for d in parts], axis=1)
        Ws, steps, n = parts[0]["W"].tolist(), parts[0]["steps"], sz.shape[1]
        # the physics and seeds of the run (device = "gpu" changes how, not what, is computed)
        plan = plan_grid(L=[L], W=Ws, delta=FRONT["delta"], gamma=FRONT["gamma"], tau=FRONT["tau"],
                         t_final=FRONT["t_final"], n_times=FRONT["n_times"], n_realizations=n, seed=FRONT["seed"],
                         engine="batched")
        assert np.array_equal(plan.steps, steps)
        batches = [(L, W, {"realization": np.arange(n), "field": field[i], "sz": sz[i]}) for i, W in enumerate(Ws)]
        runs = {k: v for k, v in results.items() if k.startswith(f"production_front_L{L}")}
        attrs = dataset_attrs(plan, "batched", provenance_attrs(
            f"python benchmarks/gpu.py device ... --fronts (on one {results.get('device', {}).get('name', 'GPU')})"))
        attrs["device"] = "gpu"
        attrs["device_runs"] = json.dumps(runs)
        ds = build_dataset(Ls=[L], Ws=Ws, gamma=FRONT["gamma"], steps=steps, tau=FRONT["tau"],
                           n_realizations={L: n}, batches=batches, attrs=attrs, observables=("sz",))
        path = output_dir / f"front_L{L}_gpu.nc"
        ds.to_netcdf(path)
        print(f"wrote {path}: L = {L}, W = {Ws}, {n} realizations per W, t <= {FRONT['t_final']:g}")
        if L != 16:
            continue
        root = Path(__file__).resolve().parents[1] / "datasets" / "paper"
        worst = 0.0
        for W in Ws:
            name = {2.0: "front_L16_W2", 4.0: "front_L16_W4", 6.0: "front_L16_W6-8", 8.0: "front_L16_W6-8",
                    10.0: "front_L16_W10"}[W]
            with xr.open_dataset(root / f"{name}.nc") as shipped:
                a = shipped.sz.sel(L=16, W=W).isel(realization=slice(0, n)).values
                fa = shipped.field.sel(L=16, W=W).isel(realization=slice(0, n)).values
            assert np.array_equal(fa, ds.field.sel(L=16, W=W).values[:, :16]), "not the shipped realizations"
            diff = float(np.max(np.abs(a - ds.sz.sel(L=16, W=W).values)))
            worst = max(worst, diff)
            print(f"  W = {W:g}: max |dSz| GPU vs the shipped CPU run = {diff:.2e} ({n} realizations, both runs)")
        print(f"  largest |dSz| over all W: {worst:.2e}")


def cpu(sizes: list[int], repeats: int) -> None:
    """The NumPy backend against the serial engines on this CPU, side by side (ratios, interleaved repeats)."""
    from ensemble.engines import select
    from ensemble.engines.batched import run_batched
    from ensemble.models.baths.dephasing import DephasingBath
    from ensemble.models.xxz import XXZChain

    chain, bath = XXZChain(delta=1.0), DephasingBath(gamma=1.0, tau=0.05)
    print("| L | unraveling | realizations | t_final | serial s | batched (NumPy) s | batched / serial | max abs dSz |")
    print("|---|---|---|---|---|---|---|---|")
    for L in sizes:
        for unraveling, t_final in (("kick", 10.0), ("jump", 200.0)):
            steps = [0, int(round(t_final / 0.05 / 10)), int(round(t_final / 0.05))]
            tasks, keys = _tasks(L, [4.0, 8.0], 4, steps)
            engine = select("manybody", unraveling, "trajectory", chain, bath)
            best = {"serial": math.inf, "batched": math.inf}
            for _ in range(repeats):
                t0 = time.perf_counter()
                serial = [engine.run(t, g)["sz"] for t, g in zip(tasks, _rngs(keys))]
                best["serial"] = min(best["serial"], time.perf_counter() - t0)
                t0 = time.perf_counter()
                outs, _ = run_batched(tasks, _rngs(keys), unraveling=unraveling, device="cpu")
                best["batched"] = min(best["batched"], time.perf_counter() - t0)
            diff = max(float(np.max(np.abs(a - o["sz"]))) for a, o in zip(serial, outs))
            print(f"| {L} | {unraveling} | {len(tasks)} | {t_final:g} | {best['serial']:.3g} | {best['batched']:.3g} | "
                  f"{best['batched'] / best['serial']:.2f} | {diff:.1e} |", flush=True)


def tables(results: dict) -> str:
    """The measured numbers of a device run as the markdown tables of docs/performance.md."""
    lines = [f"Device: {results['device']['name']} ({results['device']['memory_GB']:.0f} GB), CuPy "
             f"{results['device']['cupy']}. Serial engine: numba kernel on one core of the same machine.", "",
             "| check | realizations | t_final [1/J] | max abs dSz, GPU vs serial | max abs dSz, GPU vs NumPy |",
             "|---|---|---|---|---|"]
    for key, v in results.items():
        if key.startswith("agreement_"):
            _, L, unraveling = key.split("_")
            lines.append(f"| {L.replace('L', 'L = ')}, {unraveling} | {v['realizations']} | {v['t_final']:g} | "
                         f"{v['max_dsz_gpu_vs_serial']:.1e} | {v['max_dsz_gpu_vs_numpy']:.1e} |")
    lines += ["", "| L | K (columns) | ms per pass | us per realization-matvec | one CPU core, us per matvec | "
              "ratio | streamed bytes / (pass time x 4.8 TB/s) |", "|---|---|---|---|---|---|---|"]
    for key, v in results.items():
        if key.startswith("pass_"):
            _, L, K = key.split("_")
            L, K = int(L[1:]), int(K[1:])
            dim = results[f"serial_matvec_L{L}"]["dim"]
            minimal = dim * K * (16 + 16 + 8 + 32 + 16)  # x, y, dd read; c read and written; w written: once each
            lines.append(f"| {L} | {K} | {v['seconds_per_pass'] * 1e3:.3g} | {v['seconds_per_realization_matvec'] * 1e6:.3g} "
                         f"| {results[f'serial_matvec_L{L}']['seconds'] * 1e6:.3g} | {v['ratio_to_one_cpu_core']:.0f} | "
                         f"{minimal / v['seconds_per_pass'] / H200_BANDWIDTH:.2f} |")
    lines += ["", "| production run | realizations per W | wall time [s] | block passes | column passes | "
              "ms per pass |", "|---|---|---|---|---|---|"]
    for key, v in results.items():
        if key.startswith("production_"):
            lines.append(f"| {key.removeprefix('production_')} | {v['realizations_per_W']} | {v['wall_seconds']:.0f} | "
                         f"{v['passes']} | {v['column_passes']} | {v['seconds_per_pass'] * 1e3:.3g} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="stage", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("directory", type=Path)
    d = sub.add_parser("device")
    d.add_argument("directory", type=Path)
    d.add_argument("out", type=Path)
    d.add_argument("--budget", type=float, default=420.0, help="seconds the whole stage may take")
    d.add_argument("--fronts", default=None,
                   help='only production fronts, e.g. "16:100,18:50" (L:realizations per W, in that order)')
    q = sub.add_parser("cpu")
    q.add_argument("--sizes", type=int, nargs="+", default=[10, 12, 14])
    q.add_argument("--repeats", type=int, default=3)
    t = sub.add_parser("table")
    t.add_argument("results", type=Path)
    c = sub.add_parser("collect")
    c.add_argument("out", type=Path)
    c.add_argument("--output-dir", type=Path, default=Path("datasets/gpu"))
    args = parser.parse_args()
    if args.stage == "prepare":
        prepare(args.directory)
    elif args.stage == "table":
        print(tables(json.loads(args.results.read_text())), end="")
    elif args.stage == "cpu":
        cpu(args.sizes, args.repeats)
    elif args.stage == "device":
        device(args.directory, args.out, args.budget, args.fronts)
    else:
        collect(args.out, args.output_dir)


if __name__ == "__main__":
    main()
