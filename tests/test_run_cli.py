"""`kvs-parser run`: cameras.yaml against an emulator started here, metrics over HTTP, hook, signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from kvs_parser.emulator import Emulator, SyntheticCamera

pytestmark = pytest.mark.timeout(90)

HOOK = '''
import os

def on_frame(camera_id, frame):
    with open(os.environ["HOOK_OUT"], "a") as out:
        out.write(f"{camera_id} {frame.width}x{frame.height} {frame.pts_ms}\\n")
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        for name in ("door", "yard"):
            emulator.add_live_stream(name, SyntheticCamera(width=96, height=64, fps=15, fragment_duration=0.5))
        yield emulator


def write_config(path: Path, endpoint_url: str) -> Path:
    path.write_text(f"""
endpoint_url: {endpoint_url}
region: us-west-2
cameras:
  - id: front-door
    kvs_stream_name: door
    fps_target: 5
  - id: yard
    kvs_stream_name: yard
    playback: {{mode: HLS}}
""")
    return path


def command(*args: str, **env: str) -> subprocess.Popen:
    environment = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", **env)
    return subprocess.Popen([sys.executable, "-m", "kvs_parser", "run", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=environment)


def scrape(url: str, deadline: float, want: str) -> str:
    """The /metrics text once `want` shows a non-zero value (polled until `deadline`)."""
    text = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                text = response.read().decode()
        except OSError:
            text = ""
        line = next((line for line in text.splitlines() if line.startswith(want)), None)
        if line is not None and float(line.split()[-1]) > 0:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{want} never above 0 at {url}:\n{text}")


def test_run_streams_every_camera_serves_metrics_and_calls_the_hook(emu: Emulator, tmp_path: Path) -> None:
    config = write_config(tmp_path / "cameras.yaml", emu.endpoint_url)
    (tmp_path / "my_hook.py").write_text(HOOK)
    hook_out = tmp_path / "hook.txt"
    port = free_port()
    process = command("--config", str(config), "--metrics-port", str(port), "--hook", "my_hook:on_frame",
                      "--duration", "6", HOOK_OUT=str(hook_out), PYTHONPATH=str(tmp_path))
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        # Generous: worker processes start on a machine that may be busy.
        text = scrape(url, time.monotonic() + 45, 'kvs_getmedia_frames_read_total{camera="front-door"}')
        assert 'kvs_getmedia_latency_ms_bucket{camera="front-door"' in text
        scrape(url, time.monotonic() + 20, 'kvs_getmedia_frames_read_total{camera="yard"}')
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == 0, stdout + stderr
    assert "front-door:" in stdout and "yard:" in stdout and "fps" in stdout and "latency p50" in stdout
    calls = hook_out.read_text().splitlines()
    door = [line for line in calls if line.startswith("front-door ")]
    assert door and all(" 96x64 " in line for line in door)
    assert any(line.startswith("yard ") for line in calls)
    # fps_target 5 on a 15 fps camera: stream-time gaps between kept frames are about 200 ms.
    pts = [int(line.split()[-1]) for line in door]
    assert all(later - earlier >= 150 for earlier, later in zip(pts, pts[1:]))


@pytest.mark.parametrize("workers", ["0", "2"])  # 0: every camera on threads of this one process
def test_sigterm_stops_cleanly(emu: Emulator, tmp_path: Path, workers: str) -> None:
    config = write_config(tmp_path / "cameras.yaml", emu.endpoint_url)
    process = command("--config", str(config), "--status-interval", "0.2", "--workers", workers)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # a status line: the run is up
        assert "front-door:" in first or "yard:" in first
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == 0, stdout + stderr


def test_bad_config_names_file_camera_and_field(tmp_path: Path) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text("cameras:\n  - id: porch\n    kvs_stream_name: porch\n    fps_target: -3\n")
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert str(config) in result.stderr
    assert "camera 'porch'" in result.stderr and "fps_target" in result.stderr
    assert "greater than 0" in result.stderr
