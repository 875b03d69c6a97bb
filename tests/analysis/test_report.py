"""analysis.report: one tidy row per (L, W), printable as Markdown."""
from __future__ import annotations

import numpy as np
import pytest

from analysis import report, report_markdown
from analysis.report import COLUMNS


def _ds(synth):
    t = synth.log_times(40)
    lnt = np.log(np.where(t > 0, t, 1.0))
    Ls, Ws = [4, 6], [2.0, 3.0]
    I0 = np.ones((2, 2, 3, t.size))
    Ig = np.empty_like(I0)
    for i, L in enumerate(Ls):
        for k, W in enumerate(Ws):
            Ig[i, k] = 1 - np.where(t > 0, np.clip(0.17 + 0.05 * (lnt - 0.1 * L * W), 0, 1), 0.0)
    return synth.from_imbalance(I0, Ig, L=Ls, W=Ws, times=t)


class TestReport:
    def test_tidy_table(self, synth):
        df = report(_ds(synth))
        assert list(df.columns) == list(COLUMNS)
        assert len(df) == 4 and list(zip(df["L"], df["W"])) == [(4, 2.0), (4, 3.0), (6, 2.0), (6, 3.0)]
        np.testing.assert_allclose(df["t_tilde"], np.exp(0.1 * df["L"] * df["W"]), rtol=1e-10)
        assert df["alpha"].iloc[0] == pytest.approx(0.1, rel=1e-9)
        assert (df["window"] == "suggested").all()
        assert df.attrs["r_th"] == 0.17 and "t_star" in df.attrs["columns"]

    def test_windows_are_recorded(self, synth):
        ds = _ds(synth)
        df = report(ds, window=(1.0, 100.0))
        assert (df["t_min"] == 1.0).all() and (df["t_max"] == 100.0).all() and (df["window"] == "given").all()
        df = report(ds, window={(6, 3.0): (2.0, 500.0)})
        row = df[(df["L"] == 6) & (df["W"] == 3.0)].iloc[0]
        assert (row["t_min"], row["t_max"], row["window"]) == (2.0, 500.0, "given")
        assert (df["window"] == "given").sum() == 1

    def test_markdown(self, synth):
        md = report_markdown(report(_ds(synth)))
        assert md.splitlines()[0].startswith("|") and "t_tilde" in md and "inv_A" in md
        assert len(md.splitlines()) == 2 + 4
