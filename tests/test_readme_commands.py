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


def make_plan(venv, *targets: str) -> list[str]:
    if shutil.which("make") is None:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("make is not installed")
    return subprocess.run(["make", "-n", "-C", str(PROJECT_ROOT), f"VENV={venv}", *targets],
                          capture_output=True, text=True, check=True).stdout.splitlines()


def step(steps: list[str], fragment: str) -> int:
    return next(i for i, s in enumerate(steps) if fragment in s)


FULL_INSTALL = 'pip install -e ".[test]" -r bench/requirements.txt'
DEMO_INSTALL = 'pip install -e ".[app,emulator]"'


def test_make_demo_creates_the_venv_and_installs_only_what_the_demo_needs(tmp_path) -> None:
    venv = tmp_path / "venv"  # a venv that does not exist: make must create it first
    steps = make_plan(venv, "demo")
    assert step(steps, f"-m venv {venv}") < step(steps, DEMO_INSTALL) < step(steps, f"{venv}/bin/kvs-parser demo")
    assert not any(".[test]" in s or "bench/requirements.txt" in s or "-m pytest" in s for s in steps)


def test_make_test_creates_the_venv_and_installs_the_whole_stack(tmp_path) -> None:
    venv = tmp_path / "venv"
    steps = make_plan(venv, "test")
    assert step(steps, f"-m venv {venv}") < step(steps, FULL_INSTALL) < step(steps, f"{venv}/bin/python -m pytest")


def test_make_test_after_make_demo_adds_the_full_stack_and_not_the_reverse(tmp_path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".installed-demo").touch()  # what `make demo` leaves (newer than the sources)
    assert not any(DEMO_INSTALL in s for s in make_plan(venv, "demo"))
    after_demo = make_plan(venv, "test")
    assert step(after_demo, FULL_INSTALL) < step(after_demo, f"{venv}/bin/python -m pytest")
    (venv / ".installed").touch()  # what `make test` leaves: the demo needs nothing more
    assert not any("pip install" in s for s in make_plan(venv, "demo", "test"))


def test_the_demo_extras_leave_out_ray_and_the_test_and_bench_tools() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]

    def requirements(extra: str) -> set[str]:
        names = set()
        for requirement in extras[extra]:
            name = re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0]
            if name == "kvs-parser-py":
                inner = requirement.split("[", 1)[1].split("]", 1)[0]
                names |= {n for e in inner.split(",") for n in requirements(e.strip())}
            else:
                names.add(name.lower())
        return names

    demo = requirements("app") | requirements("emulator")
    assert {"av", "numpy", "pyyaml", "pydantic", "prometheus_client"} <= demo
    assert not demo & ({"ray", "redis", "pytest", "mypy", "ruff", "hypothesis", "matplotlib", "ebmlite"})
