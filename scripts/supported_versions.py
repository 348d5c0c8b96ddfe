"""The supported CPythons and dependency floors, read from pyproject.toml (the one place they are declared).

    python scripts/supported_versions.py pythons      # the supported CPythons, oldest first: "3.11 3.12 ..."
    python scripts/supported_versions.py floors       # a pip constraints file: every runtime floor, pinned
    python scripts/supported_versions.py check        # exit 1 unless every declaration agrees

`floors` pins each `name>=X` of [project] dependencies and of every extra but `test` (the test tools are
not dependencies of the package) to `name==X`, so the floors run of scripts/version_matrix.sh installs
exactly what pyproject.toml promises and can never drift from it. `check` proves that requires-python,
the cibuildwheel build list, ruff's target-version, mypy's python_version and the classifiers name the same
range. Standard library only (tomllib): it runs on any supported CPython before anything is installed.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
TOOL_EXTRAS = {"test"}  # the suite's own tools: not floors of the package
# name, [extras], the rest (specifiers, markers) of a requirement string
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def load(path: Path = PYPROJECT) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def supported_pythons(project: dict[str, Any]) -> list[str]:
    """The CPythons the cibuildwheel build list names ("cp311-*" -> "3.11"), oldest first."""
    build = project["tool"]["cibuildwheel"]["build"]
    versions = []
    for pattern in build:
        match = re.fullmatch(r"cp3(\d+)-\*", pattern)
        if match is None:
            raise SystemExit(f"cibuildwheel build entry {pattern!r} is not of the form cp3NN-*")
        versions.append((3, int(match.group(1))))
    return [f"{major}.{minor}" for major, minor in sorted(versions)]


def floor_pins(project: dict[str, Any]) -> list[str]:
    """`name==floor` for every runtime requirement with a `>=` floor, sorted and deduplicated."""
    table = project["project"]
    requirements = list(table["dependencies"])
    for extra, entries in table["optional-dependencies"].items():
        if extra not in TOOL_EXTRAS:
            requirements.extend(entries)
    pins: dict[str, str] = {}
    own_name = table["name"].lower()
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"cannot read requirement {requirement!r}")
        name, _extras, specifier = match.groups()
        if name.lower() == own_name:
            continue  # an extra naming other extras of this package
        floor = re.search(r">=\s*([0-9][^,;\s]*)", specifier)
        if floor is None:
            raise SystemExit(f"requirement {requirement!r} declares no floor (>=)")
        key = name.lower()
        if key in pins and pins[key] != floor.group(1):
            raise SystemExit(f"{name} has two floors: {pins[key]} and {floor.group(1)}")
        pins[key] = floor.group(1)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def disagreements(project: dict[str, Any]) -> list[str]:
    """Every declaration of the supported range that differs from the cibuildwheel build list."""
    pythons = supported_pythons(project)
    oldest, newest = pythons[0], pythons[-1]
    problems = []
    minors = [int(v.split(".")[1]) for v in pythons]
    if minors != list(range(minors[0], minors[-1] + 1)):
        problems.append(f"cibuildwheel build list skips a CPython: {pythons}")
    table = project["project"]
    if table["requires-python"] != f">={oldest}":
        problems.append(f"requires-python is {table['requires-python']!r}, expected '>={oldest}'")
    tool = project["tool"]
    target = tool["ruff"]["target-version"]
    if target != "py" + oldest.replace(".", ""):
        problems.append(f"ruff target-version is {target!r}, expected 'py{oldest.replace('.', '')}'")
    mypy_version = tool["mypy"].get("python_version")
    if mypy_version != oldest:
        problems.append(f"mypy python_version is {mypy_version!r}, expected {oldest!r}")
    versioned = (c for c in table["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    classified = sorted((c.rsplit(" ", 1)[1] for c in versioned), key=lambda v: int(v.split(".")[1]))
    if classified != pythons:
        problems.append(f"classifiers name {classified}, the build list {pythons}")
    if oldest == newest:
        problems.append("only one CPython is supported: the matrix needs an oldest and a newest")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in {"pythons", "floors", "check"}:
        print(__doc__, file=sys.stderr)
        return 2
    project = load()
    if argv[0] == "pythons":
        print(" ".join(supported_pythons(project)))
    elif argv[0] == "floors":
        print("# Generated from pyproject.toml by scripts/supported_versions.py floors: every runtime floor.")
        print("\n".join(floor_pins(project)))
    else:
        problems = disagreements(project)
        for problem in problems:
            print(f"supported_versions: {problem}", file=sys.stderr)
        if problems:
            return 1
        print(f"supported_versions: CPython {' '.join(supported_pythons(project))} declared consistently")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
