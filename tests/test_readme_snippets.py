"""The README's Python snippets run as written (with the names they leave to the reader filled in)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Dict

import pytest

from conftest import PROJECT_ROOT

if not (PROJECT_ROOT / "README.md").is_file():  # the suite copied out of the tree to test an installed wheel
    pytest.skip("a source-tree test: README.md is not here", allow_module_level=True)



def python_snippet(containing: str) -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if containing in b]
    assert len(blocks) == 1, f"one README snippet with {containing!r}"
    return blocks[0]


def test_the_parser_snippet_runs_with_its_own_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str], fixtures: Path) -> None:
    snippet = python_snippet("kvs_parser.iter_frames(capture)")
    capture = fixtures / "kvs" / "output_get_media.mkv"
    shutil.copy(capture, tmp_path / "capture.mkv")
    monkeypatch.chdir(tmp_path)
    # `chunks` is the one name the snippet leaves to the reader ("e.g. a GetMedia response body").
    scope: Dict[str, Any] = {"chunks": [capture.read_bytes()]}
    exec(compile(snippet, "README.md", "exec"), scope)
    assert scope["array"].dtype.name == "uint8" and scope["array"].size > 0
    assert capsys.readouterr().out.count("\n") > 10  # the callbacks printed each frame and fragment
