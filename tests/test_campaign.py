"""The paper-scale campaign: its sub-runs compose, and the driver plans and reduces them."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import analysis
import ensemble

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def campaign_module():
    spec = importlib.util.spec_from_file_location("campaign", ROOT / "examples/paper/campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _grid(campaign_module, sub):
    from ensemble import config
    from ensemble.run import grid

    raw = config.load_config(ROOT / campaign_module.load()["kinds"][sub["kind"]]["config"])
    for assignment in sub["set"]:
        config.apply_override(raw, assignment)
    kw = config.to_run_grid_kwargs(config.resolve(raw))
    return kw, grid.validate_grid(kw["L"], kw["W"], kw["n_realizations"])


class TestCampaignSpec:
    def test_sub_runs_of_a_kind_are_disjoint_and_share_everything_else(self, campaign_module):
        campaign = campaign_module.load()
        seen: dict[str, set] = {}
        physics: dict[str, dict] = {}
        for sub in campaign["subrun"]:
            kw, (Ls, Ws, counts) = _grid(campaign_module, sub)
            blocks = {(L, W) for L in Ls for W in Ws}
            assert not blocks & seen.setdefault(sub["kind"], set()), sub["name"]
            seen[sub["kind"]] |= blocks
            rest = {k: v for k, v in kw.items() if k not in ("L", "W", "n_realizations", "n_workers")}
            assert physics.setdefault(sub["kind"], rest) == rest, sub["name"]
        # the paper's grid: Delta = 1, W = 2..10; front at L = 16, thresholds at L = 8..16
        Ws = {2.0, 4.0, 6.0, 8.0, 10.0}
        assert seen["front"] == {(16, W) for W in Ws}
        assert seen["threshold"] == {(L, W) for L in (8, 10, 12, 14, 16) for W in Ws}
        assert seen["anderson"] == {(L, 8.0) for L in (26, 50, 100, 200)}
        assert physics["threshold"]["unraveling"] == "jump" and physics["front"]["unraveling"] == "kick"
        assert physics["anderson"]["delta"] == 0.0 and physics["front"]["delta"] == 1.0

    def test_plan_prints_every_sub_run(self, campaign_module, capsys):
        campaign_module.plan(campaign_module.load())
        out = capsys.readouterr().out
        for sub in campaign_module.load()["subrun"]:
            assert sub["name"] in out
        assert "remaining:" in out


class TestReduced:
    def test_reduced_imbalance_is_exact_and_combines(self):
        kw = dict(delta=1.0, t_final=5.0, n_times=6, seed=5, client="synchronous", progress=False,
                  unraveling="jump", engine="manybody")
        a = ensemble.run_grid(L=[4], W=[2.0], n_realizations=3, **kw)
        b = ensemble.run_grid(L=[4], W=[6.0], n_realizations=3, **kw)
        whole = ensemble.run_grid(L=[4], W=[2.0, 6.0], n_realizations=3, **kw)
        red = ensemble.combine([analysis.per_realization_imbalance(a),
                                analysis.per_realization_imbalance(b)])
        np.testing.assert_array_equal(red.imbalance.values, analysis.imbalance(whole).values)
        np.testing.assert_array_equal(red.field.values, whole.field.values)
        assert "reduced" in red.attrs


class TestComparison:
    def test_shipped_comparison_is_what_the_analysis_computes_from_the_shipped_data(self):
        spec = importlib.util.spec_from_file_location("compare", ROOT / "examples/paper/compare.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        text, figures = module.compare(n_resamples=1000, seed=0)
        assert (ROOT / "docs/results/paper_comparison.md").read_text(encoding="utf-8") == text
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        assert module.readme_with(readme, text) == readme
        assert "W*(16)" in text and figures
        # the front is tested for h = A ln t before any 1/A is trusted, per L and per window start
        assert "| h grows as A ln t (Fig. 4b, Eq. 12) |" in text and "Is h = A ln t?" in text
        assert "as a function of its start" in text and {"paper_w_star_window", "paper_fig4b_local_slope"} <= set(figures)
        # the paper's unpaired error and its Eq. (9) without constant are shown beside the verdicts' choices
        assert "| unpaired (the paper's) | ln t~ = alpha L W |" in text
        for arxiv in ("arXiv:2108.10796", "arXiv:2107.05642", "arXiv:2407.20985"):
            assert arxiv in text


class TestDriver:
    def test_next_runs_reduces_ships_and_logs_then_reports_all_shipped(self, campaign_module, tmp_path, capsys):
        config = tmp_path / "tiny.toml"
        config.write_text('[model]\ndelta = 1.0\n\n[grid]\nL = [4]\nW = [2.0]\nn_realizations = 2\n'
                          't_final = 5.0\nn_times = 4\n\n[run]\nseed = 9\nworkers = 1\nunraveling = "jump"\n'
                          'engine = "manybody"\n')
        spec = tmp_path / "campaign.toml"
        spec.write_text(f'[campaign]\nresults = "{tmp_path / "results"}"\nshipped = "{tmp_path / "shipped"}"\n\n'
                        f'[kinds.threshold]\nconfig = "{config}"\nreduce = "imbalance"\n\n'
                        '[[subrun]]\nname = "tiny_W2"\nkind = "threshold"\nset = ["grid.W=[2.0]"]\n\n'
                        '[[subrun]]\nname = "tiny_W6"\nkind = "threshold"\nset = ["grid.W=[6.0]"]\n')
        campaign = campaign_module.load(spec)
        assert campaign_module.run_next(campaign, workers=1, only=None) == 0
        assert campaign_module.run_next(campaign, workers=1, only=None) == 0
        shipped = [tmp_path / "shipped" / f"tiny_W{w}.nc" for w in (2, 6)]
        assert all(p.is_file() for p in shipped)
        assert not (tmp_path / "results" / "tiny_W2.checkpoint").exists()
        combined = ensemble.combine(shipped)
        whole = ensemble.run_grid(L=[4], W=[2.0, 6.0], delta=1.0, t_final=5.0, n_times=4, n_realizations=2, seed=9,
                                  unraveling="jump", engine="manybody", client="synchronous", progress=False)
        np.testing.assert_array_equal(combined.imbalance.values, analysis.imbalance(whole).values)
        log = (tmp_path / "shipped" / "campaign_log.csv").read_text().splitlines()
        assert log[0] == ",".join(campaign_module.LOG_FIELDS) and [r.split(",")[0] for r in log[1:]] == ["tiny_W2", "tiny_W6"]
        capsys.readouterr()
        assert campaign_module.run_next(campaign, workers=1, only=None) == 0
        assert "every sub-run is shipped" in capsys.readouterr().err
