"""The numbers that docs/analysis.md quotes from the shipped data are what the analysis computes."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import analysis

ROOT = Path(__file__).resolve().parents[1]
TEXT = re.sub(r"\s+", " ", (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8"))


def _numbers(s: str) -> np.ndarray:
    return np.array([float(x) for x in s.split(", ")])


@pytest.fixture(scope="module")
def shipped():
    ds = xr.load_dataset(ROOT / "datasets" / "mbl_threshold.nc")
    paired = analysis.threshold_time(ds).t_tilde
    unpaired = analysis.threshold_time(analysis.relative_imbalance(ds, error="unpaired")).t_tilde
    crossing = analysis.threshold_time(ds, definition="crossing").t_tilde
    return ds, paired, unpaired, crossing


def test_the_two_t_tilde_at_L12(shipped):
    _, paired, _, crossing = shipped
    m = re.search(r"at L = 12 \(W = [\d, ]+\) the paper's t~ is ([\d., ]+) and the crossing ([\d., ]+): up to "
                  r"([\d.]+)x apart", TEXT)
    assert m, "statement not found"
    np.testing.assert_allclose(_numbers(m.group(1)), paired.sel(L=12).values, rtol=0.01)
    np.testing.assert_allclose(_numbers(m.group(2)), crossing.sel(L=12).values, rtol=0.01)
    assert float(m.group(3)) == round(float((paired / crossing).sel(L=12).max()), 1)


def test_the_unpaired_error_and_its_t_tilde(shipped):
    ds, paired, unpaired, _ = shipped
    m = re.search(r"is ~([\d.]+)x the paired one on the shipped data \(median over \(L, W, t\)\)", TEXT)
    ri, ru = analysis.relative_imbalance(ds), analysis.relative_imbalance(ds, error="unpaired")
    median = float((ru.Ir_err / ri.Ir_err).where(ri.time > 0).median())
    assert m and float(m.group(1)) == round(median, 1)
    m = re.search(r"the paper's t~ at L = 12 becomes ([\d., ]+) \(([\d.]+)-([\d.]+)x later; ([\d.]+)x on average over "
                  r"the grid\)", TEXT)
    assert m, "statement not found"
    np.testing.assert_allclose(_numbers(m.group(1)), unpaired.sel(L=12).values, rtol=0.01)
    ratio = unpaired / paired
    assert (float(m.group(2)), float(m.group(3))) == (round(float(ratio.sel(L=12).min()), 1),
                                                      round(float(ratio.sel(L=12).max()), 1))
    assert float(m.group(4)) == round(float(ratio.mean()), 1)
