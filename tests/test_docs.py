"""The documentation is accurate where a machine can check it.

- every reference resolves inside the repository (no outside files, no numbered work items);
- the README's Python snippets run, and so does every Python block of docs/ (against shipped data);
- the run costs quoted in the README and the config headers are what ``--dry-run`` prints;
- ``docs/config.md`` documents every config key with its default.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import shlex
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

import ensemble
from ensemble import config
from ensemble.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TOP_DIRS = ("analysis", "benchmarks", "datasets", "docs", "ensemble", "examples", "tests")
BINARY = {".nc", ".png", ".pdf", ".svg", ".pyc"}


def _text_files() -> list[Path]:
    files = []
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if not path.is_file() or path.suffix in BINARY:
            continue
        if any(part.startswith(".") and part != ".ci" or part == "__pycache__" or part.endswith(".egg-info")
               for part in rel.parts):
            continue
        files.append(path)
    return files


def _run_configs() -> list[Path]:
    """The example run configs (a ``[model]`` table), not other TOML files such as campaign plans."""
    return [p for p in sorted((ROOT / "examples").rglob("*.toml")) if "model" in tomllib.loads(p.read_text())]


def _markdown_files() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md",
            ROOT / "datasets" / "README.md"]


class TestReferencesResolve:
    # Built from pieces so that this file does not itself mention what it forbids.
    FORBIDDEN = [
        re.compile("DES" + r"IGN\.md"),
        re.compile("STY" + r"LE\.md"),
        re.compile(r"\.\./" + "shared"),
        re.compile(r"(?<![\w/])" + "sha" + "red/"),
        re.compile(r"\b(?:iss" + r"ue|ta" + r"sk|work item)s? #?\d+", re.IGNORECASE),
        re.compile(r"\biss" + r"ue \d+'s", re.IGNORECASE),
    ]

    def test_no_file_mentions_outside_documents_or_work_items(self):
        hits = []
        for path in _text_files():
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            for pattern in self.FORBIDDEN:
                for m in pattern.finditer(text):
                    line = text.count("\n", 0, m.start()) + 1
                    hits.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0)!r}")
        assert not hits, "\n".join(hits)

    @staticmethod
    def _anchors(path: Path) -> set[str]:
        anchors = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                title = line.lstrip("#").strip().lower()
                anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
        return anchors

    @pytest.mark.parametrize("md", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
    def test_markdown_links_resolve(self, md):
        text = md.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"https?://", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (md.parent / file).resolve() if file else md
            assert dest.exists(), f"{md.name}: link {target!r} points to a missing file"
            if anchor:
                assert anchor in self._anchors(dest), f"{md.name}: link {target!r}: no such heading"

    @pytest.mark.parametrize(
        "doc", [*_markdown_files(), *_run_configs()], ids=lambda p: str(p.relative_to(ROOT))
    )
    def test_repository_paths_exist(self, doc):
        text = doc.read_text(encoding="utf-8")
        pattern = r"(?<![\w/.-])((?:" + "|".join(TOP_DIRS) + r")/[\w./-]*\w)"
        missing = sorted({p for p in re.findall(pattern, text) if not (ROOT / p).exists()})
        assert not missing, f"{doc.name} names paths that are not in the repository: {missing}"

    def test_one_anderson_front_config(self):
        assert [p.relative_to(ROOT).as_posix() for p in ROOT.joinpath("examples").rglob("anderson_front.toml")] == [
            "examples/paper/anderson_front.toml"
        ]


def _python_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


class TestReadmeSnippets:
    def test_every_snippet_is_covered(self):
        snippets = _python_snippets()
        assert len(snippets) == 3
        assert "run_grid" in snippets[0] and "magnetization_trajectory" in snippets[1]
        assert "dask_jobqueue" in snippets[2]  # needs a SLURM cluster: not run here

    def test_python_api_snippet(self, monkeypatch, tmp_path):
        """The grid snippet with ``run_grid`` replaced by the shipped dataset it describes."""
        shipped = xr.load_dataset(ROOT / "datasets" / "quickstart.nc")
        calls = []

        def fake_run_grid(**kwargs):
            inspect.signature(real).bind(**kwargs)  # every keyword is one run_grid accepts
            calls.append(kwargs)
            return shipped

        real = ensemble.run_grid
        monkeypatch.setattr(ensemble, "run_grid", fake_run_grid)
        monkeypatch.chdir(tmp_path)
        exec(compile(_python_snippets()[0], "README snippet", "exec"), {})
        assert (tmp_path / "grid.nc").is_file()
        # the snippet's claim: these are the parameters and seed of datasets/quickstart.nc
        (kw,) = calls
        assert kw["seed"] == int(shipped.attrs["seed_entropy"])
        assert kw["L"] == list(shipped.L.values) and kw["W"] == list(shipped.W.values)
        assert kw["t_final"] == shipped.attrs["t_final"] and kw["n_realizations"] == shipped.sizes["realization"]

    def test_one_trajectory_snippet(self, capsys):
        exec(compile(_python_snippets()[1], "README snippet", "exec"), {})
        assert capsys.readouterr().out.strip() == "(13, 10)"


#: a `--set` value with a shell glob character ([ ] { } * ?) that is not inside quotes.
_UNQUOTED_GLOB = re.compile(r"--set +(?!['\"])[^ \n`'\"]*[][{}*?]")


def test_every_documented_set_value_with_glob_characters_is_quoted():
    files = [*_text_files()]
    hits = []
    for path in files:
        if path.suffix not in (".md", ".py", ".toml", ".ipynb") or path.parts[-2:-1] == ("tests",):
            continue
        if "tests" in path.relative_to(ROOT).parts:
            continue
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _UNQUOTED_GLOB.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{k}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)


def test_the_executed_notebook_copy_the_readme_names_is_ignored_by_git():
    import subprocess

    m = re.search(r"jupyter execute --output=(\S+) (\S+)\.ipynb", README.read_text(encoding="utf-8"))
    assert m, "the README says how to execute the notebook"
    copy = (ROOT / m[2]).parent / m[1]  # jupyter writes the output next to the notebook
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "check-ignore", "-q", str(copy.relative_to(ROOT))], cwd=ROOT)
    assert out.returncode == 0, f"{copy.relative_to(ROOT)} is not ignored by git"


def test_the_documented_combine_tolerance_is_the_code_s():
    from ensemble.io.combine import OVERLAP_TOLERANCE

    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert f"OVERLAP_TOLERANCE = {OVERLAP_TOLERANCE:g}" in text
    assert f"within {OVERLAP_TOLERANCE:g} in every value" in README.read_text(encoding="utf-8")
    assert f"`OVERLAP_TOLERANCE` = {OVERLAP_TOLERANCE:g}" in (ROOT / "docs" / "design.md").read_text(encoding="utf-8")


def test_config_md_documents_every_accepted_engine_value():
    from ensemble.engines import engine_choices

    row = next(line for line in (ROOT / "docs" / "config.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| `engine` |"))
    missing = [name for name in engine_choices() if f'`"{name}"`' not in row]
    assert not missing, f"docs/config.md, run.engine: document the accepted value(s) {missing}"


def _docs_python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        for k, code in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)):
            blocks.append((f"{path.name}#{k}", code))
    return blocks


def test_docs_have_python_blocks():
    assert any(name.startswith("analysis.md") for name, _ in _docs_python_blocks())


@pytest.mark.parametrize(("name", "code"), _docs_python_blocks(), ids=[n for n, _ in _docs_python_blocks()])
def test_every_docs_python_block_runs_on_shipped_data(name, code, tmp_path, monkeypatch, capsys):
    """Run from a scratch directory in which ``datasets/`` is the repository's (paths as in the docs)."""
    import matplotlib

    matplotlib.use("Agg")
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, name, "exec"), {})
    capsys.readouterr()


#: `mbl-avalanche run CONFIG [args]` followed, on the same line, by the `~N core-hours` it costs.
_COST_LINE = re.compile(r"mbl-avalanche run (?P<cmd>[^`#|]*?)\s*(?:`\s*\|[^|]*\||#)\s*~(?P<cost>[\d.e+-]+) core-hours")


def _quoted_costs() -> list[tuple[str, str, str]]:
    quoted = []
    for doc in [README, *_run_configs()]:
        for m in _COST_LINE.finditer(doc.read_text(encoding="utf-8")):
            quoted.append((doc.relative_to(ROOT).as_posix(), m["cmd"], m["cost"]))
    return quoted


def test_every_config_has_a_quoted_cost():
    costed = {shlex.split(cmd)[0] for _, cmd, _ in _quoted_costs()}
    configs = {p.relative_to(ROOT).as_posix() for p in _run_configs()}
    assert costed == configs


@pytest.mark.parametrize("doc, cmd, cost", _quoted_costs(), ids=[f"{d}: {c}" for d, c, _ in _quoted_costs()])
def test_quoted_cost_is_the_dry_run_estimate(doc, cmd, cost, capsys, tmp_path, monkeypatch):
    """Headers and README quote ``--dry-run`` to the printed precision (regenerate them if this fails)."""
    args = shlex.split(cmd)
    k = args.index("-o")
    args[k + 1] = str(tmp_path / "out.nc")
    monkeypatch.chdir(ROOT)
    assert main(["run", *args, "--dry-run"]) == 0
    printed = re.search(r"~([\d.e+-]+) core-hours", capsys.readouterr().out)[1]
    assert float(cost) == float(printed), f"{doc}: `{cmd}` quotes ~{cost} core-hours, --dry-run prints ~{printed}"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def test_config_reference_lists_every_key_with_its_default():
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for table, keys in config.SCHEMA.items():
        section = text.split(f"## `[{table}]`", 1)[1].split("\n## ", 1)[0]
        rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, re.M))
        assert set(rows) == set(keys), table
        for key, (_, default) in keys.items():
            shown = rows[key].strip()
            if default is config.REQUIRED:
                assert shown == "required", (table, key)
            elif default is None:
                assert shown == "none", (table, key)
            else:
                assert shown == f"`{_toml(default)}`", (table, key, shown)


class TestSensitivityTable:
    """The README's sensitivity table (``examples/paper/reduce.py``), checked against its CSV."""

    def test_readable_rows_and_no_meaningless_inverse_slopes(self):
        text = (ROOT / "docs" / "results" / "results.md").read_text(encoding="utf-8")
        section = text.split("### Sensitivity of 1/A", 1)[1]
        assert "('" not in section
        table = pd.read_csv(ROOT / "docs" / "results" / "sensitivity.csv")
        negative = table[(table.A <= 0) & table.run.isin(["anderson_L100", "mbl_front", "mbl_front_L14"])]
        assert len(negative) > 0  # the mean-then-abs front at W = 10 is flat on [20, 300]
        assert sum(line.count("| A < 0") for line in section.splitlines() if line.startswith("|")) == len(negative)
        assert f"{table.inv_A[table.A > 0].iloc[0]:.2f}" in section