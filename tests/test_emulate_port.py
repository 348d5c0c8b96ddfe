"""`kvs-parser emulate` listens where the README and the examples say (127.0.0.1:4566, the port local AWS
emulators use), and a port already taken is one line and exit 2, not a traceback."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys

import pytest

from conftest import PROJECT_ROOT
from kvs_parser.cli import build_parser

pytestmark = pytest.mark.timeout(60)


def emulate_port_default() -> int:
    parser = build_parser(["emulate"])
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    port = next(a for a in subparsers.choices["emulate"]._actions if "--port" in a.option_strings)
    return int(port.default)


def test_the_default_port_is_the_one_the_docs_point_at() -> None:
    assert emulate_port_default() == 4566
    if not (PROJECT_ROOT / "README.md").is_file():  # the suite copied out of the tree to test a wheel
        pytest.skip("a source-tree check: README.md and examples/ are not here")
    readme = (PROJECT_ROOT / "README.md").read_text()
    opencv_loop = (PROJECT_ROOT / "examples" / "opencv_loop.py").read_text()
    for text in (readme, opencv_loop):
        assert "http://127.0.0.1:4566" in text
        assert "127.0.0.1:0" not in text


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "kvs_parser", "emulate", "--port", str(port)],
                                capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"kvs-parser emulate: port {port} on 127.0.0.1 is already in use")
    assert "--port" in lines[0] and "Traceback" not in result.stderr
    assert "KVS emulator at" not in result.stdout
