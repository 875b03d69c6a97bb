"""The parameter list of a run exists once: every place that names the run's parameters agrees with it.

The declaration is the physics fields of the default parameter objects (chain, bath) plus
``ensemble.run.parameters.RUN_PARAMETERS``. A keyword of ``run_grid`` or ``plan_grid``, a TOML key, a
default or a Dataset attribute added or changed in one place only fails here.
"""

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

import ensemble
from ensemble import config
from ensemble.models.baths.dephasing import DephasingBath
from ensemble.models.xxz import XXZChain
from ensemble.run import parameters
from ensemble.run.spec import physics_schema

ROOT = Path(__file__).resolve().parents[1]
#: Bath fields that run_grid takes under their own name (the site is ``bath_site``, a RUN_PARAMETER).
BATH_KEYWORDS = ("gamma", "tau")


def _physics_defaults() -> dict[str, object]:
    out = {}
    for f in dataclasses.fields(XXZChain):
        out[f.name] = parameters.REQUIRED if f.default is dataclasses.MISSING else f.default
    for name in BATH_KEYWORDS:
        out[name] = next(f.default for f in dataclasses.fields(DephasingBath) if f.name == name)
    return out


def _declared(plan: bool = False) -> dict[str, object]:
    out = _physics_defaults()
    out.update({p.name: p.default for p in parameters.RUN_PARAMETERS if p.plan or not plan})
    return out


def _signature(function) -> dict[str, object]:
    return {name: parameters.REQUIRED if p.default is inspect.Parameter.empty else p.default
            for name, p in inspect.signature(function).parameters.items()}


@pytest.mark.parametrize("function, plan", [(ensemble.run_grid, False), (ensemble.plan_grid, True)],
                         ids=["run_grid", "plan_grid"])
def test_the_keywords_and_defaults_are_the_declared_ones(function, plan):
    assert _signature(function) == _declared(plan)


def test_the_toml_grid_and_run_tables_are_generated_from_the_declaration():
    for table in ("grid", "run"):
        declared = {p.toml[1]: p.toml_value for p in parameters.RUN_PARAMETERS if p.toml and p.toml[0] == table}
        schema = {key: (parameters.REQUIRED if default is config.REQUIRED else default)
                  for key, (_, default) in config.SCHEMA[table].items()}
        assert schema == declared, table
    # the physics tables come from the parameter objects: the chain's and the bath's keywords are there
    model = physics_schema()["model"]
    assert set(_physics_defaults()) <= set(model)


def test_every_toml_key_reaches_run_grid(tmp_path):
    """A config setting every [grid] and [run] key away from its default passes each one on."""
    path = tmp_path / "all.toml"
    path.write_text('[model]\ndelta = 0.5\ngamma = 0.7\ntau = 0.04\nJ = 1.1\n[grid]\nL = [4]\nW = [2.0]\n'
                    'n_realizations = 2\nt_final = 3.0\ntimes = [0.0, 1.0, 3.0]\n[run]\nseed = 9\n'
                    'engine = "manybody"\nunraveling = "kick"\nnoise = "trajectory"\nentanglement = true\n'
                    'observables = ["sz"]\nworkers = 3\nomp_threads = 2\nbatch_size = 5\nmax_memory = 2.5\n')
    kwargs = config.to_run_grid_kwargs(config.resolve(config.load_config(path)))
    expected = dict(delta=0.5, gamma=0.7, tau=0.04, J=1.1, L=[4], W=[2.0], n_realizations=2, t_final=3.0,
                    times=[0.0, 1.0, 3.0], seed=9, engine="manybody", unraveling="kick", noise="trajectory",
                    entanglement=True, observables=["sz"], n_workers=3, omp_threads=2, batch_size=5, max_memory=2.5)
    assert {k: kwargs[k] for k in expected} == expected
    assert set(kwargs) <= set(_declared())


def test_the_dataset_records_the_declared_attributes():
    ds = ensemble.run_grid(L=[4], W=[1.0], delta=1.0, t_final=1.0, n_times=3, n_realizations=1, seed=2,
                           client="synchronous", progress=False)
    for name in (*_physics_defaults(), *(p.attr for p in parameters.RUN_PARAMETERS if p.attr)):
        assert name in ds.attrs, name


def test_docs_config_documents_the_declared_toml_keys():
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for table in ("grid", "run"):
        section = text.split(f"## `[{table}]`", 1)[1].split("\n## ", 1)[0]
        rows = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
        assert rows == {p.toml[1] for p in parameters.RUN_PARAMETERS if p.toml and p.toml[0] == table}, table
