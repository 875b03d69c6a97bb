"""Config text at the edges: deeply nested arrays and --set values that smuggle in more than one key."""

import pytest

from ensemble import config
from ensemble.cli import main

TINY = """
[model]
delta = 1.0

[grid]
L = [4]
W = {W}
n_realizations = 2
t_final = 1.0

[run]
seed = 3
"""


def _one_line(capsys, fragment):
    err = capsys.readouterr().err
    assert err.startswith("mbl-avalanche: error: ") and err.count("\n") == 1 and fragment in err, err[:500]


@pytest.mark.parametrize("depth", [2, 500, 5000])
def test_deeply_nested_array_in_a_file_is_one_line(tmp_path, capsys, depth):
    path = tmp_path / "deep.toml"
    path.write_text(TINY.format(W="[" * depth + "1.0" + "]" * depth))
    assert main(["run", str(path), "-o", str(tmp_path / "o.nc"), "--dry-run"]) == 2
    _one_line(capsys, "W must be a real number" if depth == 2 else "nests arrays or tables too deeply")


def test_deeply_nested_set_value_is_one_line(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(TINY.format(W="[1.0]"))
    deep = "[" * 2000 + "1.0" + "]" * 2000
    assert main(["run", str(path), "-o", str(tmp_path / "o.nc"), "--dry-run", "--set", f"grid.W={deep}"]) == 2
    _one_line(capsys, "nests arrays too deeply")


@pytest.mark.parametrize("assignment", ["grid.L=8\n[run]\nseed=1", "grid.L=8\r\nseed=1", "grid.L=8\nx=1",
                                        "grid.L=8\x00"])
def test_set_with_a_line_break_is_refused(assignment):
    with pytest.raises(ValueError, match="one line table.key=value"):
        config.apply_override({}, assignment)


def test_set_with_a_line_break_is_one_line_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(TINY.format(W="[1.0]"))
    assert main(["run", str(path), "-o", str(tmp_path / "o.nc"), "--dry-run",
                 "--set", "grid.L=[6]\n[run]\nseed=1"]) == 2
    _one_line(capsys, "one line table.key=value")


def test_set_still_takes_one_literal():
    cfg = {}
    config.apply_override(cfg, "grid.L = [8, 10]")
    config.apply_override(cfg, "run.engine=manybody")
    config.apply_override(cfg, 'cluster.walltime="02:00:00"')
    assert cfg == {"grid": {"L": [8, 10]}, "run": {"engine": "manybody"}, "cluster": {"walltime": "02:00:00"}}
