"""The supported range is declared once: requires-python, the classifiers, ruff, mypy and the cibuildwheel
build list agree, and the floors constraints file (scripts/version_matrix.sh) pins every runtime floor."""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys
from types import ModuleType

import pytest

from conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "supported_versions.py"


@pytest.fixture(scope="module")
def versions() -> ModuleType:
    spec = importlib.util.spec_from_file_location("supported_versions", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_declarations_agree_and_this_interpreter_is_supported(versions: ModuleType) -> None:
    project = versions.load(PROJECT_ROOT / "pyproject.toml")
    assert versions.disagreements(project) == []
    pythons = versions.supported_pythons(project)
    assert pythons[0] == "3.11", "the README's Supported versions names 3.11 as the oldest"
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" in pythons


def test_a_declaration_out_of_step_is_named(versions: ModuleType) -> None:
    project = copy.deepcopy(versions.load(PROJECT_ROOT / "pyproject.toml"))
    project["project"]["requires-python"] = ">=3.9"
    project["tool"]["ruff"]["target-version"] = "py39"
    project["tool"]["cibuildwheel"]["build"].remove("cp312-*")
    problems = versions.disagreements(project)
    assert any("requires-python is '>=3.9'" in p for p in problems), problems
    assert any("ruff target-version is 'py39'" in p for p in problems), problems
    assert any("skips a CPython" in p for p in problems), problems


def test_the_floors_pin_every_runtime_requirement_and_no_test_tool(versions: ModuleType) -> None:
    project = versions.load(PROJECT_ROOT / "pyproject.toml")
    pins = dict(pin.split("==") for pin in versions.floor_pins(project))
    table = project["project"]
    runtime = [r for extra, reqs in table["optional-dependencies"].items() if extra != "test" for r in reqs]
    for requirement in table["dependencies"] + runtime:
        name, _, floor = requirement.partition(">=")
        if not name.startswith(table["name"]):
            assert pins[name.strip().lower()] == floor.split(",")[0].strip(), requirement
    assert "pytest" not in pins and "mypy" not in pins
    assert pins["av"] == "17", "reformat(threads=...) needs PyAV 17"


def test_a_requirement_without_a_floor_is_refused(versions: ModuleType) -> None:
    project = copy.deepcopy(versions.load(PROJECT_ROOT / "pyproject.toml"))
    project["project"]["dependencies"].append("somepackage")
    with pytest.raises(SystemExit, match="somepackage"):
        versions.floor_pins(project)


def test_the_command_line_prints_a_constraints_file() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "floors"], capture_output=True, text=True, check=True,
                            timeout=60)
    lines = [line for line in result.stdout.splitlines() if not line.startswith("#")]
    assert "boto3==1.26" in lines and all("==" in line for line in lines)
    refused = subprocess.run([sys.executable, str(SCRIPT), "bogus"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
