"""The GPU measurements and data the project ships agree with what the docs say about them."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import xarray as xr

import ensemble

ROOT = Path(__file__).resolve().parents[1]
RESULTS = json.loads((ROOT / "benchmarks" / "results" / "gpu_h200.json").read_text())
PERFORMANCE = (ROOT / "docs" / "performance.md").read_text()
SHIPPED_FRONT = {2.0: "front_L16_W2", 4.0: "front_L16_W4", 6.0: "front_L16_W6-8", 8.0: "front_L16_W6-8",
                 10.0: "front_L16_W10"}


def _gpu_script():
    spec = importlib.util.spec_from_file_location("gpu_benchmark", ROOT / "benchmarks" / "gpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_performance_tables_are_generated_from_the_results():
    block = PERFORMANCE.split("<!-- gpu-table:begin -->\n")[1].split("<!-- gpu-table:end -->")[0]
    assert block == _gpu_script().tables(RESULTS)


README = " ".join((ROOT / "README.md").read_text().split())  # prose with its line breaks as spaces


def test_the_prose_quotes_the_measurements():
    passes = {k: v for k, v in RESULTS.items() if k.startswith("pass_")}
    per_matvec = {int(k.split("_")[1][1:]): [] for k in passes}
    ratios = {L: [] for L in per_matvec}
    for key, v in passes.items():
        L = int(key.split("_")[1][1:])
        per_matvec[L].append(v["seconds_per_realization_matvec"] * 1e6)
        ratios[L].append(v["ratio_to_one_cpu_core"])
    assert f"L = 16 costs {min(per_matvec[16]):.2f}-{max(per_matvec[16]):.2f} us per realization" in PERFORMANCE
    assert f"({min(ratios[16]):.0f}-{max(ratios[16]):.0f}x one CPU core)" in PERFORMANCE
    assert (f"L = 16 costs {min(per_matvec[16]):.2f}-{max(per_matvec[16]):.2f} us per realization "
            f"({min(ratios[16]):.0f}-{max(ratios[16]):.0f}x one CPU core)") in README
    assert f"L = 18 {min(per_matvec[18]):.1f}-{max(per_matvec[18]):.1f} us ({min(ratios[18]):.0f}-{max(ratios[18]):.0f}x)" \
        in PERFORMANCE
    l16 = RESULTS["production_front_L16"]["wall_seconds"]
    l18 = RESULTS["production_front_L18"]["wall_seconds"] + RESULTS["production_front_L18_gpu_from30"]["wall_seconds"]
    assert f"both runs) in {l16:.0f} s" in PERFORMANCE
    assert f"two runs of 30 and 70 per W) in {l18:.0f} s" in PERFORMANCE
    assert f"both runs) took {l16:.0f} s, and the L = 18 front, beyond the CPU campaign's reach, {l18:.0f} s" \
        in README
    worst = max(v["max_dsz_gpu_vs_serial"] for k, v in RESULTS.items() if k.startswith("agreement_"))
    assert f"<= {worst:.1e} at t <= 100" in PERFORMANCE
    import pandas as pd

    log = pd.read_csv(ROOT / "datasets" / "paper" / "campaign_log.csv")
    front = log[log.name.str.startswith("front_L16") & (log.outcome == "finished")]
    assert f"~{(front.wall_seconds * front.workers).sum() / 3600:.1f} core-hours" in PERFORMANCE


def test_the_gpu_front_is_the_shipped_cpu_front_within_the_truncation_budgets():
    """Same seed, same realizations: the fields bitwise, Sz within 2 x 2e-12 per step (both runs, both engines)."""
    with xr.open_dataset(ROOT / "datasets" / "gpu" / "front_L16_gpu.nc") as gpu:
        assert gpu.attrs["engine_name"] == "batched" and gpu.attrs["device"] == "gpu"
        budget = 2 * 2 * 1e-12 * int(gpu.step.values[-1])
        worst = 0.0
        for W, name in SHIPPED_FRONT.items():
            with xr.open_dataset(ROOT / "datasets" / "paper" / f"{name}.nc") as cpu:
                n = gpu.sizes["realization"]
                np.testing.assert_array_equal(gpu.field.sel(L=16, W=W).values,
                                              cpu.field.sel(L=16, W=W).isel(realization=slice(0, n)).values)
                diff = np.abs(gpu.sz.sel(L=16, W=W).values - cpu.sz.sel(L=16, W=W).isel(realization=slice(0, n)).values)
                worst = max(worst, float(diff.max()))
    assert worst <= budget
    assert re.search(rf"\b{worst:.1e} at most over the 20 000 kicked steps", PERFORMANCE)


def test_the_gpu_fronts_are_valid_datasets():
    for L in (16, 18):
        with xr.open_dataset(ROOT / "datasets" / "gpu" / f"front_L{L}_gpu.nc") as ds:
            ensemble.validate_dataset(ds)
            assert ds.sizes["realization"] == 100 and ds.L.values.tolist() == [L]
