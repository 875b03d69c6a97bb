"""The analysis notebook draws its four figures inline.

nbmake (``--nbmake`` in pyproject.toml) only checks that the notebook runs; this test executes it
once more with nbclient, as Jupyter would, and checks that each figure cell stores a PNG image
rather than the text ``<Figure size ...>`` that a non-inline backend leaves behind.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
import xarray as xr
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "analysis.ipynb"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return nb


def _figure_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith("plots.fig")]


def test_source_uses_the_inline_backend():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "%matplotlib inline" in source
    assert "Agg" not in source


def test_five_figure_cells_each_store_one_png(executed):
    cells = _figure_cells(executed)
    assert [c.source.split("(")[0] for c in cells] == [
        "plots.fig2_imbalance", "plots.fig3_threshold", "plots.fig4_front", "plots.fig4_local_slope",
        "plots.fig5_collapse"
    ]
    for cell in cells:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, f"{cell.source!r}: {len(images)} PNG outputs, expected 1"
        png = base64.b64decode(images[0]["data"]["image/png"])
        assert png.startswith(PNG_MAGIC) and len(png) > 10_000, cell.source


def test_prose_quotes_no_result_by_hand():
    """Numbers and verdicts about the data come from code cells (generated Markdown), never typed prose:
    the hand-written Markdown cells hold no interval, no P, no bold verdict, no decimal number other than
    the constants of the criteria (r_th = 0.17, ln 4, 2 ln 4)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    constants = {"0.17", "1.39", "2.77"}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = cell.source
        assert not re.search(r"\d \[[-\d.]+, [-\d.]+\]", text), text
        assert not re.search(r"\bP (=|of the claim|near|close)", text), text
        assert not re.search(r"\*\*(\\?\"?)(yes|no|undetermined)(\\?\"?)\*\* (at|there|for)", text), text
        assert set(re.findall(r"(?<!arXiv:)\b\d+\.\d+", text)) <= constants, text


def test_dataset_description_matches_the_data():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    ds = xr.open_dataset(NOTEBOOK.parents[1] / "datasets" / "quickstart.nc")
    intro = nb.cells[0].source
    Ls = " and ".join(str(int(L)) for L in ds.L.values)
    Ws = ", ".join(f"{w:g}" for w in ds.W.values[:-1]) + f" and {ds.W.values[-1]:g}"
    assert f"L = {Ls}, W = {Ws}, {ds.sizes['realization']} realizations per point, times up to $t = {ds.attrs['t_final']:g}$" in intro


def test_generated_reading_agrees_with_the_report(executed):
    """The generated summary quotes the verdicts of the cell before it, i.e. of `mbl-avalanche report`."""
    text = "".join(o.get("data", {}).get("text/markdown", "") for o in executed.cells[24].outputs)
    assert text.startswith("## What this says")
    import analysis
    ds = xr.load_dataset(NOTEBOOK.parents[1] / "datasets" / "quickstart.nc")
    rep = analysis.report(ds, window=analysis.suggest_window(analysis.front(ds)))
    g = rep.grid
    yes = ", ".join(f"L = {r.L}, W = {r.W:g}" for r in g.itertuples() if r.front_verdict == "yes")
    assert f"$1/A > 2\\ln 4$ is **yes** at {yes}," in text


def test_no_cell_writes_to_stderr(executed):
    """Warnings (numpy, matplotlib, xarray) land on stderr; a clean walkthrough has none."""
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            assert not (out.output_type == "stream" and out.name == "stderr"), (cell.source, out.text)
