"""The requirements an install of the package with some extras pulls in, read from pyproject.toml.

    python scripts/requirements.py app,emulator     # one requirement a line: [project] dependencies and
                                                    # those of each extra, extras naming extras expanded

scripts/install.sh hands them to a pip of their own, which downloads and unpacks them while another pip
builds the package's C++ core (`--no-deps`), instead of after it. Standard library only (tomllib): it runs
before anything is installed, and says so in one line on a CPython older than the package supports.
"""

from __future__ import annotations

import re
import sys
from typing import Any

try:
    from supported_versions import REQUIREMENT, load  # pyproject.toml, read with tomllib
except ImportError:  # no tomllib: CPython 3.10 and older, which the package does not support either
    print(f"kvs-parser-py needs a newer CPython ([project] requires-python in pyproject.toml); this is "
          f"{sys.version.split()[0]}", file=sys.stderr)
    sys.exit(2)


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(project: dict[str, Any], extras: list[str]) -> list[str]:
    """[project] dependencies, then each requested extra's, in order, without repeats."""
    table = project["project"]
    declared = table["optional-dependencies"]
    own_name = _normalized(table["name"])
    found = list(table["dependencies"])
    pending, expanded = list(extras), set()
    while pending:
        extra = pending.pop(0)
        if extra in expanded:
            continue
        if extra not in declared:
            raise KeyError(extra)
        expanded.add(extra)
        for entry in declared[extra]:
            match = REQUIREMENT.match(entry)
            if match is not None and _normalized(match.group(1)) == own_name:  # "kvs-parser-py[decode]"
                pending.extend(name.strip(" []") for name in (match.group(2) or "").split(","))
            else:
                found.append(entry)
    return list(dict.fromkeys(found))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    project = load()
    extras = [extra.strip() for extra in argv[0].split(",") if extra.strip()]
    try:
        print("\n".join(requirements(project, extras)))
    except KeyError as unknown:
        known = ", ".join(project["project"]["optional-dependencies"])
        print(f"requirements: no extra {unknown} in pyproject.toml (known: {known})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
