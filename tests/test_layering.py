"""The package's layers point down only: no runtime module imports the command line, and no host of
cameras (threads, worker processes, Ray actors) reads GetMedia or decodes on its own: they run Camera."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Tuple

import kvs_parser

PACKAGE = Path(kvs_parser.__file__).resolve().parent  # the source tree's, or an installed wheel's
CLI = ("commands", "cli.py", "__main__.py")
HOSTS = ("fleet", "ray", "camera")
PIPELINE_NAMES = {"GetMediaClient", "GetMediaStream", "FrameDecoder", "KVSStreamParser"}


def imports(path: Path) -> Iterator[Tuple[str, Tuple[str, ...]]]:
    """(absolute module, names imported from it) for every import statement of one package file."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1]  # a module's package; an __init__'s own package
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, *(node.module.split(".") if node.module else ())))
            yield module, tuple(alias.name for alias in node.names)


def runtime_files() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] not in CLI:
            yield path


def test_the_walk_sees_relative_imports() -> None:
    found = dict(imports(PACKAGE / "fleet" / "_worker.py"))
    assert "kvs_parser.camera" in found and "kvs_parser._stop_flag" in found


def test_no_runtime_module_imports_the_command_line() -> None:
    upward = [f"{path.relative_to(PACKAGE)} imports {module}" for path in runtime_files()
              for module, names in imports(path)
              if module.startswith("kvs_parser.commands") or module == "kvs_parser.cli"
              or (module == "kvs_parser" and {"commands", "cli"} & set(names))]
    assert upward == []


def test_no_host_reads_getmedia_or_decodes_itself() -> None:
    own_pipelines = [f"{path.relative_to(PACKAGE)} imports {', '.join(PIPELINE_NAMES & set(names))} from {module}"
                     for host in HOSTS for path in sorted((PACKAGE / host).rglob("*.py"))
                     for module, names in imports(path) if PIPELINE_NAMES & set(names)]
    assert own_pipelines == []
