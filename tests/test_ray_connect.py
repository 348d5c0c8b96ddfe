"""`kvs-parser run --ray` connects only to a cluster that exists: an unreachable address, or `auto` with no
cluster running here, is one line and exit 2 within seconds (no local Ray instance started by accident)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from redis_server import free_port, require

pytestmark = pytest.mark.timeout(120)


def run_ray(tmp_path: Path, address: str) -> tuple[subprocess.CompletedProcess[str], float]:
    config = tmp_path / "cameras.yaml"
    config.write_text("endpoint_url: http://127.0.0.1:9\nregion: us-west-2\n"
                      "cameras:\n  - {id: door, kvs_stream_name: door}\n")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(config), "--ray", address,
                             "--checkpoint", f"sqlite:///{tmp_path / 'c.db'}"], capture_output=True, text=True,
                            env=env, timeout=60)
    return result, time.monotonic() - started


def test_an_unreachable_address_is_one_line_and_exit_2(tmp_path: Path) -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        require(False, "ray is not installed (pip install 'kvs-parser-py[ray]')")
    result, took = run_ray(tmp_path, f"127.0.0.1:{free_port()}")
    assert result.returncode == 2 and took < 15, (took, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Ray cluster" in lines[0], result.stderr


def cluster_running_here() -> bool:
    from kvs_parser.commands._ray_run import CLUSTER_FILE

    try:
        host, _, port = CLUSTER_FILE.read_text().strip().rpartition(":")
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


def test_auto_without_a_running_cluster_starts_nothing_and_says_so(tmp_path: Path) -> None:
    if cluster_running_here():
        pytest.skip("a Ray cluster is running on this machine (another test's)")
    before = sorted(Path("/tmp/ray").glob("session_2*")) if Path("/tmp/ray").exists() else []
    result, took = run_ray(tmp_path, "auto")
    assert result.returncode == 2 and took < 15, (took, result.stderr)
    assert "no Ray cluster is running on this machine" in result.stderr
    after = sorted(Path("/tmp/ray").glob("session_2*")) if Path("/tmp/ray").exists() else []
    assert after == before  # no local instance was started


@pytest.mark.parametrize("edit", ["cameras: [{id: door, kvs_stream_name: door, fps_target: " + "9" * 4400 + "}]\n",
                                  "[" * 20000 + "\n", "cameras: []\n", "\xff\xfe not text"])
def test_a_cameras_yaml_edit_that_does_not_validate_is_reported_and_ignored(
        tmp_path: Path, edit: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kvs_parser.commands._ray_run import _ConfigWatcher

    path = tmp_path / "cameras.yaml"
    path.write_text("cameras: [{id: door, kvs_stream_name: door}]\n")
    watcher = _ConfigWatcher(str(path))
    time.sleep(0.01)
    path.write_bytes(edit.encode("latin-1") if edit.startswith("\xff") else edit.encode())
    os.utime(path, (time.time() + 5, time.time() + 5))  # a new mtime whatever the clock's resolution
    assert watcher.changed() is None
    assert "changed but is not valid; keeping the running cameras" in capsys.readouterr().err
