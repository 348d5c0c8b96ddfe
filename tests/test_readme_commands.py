"""The README's two newcomer commands are real: `make demo` and `make test` create the venv, install and
run, and CI (`.ci/run`) runs the same test command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import PROJECT_ROOT

if not (PROJECT_ROOT / "Makefile").is_file():  # the suite copied out of the tree to test an installed wheel
    pytest.skip("a source-tree test: README.md, Makefile and .ci/run are not here", allow_module_level=True)


def setup_commands() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_newcomer_commands_are_make_demo_and_make_test() -> None:
    assert setup_commands() == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_make_targets_create_the_venv_install_and_run(tmp_path) -> None:
    if shutil.which("make") is None:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("make is not installed")
    venv = tmp_path / "venv"  # a venv that does not exist: make must create it first
    plan = subprocess.run(["make", "-n", "-C", str(PROJECT_ROOT), f"VENV={venv}", "demo", "test"],
                          capture_output=True, text=True, check=True).stdout
    steps = plan.splitlines()
    create = next(i for i, s in enumerate(steps) if f"-m venv {venv}" in s)
    install = next(i for i, s in enumerate(steps) if 'pip install -e ".[test]" -r bench/requirements.txt' in s)
    demo = next(i for i, s in enumerate(steps) if s.endswith(f"{venv}/bin/kvs-parser demo"))
    test = next(i for i, s in enumerate(steps) if s.endswith(f"{venv}/bin/python -m pytest"))
    assert create < install < demo < test
