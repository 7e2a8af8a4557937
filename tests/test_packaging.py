"""pyproject.toml and environment.yml list the same dependencies; README's commands; the
version and the demo data come from the installed package (tests/test_wheel_install.py
checks a real wheel)."""

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bakekit
from bakekit.cli import app
from bakekit.errors import BakekitError
from bakekit.sample import SAMPLE, sample_data

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ]", requirement.strip(), maxsplit=1)[0].lower()


def _bound(requirement: str) -> str | None:
    m = re.search(r">=\s*([0-9.]+)", requirement)
    return m.group(1) if m else None


def test_environment_yml_in_step_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r): _bound(r) for r in
              project["dependencies"] + project["optional-dependencies"]["test"]
              + project["optional-dependencies"]["notebook"]}
    listed: dict[str, str | None] = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+-\s+([A-Za-z0-9_.\-]+)\s*(>=\s*[0-9.]+)?\s*$", line)
        if m and m.group(1) not in {"python", "pip"}:
            listed[m.group(1).lower()] = _bound(m.group(2) or "")
    assert listed == wanted


def test_every_dependency_has_a_lower_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        assert _bound(requirement), requirement


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^\s*(make \w+)\s*$", readme, flags=re.M)
    assert "make test" in commands and "make demo" in commands
    assert re.search(r"^make test$", ci, flags=re.M)


def test_version_comes_from_the_package_metadata(monkeypatch):
    assert bakekit.__version__ == importlib.metadata.version("bakekit")
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"bakekit {bakekit.__version__}"

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert bakekit._version() == "0+unknown"


def test_demo_data_is_a_package_resource(tmp_path):
    assert SAMPLE.is_file() and Path(str(SAMPLE)).parent == ROOT / "bakekit" / "data"
    data = sample_data()
    assert data["ingredients"] and data["recipes"] and data["events"]
    with pytest.raises(BakekitError, match="nowhere.json"):
        sample_data(tmp_path / "nowhere.json")
