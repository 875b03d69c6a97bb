"""Each figure function runs on synthetic analysis output and writes a PNG with labelled axes."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import analysis  # noqa: E402
from analysis import plots  # noqa: E402


@pytest.fixture(scope="module")
def ds():
    from types import SimpleNamespace  # the synth fixture is function-scoped; build directly

    rng = np.random.default_rng(4)
    steps = np.unique(np.round(np.geomspace(1, 2e4, 30)).astype(int))
    t = np.concatenate([[0.0], steps * 0.05])
    lnt = np.log(np.where(t > 0, t, 1.0))
    Ls, Ws, nr = [4, 6], [2.0, 4.0], 5
    ns = max(Ls)
    j = np.arange(1, ns + 1)
    sz = np.full((2, 2, 2, nr, t.size, ns), np.nan)
    for i, L in enumerate(Ls):
        for k, W in enumerate(Ws):
            A = 1.0 / W
            for r in range(nr):
                m = rng.uniform(0.6, 1.0, L)
                s0 = 0.5 * (-1.0) ** (j[:L] + 1) * m
                f = np.where(t[:, None] > 0, 1 / (1 + np.exp(-(A * lnt[:, None] - (j[:L] - 1)))), 0.0)
                sz[i, k, 0, r, :, :L] = s0
                sz[i, k, 1, r, :, :L] = s0 * (1 - f)
    import xarray as xr

    return SimpleNamespace(ds=xr.Dataset(
        {"sz": (("L", "W", "gamma", "realization", "time", "site"), sz, {"long_name": "Sz", "units": "1"})},
        coords={"L": Ls, "W": Ws, "gamma": [0.0, 1.0], "realization": np.arange(nr),
                "time": ("time", t, {"long_name": "time t·J", "units": "1"}), "site": j},
    ))


def _check(fig: Figure, path) -> None:
    assert isinstance(fig, Figure)
    fig.savefig(path)
    assert path.stat().st_size > 0
    assert path.read_bytes()[:4] == b"\x89PNG"


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


class TestPlots:
    def test_fig2(self, ds, tmp_path):
        ri = analysis.relative_imbalance(ds.ds)
        fig = plots.fig2_imbalance(ri, r_th=0.17)
        _check(fig, tmp_path / "fig2.png")
        ax = fig.axes[0]
        assert ax.get_xlabel() == r"time $tJ$" and "imbalance" in ax.get_ylabel()
        assert ax.get_xscale() == "log"
        assert len(fig.axes) == 2  # smallest and largest W (the paper's W = 2 and 8 are not both here)
        assert any(np.allclose(line.get_ydata(), 0.17) for line in ax.get_lines())  # the r_th line
        assert any("r_{th}" in t for t in _texts(ax))

    def test_fig2_paper_panels_and_resampled_band(self, ds, tmp_path):
        ri = analysis.relative_imbalance(ds.ds)
        bs = analysis.bootstrap(ds.ds, n_resamples=20, with_front=False)
        fig = plots.fig2_imbalance(ri, W=[2.0], bs=bs)
        assert len(fig.axes) == 1 and "(a)" in fig.axes[0].get_title()
        _check(fig, tmp_path / "fig2b.png")

    def test_fig3(self, ds, tmp_path):
        tt = analysis.threshold_time(ds.ds, r_th=0.1)
        fig = plots.fig3_threshold(tt, analysis.fit_threshold_scaling(tt))
        _check(fig, tmp_path / "fig3.png")
        a, b = fig.axes
        assert a.get_xlabel() == r"disorder strength $W/J$" and r"\tilde{t}" in a.get_ylabel()
        assert b.get_xlabel() == r"chain length $L$"
        assert a.get_yscale() == "log"
        assert list(b.get_xticks()) == [4.0, 6.0]  # integer L ticks, on the data
        assert list(a.get_xticks()) == [2.0, 4.0]

    def test_fig3_says_why_a_marker_lies_outside_its_bar(self, ds, tmp_path):
        tt = analysis.threshold_time(ds.ds, r_th=0.1)
        outside = int(((tt.t_tilde > tt.t_tilde_upper) | (tt.t_tilde < tt.t_tilde_lower)).sum())
        title = plots.fig3_threshold(tt).axes[1].get_title()
        assert (f"{outside} marker(s) lie above their bar" in title) == (outside > 0)
        moved = tt.copy()
        moved["t_tilde_upper"] = moved.t_tilde_lower  # every paper t~ now above its bar
        n = int(np.isfinite(moved.t_tilde).sum())
        assert f"{n} marker(s) lie above their bar" in plots.fig3_threshold(moved).axes[1].get_title()

    def test_fig3_resampled_with_censored_point_draws_an_arrow(self, ds, tmp_path):
        bs = analysis.bootstrap(ds.ds, n_resamples=20, r_th=0.1, with_front=False)
        bs["t_tilde_paper"][0, 0] = np.nan  # censored: drawn at t_final with an upward arrow
        bs["t_tilde_paper_hi"][0, 0] = np.inf
        fig = plots.fig3_threshold(analysis.threshold_time(ds.ds, r_th=0.1), bs=bs)
        _check(fig, tmp_path / "fig3b.png")
        a, _ = fig.axes
        arrows = [c for c in a.get_children() if type(c).__name__ == "Annotation"]
        assert arrows and r"\alpha" in a.get_title()

    def test_fig4(self, ds, tmp_path):
        fr = analysis.front(ds.ds)
        fig = plots.fig4_front(fr, analysis.fit_front(fr, 10.0, 1000.0))
        _check(fig, tmp_path / "fig4.png")
        ax, ins = fig.axes
        assert ax.get_xlabel() == r"time $tJ$" and "front length $h$" in ax.get_ylabel()
        assert ins.get_ylabel().startswith("$1/A$") and ins.get_xlabel() == r"disorder strength $W/J$"
        assert list(ins.get_xticks()) == [2.0, 4.0]
        label = next(t for t in ins.texts if "2\\ln 4" in t.get_text())
        assert 0.0 < label.get_position()[0] < 1.0  # inside the axes, not on the spine

    def test_fig4_resampled(self, ds, tmp_path):
        fr = analysis.front(ds.ds)
        bs = analysis.bootstrap(ds.ds, n_resamples=20, window=(10.0, 1000.0))
        fig = plots.fig4_front(fr, bs=bs)
        _check(fig, tmp_path / "fig4b.png")
        assert "resampled" in fig.axes[1].get_title()
        with pytest.raises(ValueError, match="ff"):
            plots.fig4_front(fr)

    def test_fig5(self, ds, tmp_path):
        fig = plots.fig5_collapse(analysis.collapse(ds.ds))
        _check(fig, tmp_path / "fig5.png")
        ax = fig.axes[0]
        assert ax.get_xlabel() == r"time $tJ$" and ax.get_ylabel().startswith(r"$L\,I_r$")
        assert "W = 4" in ax.get_title()  # no W = 8 here: the largest

    def test_label_helper(self):
        import xarray as xr

        assert plots.label(xr.DataArray(1.0, attrs={"long_name": "x", "units": "m"})) == "x [m]"
        assert plots.label(xr.DataArray(1.0, attrs={"long_name": "x", "units": "1"})) == "x"
