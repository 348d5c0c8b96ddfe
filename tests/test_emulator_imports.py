"""The emulator's modules import one another without a cycle (type-checking imports included): request
handlers take the service state (_state.ServiceState), never the Emulator, so nothing imports back into
_emulator. The graph is read from the source with ast, so the test needs none of the emulator's extras."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Set

import kvs_parser

PACKAGE = Path(kvs_parser.__file__).parent / "emulator"


def _imported_siblings(path: Path, siblings: Set[str]) -> Set[str]:
    """Modules of the same package that `path` imports, at any depth (functions, TYPE_CHECKING blocks)."""
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:  # from ._x import y
                found.add(node.module.split(".")[0])
            else:  # from . import _x as x (a module), or from . import Name (the package's __init__)
                found.update(alias.name if alias.name in siblings else "__init__" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            prefix = "kvs_parser.emulator."
            if node.module.startswith(prefix):
                found.add(node.module[len(prefix):].split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kvs_parser.emulator."):
                    found.add(alias.name.split(".")[2])
    return found & siblings


def import_graph(package: Path) -> Dict[str, Set[str]]:
    modules = {path.stem: path for path in package.glob("*.py")}
    return {name: _imported_siblings(path, set(modules)) for name, path in modules.items()}


def find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One cycle as a list of modules (first == last), or None."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_emulator_modules_import_one_another_without_a_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 20 and "_emulator" in graph and "_state" in graph
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_request_handlers_and_the_server_never_import_the_emulator() -> None:
    graph = import_graph(PACKAGE)
    for module in ("_control", "_media", "_archive", "_hls", "_server"):
        assert "_emulator" not in graph[module], module
        assert "_state" in graph[module], module  # what they take instead
    assert "_emulator" not in graph["_routes"] and "_emulator" not in graph["_state"]


def test_the_cycle_finder_finds_a_cycle_through_type_checking_imports(tmp_path: Path) -> None:
    """The check can fail: the import shape the emulator had before (handlers importing the Emulator under
    TYPE_CHECKING, the Emulator importing the routes) is reported."""
    (tmp_path / "__init__.py").write_text("from ._emulator import Emulator\n")
    (tmp_path / "_emulator.py").write_text("from ._routes import ROUTES\n")
    (tmp_path / "_routes.py").write_text("from . import _media as media\n")
    (tmp_path / "_media.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._emulator import Emulator\n")
    cycle = find_cycle(import_graph(tmp_path))
    assert cycle == ["_emulator", "_routes", "_media", "_emulator"]


def test_the_emulator_serves_with_the_emulator_extra_only() -> None:
    """[emulator] is PyAV and numpy on top of the plain install (boto3): the emulator imports, encodes
    its camera and answers boto3 without pydantic, PyYAML or prometheus_client."""
    absent = ("pydantic", "yaml", "prometheus_client")
    code = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in absent) + textwrap.dedent("""
        import boto3
        from kvs_parser.emulator import Emulator, SyntheticCamera
        keys = {"region_name": "us-west-2", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
        with Emulator() as emu:
            emu.add_live_stream("cam", SyntheticCamera(width=64, height=48, fps=10, max_frames=3))
            kv = boto3.client("kinesisvideo", endpoint_url=emu.endpoint_url, **keys)
            print(kv.describe_stream(StreamName="cam")["StreamInfo"]["StreamName"])
        print(sorted(name for name in ("av", "numpy", "pydantic", "yaml", "prometheus_client")
                     if sys.modules.get(name) is not None))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["cam", "['av', 'numpy']"]
