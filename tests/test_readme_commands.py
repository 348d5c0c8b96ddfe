"""The README's two newcomer commands are real: `make demo` and `make test` create the venv, install and
run, and CI (`.ci/run`) runs the same test command."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys

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


def install_step(venv, extras: str, *, build: bool = True) -> str:
    """scripts/install.sh creates the venv when it is missing, then installs the package with these extras
    (without build: their requirements alone, the package being installed)."""
    return f"bash scripts/install.sh {'' if build else '--dependencies-only '}python3 {venv} {extras}"


def test_make_demo_creates_the_venv_and_installs_only_what_the_demo_needs(tmp_path) -> None:
    venv = tmp_path / "venv"  # a venv that does not exist: make must create it first
    steps = make_plan(venv, "demo")
    assert step(steps, install_step(venv, "app,emulator")) < step(steps, f"{venv}/bin/kvs-parser demo")
    assert not any(" test" in s or "bench/requirements.txt" in s or "-m pytest" in s for s in steps)


def test_make_test_installs_the_demos_stack_then_the_rest_building_once(tmp_path) -> None:
    venv = tmp_path / "venv"
    steps = make_plan(venv, "test")
    demo_install = step(steps, install_step(venv, "app,emulator"))
    rest = step(steps, install_step(venv, "test -r bench/requirements.txt", build=False))
    assert demo_install < rest < step(steps, f"{venv}/bin/python -m pytest")
    assert sum("install.sh" in s and "--dependencies-only" not in s for s in steps) == 1  # one C++ build


def test_make_test_after_make_demo_adds_the_rest_without_building_and_not_the_reverse(tmp_path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".installed-demo").touch()  # what `make demo` leaves (newer than the sources)
    assert not any("install.sh" in s for s in make_plan(venv, "demo"))
    after_demo = make_plan(venv, "test")
    assert not any(install_step(venv, "app,emulator") in s for s in after_demo)
    rest = step(after_demo, install_step(venv, "test", build=False))
    assert rest < step(after_demo, f"{venv}/bin/python -m pytest")
    (venv / ".installed").touch()  # what `make test` leaves: the demo needs nothing more
    assert not any("install.sh" in s for s in make_plan(venv, "demo", "test"))


def install_requirements(extras: str) -> list[str]:
    """What scripts/install.sh hands to the dependencies' pip for these extras."""
    return subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "requirements.py"), extras],
                          capture_output=True, text=True, check=True).stdout.splitlines()


def requirement_name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0]).lower()


def test_the_demo_extras_leave_out_ray_and_the_test_and_bench_tools() -> None:
    demo = {requirement_name(r) for r in install_requirements("app,emulator")}
    assert {"boto3", "av", "numpy", "pyyaml", "pydantic", "prometheus-client"} <= demo
    assert not demo & ({"ray", "redis", "pytest", "mypy", "ruff", "hypothesis", "matplotlib", "ebmlite"})


@pytest.mark.parametrize("extras", ["app,emulator", "test", "gpu"])
def test_install_sh_hands_pip_what_the_built_package_requires(extras: str) -> None:
    """The requirements scripts/install.sh installs beside its `--no-deps` build are those the package's
    own metadata (written by the build backend) gives `pip install -e ".[extras]"`."""
    from importlib import metadata

    from packaging.requirements import Requirement  # pytest's own dependency

    declared = [Requirement(r) for r in metadata.requires("kvs-parser-py") or []]

    def applies(requirement: Requirement, extras: set[str]) -> bool:
        marker = requirement.marker
        return marker is None or any(marker.evaluate({"extra": extra}) for extra in extras)

    chosen = set(extras.split(","))
    while True:  # extras naming extras of the package itself ("kvs-parser-py[decode]")
        grown = chosen.union(*(r.extras for r in declared if r.name == "kvs-parser-py" and applies(r, chosen)))
        if grown == chosen:
            break
        chosen = grown

    def key(requirement: Requirement) -> tuple[str, str]:
        return requirement_name(requirement.name), str(requirement.specifier)

    expected = {key(r) for r in declared if r.name != "kvs-parser-py" and applies(r, chosen)}
    assert {key(Requirement(r)) for r in install_requirements(extras)} == expected


def test_requirements_py_names_an_unknown_extra() -> None:
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "requirements.py"), "app,nope"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "no extra 'nope'" in result.stderr and "emulator" in result.stderr


def section(title: str) -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    return readme.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def shown_commands(text: str) -> list[list[str]]:
    """Each command of the text's bash blocks (a pipeline gives one per stage), split like a shell would."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            commands += [shlex.split(stage) for stage in line.split(" | ") if stage.strip()]
    return commands


def check_kvs_parser(words: list[str]) -> None:
    from kvs_parser.cli import build_parser

    parser = build_parser(words)
    parser.parse_args(words)  # an unknown command, option or value exits (SystemExit)
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    options = subcommands.choices[words[0]]._option_string_actions
    assert all(word in options for word in words if word.startswith("--")), words  # no abbreviations


def check_aws_cli(words: list[str]) -> None:
    """`aws SERVICE OPERATION --option value ...` against botocore's model of the service (the CLI's source)."""
    import botocore.session
    from botocore import xform_name

    service, operation_name, *arguments = words
    model = botocore.session.get_session().get_service_model(service)
    by_cli_name = {xform_name(name, "-"): name for name in model.operation_names}
    assert operation_name in by_cli_name, f"aws {service} has no {operation_name}"
    members = model.operation_model(by_cli_name[operation_name]).input_shape.members
    options = {f"--{xform_name(name, '-')}": shape for name, shape in members.items()}
    global_options = {"--region", "--query", "--output", "--profile", "--endpoint-url"}
    for index, word in enumerate(arguments):
        if not word.startswith("--") or word in global_options:
            continue
        assert word in options, f"aws {service} {operation_name} has no {word}"
        allowed = getattr(options[word], "enum", None)
        if allowed:
            assert arguments[index + 1] in allowed, f"{word} {arguments[index + 1]}: not one of {allowed}"


def test_the_aws_sections_commands_and_options_exist() -> None:
    commands = shown_commands(section("From the emulator to your own AWS stream"))
    programs = [words[0] for words in commands]
    assert programs.count("kvs-parser") >= 3 and programs.count("aws") >= 3 and "gst-launch-1.0" in programs
    for words in commands:
        if words[0] == "kvs-parser":
            check_kvs_parser(words[1:])
        elif words[0] == "aws":
            check_aws_cli(words[1:])
        elif words[0] == "gst-launch-1.0":  # kvssink is the producer SDK's: its documented properties
            sink = " ".join(words[1:]).split("! kvssink ", 1)[1]
            assert {prop.split("=")[0] for prop in sink.split()} <= {"stream-name", "aws-region"}
        else:
            pytest.fail(f"a command nothing checks: {words}")


def test_the_layout_lists_every_package_directory() -> None:
    layout = section("Layout")
    package = PROJECT_ROOT / "python" / "kvs_parser"
    directories = sorted(d.name for d in package.iterdir() if (d / "__init__.py").is_file())
    assert len(directories) >= 14
    missing = [name for name in directories if not re.search(rf"^\s+{re.escape(name)}/\s", layout, re.M)]
    assert not missing, f"README's Layout misses python/kvs_parser/{missing}"


SCREENSHOTS = {"docs/status-page.png": "tests/test_status_page_browser.py"}  # picture -> what makes it


def test_the_readme_pictures_are_recorded_plots_or_made_screenshots() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (PROJECT_ROOT / "README.md").read_text())
    assert any(picture.startswith("bench/results/") for picture in pictures), "the README shows no benchmark plot"
    for picture in pictures:
        path = PROJECT_ROOT / picture
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", picture
        if picture in SCREENSHOTS:  # made by a real browser from the real page, by that script
            assert picture in (PROJECT_ROOT / SCREENSHOTS[picture]).read_text(), picture
        else:
            assert path.with_suffix(".json").is_file(), f"{picture}: no recorded figures beside it"
