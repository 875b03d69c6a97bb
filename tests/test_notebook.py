"""The analysis notebook draws its four figures inline.

nbmake (``--nbmake`` in pyproject.toml) only checks that the notebook runs; this test executes it
once more with nbclient, as Jupyter would, and checks that each figure cell stores a PNG image
rather than the text ``<Figure size ...>`` that a non-inline backend leaves behind.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest
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


def test_four_figure_cells_each_store_one_png(executed):
    cells = _figure_cells(executed)
    assert [c.source.split("(")[0] for c in cells] == [
        "plots.fig2_imbalance", "plots.fig3_threshold", "plots.fig4_front", "plots.fig5_collapse"
    ]
    for cell in cells:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, f"{cell.source!r}: {len(images)} PNG outputs, expected 1"
        png = base64.b64decode(images[0]["data"]["image/png"])
        assert png.startswith(PNG_MAGIC) and len(png) > 10_000, cell.source


def test_no_cell_writes_to_stderr(executed):
    """Warnings (numpy, matplotlib, xarray) land on stderr; a clean walkthrough has none."""
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            assert not (out.output_type == "stream" and out.name == "stderr"), (cell.source, out.text)
