"""The layers of docs/design.md, checked on the import graph of the source tree."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Layers from the bottom up (docs/design.md, "Layers and data flow"); a module may import its own
#: layer and the layers before it.
LAYERS = [
    ("ensemble.threads", "ensemble.validation"),
    ("ensemble.models",),
    ("ensemble.references", "ensemble.lindblad"),
    ("ensemble.observables",),
    ("ensemble.engines",),
    ("ensemble.io",),
    ("ensemble.run",),
    ("ensemble.config", "ensemble.cli", "ensemble.__main__", "ensemble"),
]


def _modules(package: str) -> dict[str, Path]:
    out = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if path.name == "__init__.py" else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _layer(module: str) -> int:
    best = None
    for k, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (k, len(prefix))
    if best is None:
        raise AssertionError(f"{module} is in no layer of docs/design.md")
    return best[0]


ENSEMBLE = _modules("ensemble")
ANALYSIS = _modules("analysis")


@pytest.mark.parametrize("name", sorted(ENSEMBLE))
def test_modules_import_only_their_layer_and_the_ones_below(name):
    own = _layer(name)
    for target in _imports(name, ENSEMBLE[name], top_level_only=False):
        if target in ENSEMBLE and target != "ensemble":
            assert _layer(target) <= own, f"{name} (layer {own}) imports {target} (layer {_layer(target)})"


def test_analysis_never_imports_ensemble():
    for name, path in ANALYSIS.items():
        bad = [t for t in _imports(name, path, top_level_only=False) if t == "ensemble" or t.startswith("ensemble.")]
        assert not bad, f"{name} imports {bad}"


def test_no_import_cycle():
    graph = {name: {t for t in _imports(name, path, top_level_only=True) if t in ENSEMBLE and t != name}
             for name, path in ENSEMBLE.items()}
    # importing a submodule imports its parent packages first
    for name in list(graph):
        parent = name.rpartition(".")[0]
        if parent:
            graph[name].add(parent)
    graph["ensemble"] = set()  # the package's re-exports are lazy
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, nxt]))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])


def test_numpy_layers_load_without_dask_or_xarray():
    code = ("import sys, ensemble.models, ensemble.engines, ensemble.references, ensemble.observables, "
            "ensemble.run.realization, ensemble.lindblad\n"
            "from ensemble.engines import REGISTRY; REGISTRY.names()\n"
            "bad = sorted(m for m in ('dask', 'distributed', 'xarray') if m in sys.modules)\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_parsing_a_config_loads_no_numerics_library():
    """``import ensemble.config`` (TOML parsing, the parameter objects) needs neither QuSpin, numba,
    SciPy nor Dask: the numerics load when a run or an engine needs them."""
    code = ("import sys, ensemble.config\n"
            "bad = sorted(m for m in ('quspin', 'numba', 'scipy', 'dask', 'xarray') if m in sys.modules)\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
