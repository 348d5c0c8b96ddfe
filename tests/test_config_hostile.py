"""A hostile cameras.yaml (collections nested 20,000 deep, a 5,000-digit integer) is a configuration error
naming the file, exit 2 from `kvs-parser run`, like any other invalid file: not a RecursionError or a
ValueError from inside the YAML parser, reported as a generic runtime failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kvs_parser.config import ConfigError, load_config

pytestmark = pytest.mark.timeout(60)
DEPTH = 20_000

HOSTILE = {
    "flow-nested": "cameras: " + "[" * DEPTH + "]" * DEPTH + "\n",
    "block-nested": "cameras:\n" + "".join(" " * depth + "- \n" for depth in range(0, 2 * DEPTH, 2)),
    "mapping-nested": "cameras:\n" + "".join(" " * depth + "a:\n" for depth in range(0, 2 * DEPTH, 2)),
    "huge-integer": "cameras:\n  - camera_id: door\n    stream_name: door\n    fps_target: " + "7" * 5000 + "\n",
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_file_is_a_config_error_naming_it(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(HOSTILE[kind])
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.path == path and str(path) in str(caught.value)


@pytest.mark.parametrize("kind", ["flow-nested", "huge-integer"])
def test_run_exits_2_naming_the_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(HOSTILE[kind])
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(path)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert str(path) in result.stderr and "Traceback" not in result.stderr
