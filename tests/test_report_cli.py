"""`mbl-avalanche report`: formats, resampling options, range checks, one-line errors, pipes, figures."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.report import GRID_COLUMNS
from ensemble.cli import main

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "datasets" / "quickstart.nc"
FRONT = ROOT / "datasets" / "mbl_front.nc"
FAST = ["--n-resamples", "20"]


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.startswith("mbl-avalanche: error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err


class TestFormats:
    def test_markdown_has_two_tables_and_states_the_window(self, capsys):
        assert main(["report", str(QUICK), *FAST, "--t-min", "10", "--t-max", "200"]) == 0
        out = capsys.readouterr().out
        assert out.count("\n|:") + out.count("\n|-") == 2
        assert "fit window of h = A ln t + B: t in [10, 200]" in out
        assert "20 resamples" in out and "95 % percentile intervals" in out

    def test_csv_is_one_table_that_pandas_reads(self, capsys):
        assert main(["report", str(QUICK), *FAST, "--format", "csv", "--confidence", "0.9"]) == 0
        df = pd.read_csv(io.StringIO(capsys.readouterr().out))
        without_rates = [c for c in GRID_COLUMNS if "gamma" not in c]  # no relaxation rates in this file
        assert df.shape == (6, len(without_rates)) and "inv_A [1/site]" in df.columns and "t_tilde_paper [1/J]" in df.columns
        assert df["L [site]"].tolist() == [8, 8, 8, 10, 10, 10]
        assert df["t_tilde_paper_hi [1/J]"].dtype == float and np.isinf(df["t_tilde_paper_hi [1/J]"]).any()
        assert main(["report", str(QUICK), *FAST, "--format", "csv", "--table", "summary"]) == 0
        summary = pd.read_csv(io.StringIO(capsys.readouterr().out))
        assert list(summary.columns[:2]) == ["quantity", "L"] and "verdict" in summary.columns
        assert summary["estimate"].dtype == float

    def test_csv_output_dir_holds_both_tables_and_the_notes(self, tmp_path, capsys):
        assert main(["report", str(QUICK), *FAST, "--format", "csv", "--output-dir", str(tmp_path / "rep")]) == 0
        captured = capsys.readouterr()
        assert captured.out == "" and "grid.csv" in captured.err
        grid = pd.read_csv(tmp_path / "rep" / "grid.csv")
        summary = pd.read_csv(tmp_path / "rep" / "summary.csv")
        assert len(grid) == 6 and set(summary["quantity"]) >= {"kappa", "alpha", "W_tilde", "W_star"}
        assert "fit window" in (tmp_path / "rep" / "notes.txt").read_text()

    def test_json_is_strict_with_null_for_values_beyond_the_data(self, capsys):
        assert main(["report", str(QUICK), *FAST, "--format", "json", "--seed", "4"]) == 0
        text = capsys.readouterr().out
        doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
        assert doc["attrs"]["seed"] == 4 and doc["attrs"]["n_resamples"] == 20
        assert {r["front_verdict"] for r in doc["grid"]} <= {"yes", "no", "undetermined"}
        assert "unbounded" in doc["null"] and '"inf"' not in text
        grid = pd.DataFrame(doc["grid"])
        assert grid["t_tilde_paper_hi"].dtype == float and grid["t_tilde_paper_hi"].isna().any()
        censored = grid[grid["t_tilde_paper_censored"]]
        assert len(censored) and censored["t_tilde_paper_hi"].isna().all()
        assert pd.DataFrame(doc["summary"])["estimate"].dtype == float

    def test_markdown_says_in_words_what_an_unbounded_interval_and_a_missing_p_mean(self, capsys):
        assert main(["report", str(QUICK), *FAST]) == 0
        out = capsys.readouterr().out
        assert "∞" not in out and "no upper bound]" in out
        assert "so many resamples put the value beyond the data on that side" in out
        kappa_w8 = next(line for line in out.splitlines() if line.startswith("| κ") and "W = 8" in line)
        assert "undetermined" in kappa_w8 and kappa_w8.rstrip(" |").endswith("n/a")
        assert "P n/a: the data give no estimate" in out

    def test_jump_data_say_why_the_front_is_missing(self, capsys):
        assert main(["report", str(ROOT / "datasets" / "mbl_threshold.nc"), *FAST]) == 0
        out = capsys.readouterr().out
        assert "front columns (1/A, t*, W*) left out" in out and "order='mean-then-abs'" in out
        assert "1/A" not in out.split("Per (L, W):")[1].split("\n\n")[1].splitlines()[0]
        assert main(["report", str(ROOT / "datasets" / "mbl_threshold.nc"), *FAST, "--order", "mean-then-abs",
                     "--t-min", "20", "--t-max", "1000"]) == 0
        out = capsys.readouterr().out
        assert "front order = mean-then-abs" in out and "1/A [1/site]" in out and "left out" not in out


class TestBadInput:
    @pytest.mark.parametrize("option, value, message", [
        ("--r-th", "1.5", "--r-th must be in (0, 1)"), ("--r-th", "nan", "--r-th must be in (0, 1)"),
        ("--r-th", "-5", "--r-th must be in (0, 1)"), ("--confidence", "1", "--confidence must be in (0, 1)"),
        ("--n-resamples", "3", "--n-resamples must be >= 10"), ("--dpi", "0", "--dpi must be in"),
        ("--seed", "-1", "--seed must be >= 0"),
    ])
    def test_range_checks(self, capsys, option, value, message):
        assert main(["report", str(QUICK), option, value]) == 2
        _one_line_error(capsys, message)

    def test_window_checks(self, capsys):
        assert main(["report", str(QUICK), "--t-min", "10"]) == 2
        _one_line_error(capsys, "give both --t-min and --t-max")
        assert main(["report", str(QUICK), "--t-min", "100", "--t-max", "10"]) == 2
        _one_line_error(capsys, "--t-min must be below --t-max")
        assert main(["report", str(QUICK), *FAST, "--t-min", "150", "--t-max", "200"]) == 2
        _one_line_error(capsys, "fit window [t_min, t_max] = [150, 200] holds", "at least 5")

    def test_text_file_is_one_clear_line(self, tmp_path, capsys):
        text = tmp_path / "notes.txt"
        text.write_text("not a dataset\n")
        assert main(["report", str(text)]) == 2
        _one_line_error(capsys, f"cannot read {text} as a netCDF dataset")

    def test_figures_pointing_at_a_file(self, tmp_path, capsys):
        target = tmp_path / "figs.png"
        target.write_text("")
        assert main(["report", str(QUICK), "--figures", str(target)]) == 2
        _one_line_error(capsys, "--figures", "is a file; it must be a directory")


class TestPipesAndFigures:
    def test_broken_pipe_exits_quietly(self):
        cmd = (f"{sys.executable} -m ensemble report {QUICK} --n-resamples 20 | head -n 1")
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == "" and proc.stdout.startswith("# quickstart.nc")

    def test_single_L_front_run_says_which_figure_is_skipped(self, tmp_path, capsys):
        figs = tmp_path / "figs"
        assert main(["report", str(FRONT), *FAST, "--t-min", "20", "--t-max", "1000", "--figures", str(figs),
                     "--figure-format", "svg", "--dpi", "80"]) == 0
        err = capsys.readouterr().err
        assert sorted(p.name for p in figs.iterdir()) == ["fig2_imbalance.svg", "fig4_front.svg", "fig4_local_slope.svg",
                                                          "fig5_collapse.svg", "w_star_window.svg"]
        assert "skipped fig3_threshold: t~ versus L needs at least two L values" in err
        assert (figs / "fig4_front.svg").read_text().lstrip().startswith("<?xml")
