"""analysis.report: two tables with units, resampled intervals, verdicts, notes; Markdown, CSV, JSON."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from analysis import Report, report, report_markdown
from analysis.report import GRID_COLUMNS, SUMMARY_COLUMNS


def _ds(synth, nr=6, seed=0, noise=1e-4):
    """Ir = 0.17 + 0.05 (ln t - 0.1 L W) (+ small noise): t~ (crossing) = exp(0.1 L W)."""
    rng = np.random.default_rng(seed)
    t = synth.log_times(40)
    lnt = np.log(np.where(t > 0, t, 1.0))
    Ls, Ws = [4, 6], [2.0, 3.0]
    I0 = np.ones((2, 2, nr, t.size))
    Ig = np.empty_like(I0)
    for i, L in enumerate(Ls):
        for k, W in enumerate(Ws):
            Ig[i, k] = 1 - np.where(t > 0, np.clip(0.17 + 0.05 * (lnt - 0.1 * L * W), 0, 1), 0.0)
    Ig = Ig + noise * rng.standard_normal(Ig.shape[:3] + (1,)) * (t > 0)  # per-realization offsets
    return synth.from_imbalance(I0, Ig, L=Ls, W=Ws, times=t)


class TestReport:
    def test_two_tables(self, synth):
        rep = report(_ds(synth), n_resamples=50)
        assert isinstance(rep, Report)
        assert list(zip(rep.grid["L"], rep.grid["W"])) == [(4, 2.0), (4, 3.0), (6, 2.0), (6, 3.0)]
        assert set(rep.grid.columns) <= set(GRID_COLUMNS) and list(rep.summary.columns) == list(SUMMARY_COLUMNS)
        np.testing.assert_allclose(rep.grid["t_tilde_crossing"], np.exp(0.1 * rep.grid["L"] * rep.grid["W"]), rtol=1e-2)
        assert (rep.grid["t_tilde_paper_lo"] <= rep.grid["t_tilde_paper_hi"]).all()
        q = rep.summary.set_index("quantity")
        assert q.loc["alpha", "estimate"] == pytest.approx(0.1, rel=0.05) and q.loc["alpha", "unit"] == "1/(site·J)"
        assert (rep.summary[rep.summary.quantity == "kappa"]["verdict"] == "no").all()
        assert set(rep.summary["verdict"]) <= {"yes", "no", "undetermined", ""}
        assert rep.attrs["n_resamples"] == 50 and rep.attrs["confidence"] == 0.95
        assert rep.bootstrap is not None and rep.bootstrap.sizes["resample"] == 50
        assert any("as few as 6 realizations" in n for n in rep.notes)

    def test_fit_window_is_stated(self, synth):
        ds = _ds(synth)
        rep = report(ds, window=(1.0, 100.0), n_resamples=20)
        assert (rep.grid["t_min"] == 1.0).all() and (rep.grid["t_max"] == 100.0).all()
        assert any("t in [1, 100]" in n and "given" in n for n in rep.notes)
        rep = report(ds, window={(6, 3.0): (2.0, 500.0)}, n_resamples=20)
        row = rep.grid[(rep.grid["L"] == 6) & (rep.grid["W"] == 3.0)].iloc[0]
        assert (row["t_min"], row["t_max"]) == (2.0, 500.0)
        assert any("differ per (L, W)" in n for n in rep.notes)

    def test_jump_data_leave_the_front_out_with_one_line(self, synth):
        ds = _ds(synth)
        ds.attrs["unraveling"] = "jump"
        rep = report(ds, n_resamples=20)
        assert "inv_A" not in rep.grid.columns and "W_star" not in set(rep.summary["quantity"])
        lines = [n for n in rep.notes if "front columns" in n]
        assert len(lines) == 1 and "unraveling='jump'" in lines[0] and "mean-then-abs" in lines[0]
        assert "\n" not in lines[0]

    def test_confidence_widens_the_intervals(self, synth):
        ds = _ds(synth, nr=20, noise=0.05)
        a = report(ds, n_resamples=200, confidence=0.5).summary.set_index("quantity").loc["alpha"]
        b = report(ds, n_resamples=200, confidence=0.99).summary.set_index("quantity").loc["alpha"]
        assert b["hi"] - b["lo"] > a["hi"] - a["lo"] > 0

    def test_markdown_csv_json(self, synth):
        rep = report(_ds(synth), n_resamples=20)
        md = report_markdown(rep)
        assert md == rep.to_markdown()
        assert "t~ paper [1/J]" in md and "W~ = 2 ln 2/α [J]" in md and "κ = d ln t~/dL [1/site]" in md
        lines = md.splitlines()
        rules = [k for k, line in enumerate(lines) if line.startswith(("|-", "|:"))]
        assert len(rules) == 2  # two tables
        grid_rows = [line for line in lines[rules[0] + 1:] if line.startswith("|")][:4]
        assert len(grid_rows) == 4 and lines[rules[1] - 1].startswith("| quantity")
        full = rep.to_markdown(all_columns=True)
        assert "t_tilde_paper_lo [1/J]" in full
        grid = pd.read_csv(io.StringIO(rep.to_csv()))
        assert "t_tilde_paper [1/J]" in grid.columns and "W [J]" in grid.columns and len(grid) == 4
        summary = pd.read_csv(io.StringIO(rep.to_csv("summary")))
        assert summary.shape == rep.summary.shape
        with pytest.raises(ValueError, match="table must be one of"):
            rep.to_csv("both")
        doc = json.loads(rep.to_json())
        assert doc["units"]["grid"]["t_tilde_paper"] == "1/J" and len(doc["grid"]) == 4
        assert doc["attrs"]["n_resamples"] == 20 and isinstance(doc["notes"], list)

    def test_censored_t_tilde_is_reported_as_such(self, synth):
        t = synth.log_times(20)
        lnt = np.log(np.where(t > 0, t, 1.0))
        I0 = np.ones((1, 2, 4, t.size))
        Ig = np.stack([1 - np.clip(0.05 * lnt, 0, 1), 1 - np.clip(0.01 * lnt, 0, 1)])[None, :, None].repeat(4, 2)
        Ig = Ig + 1e-4 * np.random.default_rng(1).standard_normal(Ig.shape) * (t > 0)
        rep = report(synth.from_imbalance(I0, Ig, L=[4], W=[1.0, 2.0], times=t), n_resamples=20)
        row = rep.grid.iloc[1]
        assert row["t_tilde_paper_censored"] and np.isnan(row["t_tilde_paper"])
        assert any("censored" in n and "lower bounds" in n for n in rep.notes)
        assert "censored (> t_final)" in rep.to_markdown()
        assert json.loads(rep.to_json())["grid"][1]["t_tilde_paper"] is None
