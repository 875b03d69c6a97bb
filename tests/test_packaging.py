"""Packaging and citation metadata as the ecosystem expects (PEP 621 / 639 / 561, Citation File Format)."""

import datetime as dt
import tomllib
from pathlib import Path

import yaml

import ensemble

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CFF = yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_pyproject_metadata():
    project = PROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]  # an SPDX expression
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639: the expression only
    assert project["authors"] and all(a.get("name") for a in project["authors"])
    assert "Typing :: Typed" in project["classifiers"]
    assert any(c.startswith("Topic :: Scientific/Engineering") for c in project["classifiers"])
    assert project["version"] == ensemble.__version__


def test_packages_are_marked_typed():
    data = PROJECT["tool"]["setuptools"]["package-data"]
    for package in ("ensemble", "analysis"):
        assert (ROOT / package / "py.typed").is_file() and "py.typed" in data[package]


def test_citation_file():
    assert CFF["cff-version"] == "1.2.0" and CFF["type"] == "software"
    assert str(CFF["version"]) == PROJECT["project"]["version"]
    dt.date.fromisoformat(str(CFF["date-released"]))
    assert CFF["license"] == PROJECT["project"]["license"]
    # one entity author (CFF's form for a group; a person needs family-names)
    for author in CFF["authors"]:
        assert "name" in author or "family-names" in author
    assert [a["name"] for a in PROJECT["project"]["authors"]] == [a.get("name") for a in CFF["authors"]]


def test_readme_bibtex_entry_matches_the_citation_file():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    entry = re.search(r"```bibtex\n(.*?)```", readme, re.S)[1]
    fields = dict(re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\},?$", entry, re.M))
    assert fields["author"] == "{" + CFF["authors"][0]["name"] + "}"  # one braced group name
    assert fields["title"] == CFF["title"] and fields["version"] == str(CFF["version"])
    assert fields["year"] == str(CFF["date-released"])[:4] and fields["license"] == CFF["license"]


def test_project_urls_name_the_reproduced_paper_as_the_citation_does():
    assert PROJECT["project"]["urls"]["Reproduced paper"] in (ROOT / "CITATION.cff").read_text()
