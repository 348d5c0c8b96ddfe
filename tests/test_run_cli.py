"""`kvs-parser run`: cameras.yaml against an emulator started here, metrics over HTTP, hook, signals."""

from __future__ import annotations

import importlib.util
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
import importlib.util
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


FAILING_HOOK = '''
import importlib.util
import os

def on_frame(camera_id, frame):
    with open(os.environ["HOOK_OUT"], "a") as out:
        out.write(f"{camera_id}\\n")
    if camera_id == "front-door":
        raise ValueError("model crashed")
'''


def run_failing_hook(emu: Emulator, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, str]:
    config = write_config(tmp_path / "cameras.yaml", emu.endpoint_url)
    (tmp_path / "failing_hook.py").write_text(FAILING_HOOK)
    hook_out = tmp_path / "hook.txt"
    port = free_port()
    process = command("--config", str(config), "--hook", "failing_hook:on_frame", "--metrics-port", str(port),
                      "--duration", "10", "--status-interval", "0.5", *extra, HOOK_OUT=str(hook_out),
                      PYTHONPATH=str(tmp_path))
    try:  # from the start: a failed check must not leave the process running and its pipes open
        assert process.stderr is not None
        first = ""
        while "hook" not in first and process.poll() is None:
            first = process.stderr.readline()
        reported_while_running = process.poll() is None  # at once, not at exit
        metrics = scrape(f"http://127.0.0.1:{port}/metrics", time.monotonic() + 10,
                         'kvs_getmedia_hook_errors_total{camera="front-door"}')
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.communicate()
    assert reported_while_running and "front-door" in first and "raised ValueError: model crashed" in first
    assert 'kvs_getmedia_hook_errors_total{camera="yard"}' not in metrics
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, first + stderr), \
        hook_out.read_text()


def test_a_raising_hook_stops_its_camera_at_once(emu: Emulator, tmp_path: Path) -> None:
    result, calls = run_failing_hook(emu, tmp_path)
    assert result.returncode == 1
    assert "camera stopped (--on-hook-error continue logs and goes on)" in result.stderr
    assert calls.splitlines().count("front-door") == 1  # stopped after the first failure
    assert calls.count("yard") > 3  # the other camera carries on
    door = [line for line in result.stdout.splitlines() if line.startswith("front-door:")]
    assert door and "FAILED  hook raised ValueError: model crashed" in door[-1]


def test_a_raising_hook_can_log_and_continue(emu: Emulator, tmp_path: Path) -> None:
    result, calls = run_failing_hook(emu, tmp_path, "--on-hook-error", "continue")
    assert result.returncode == 0, result.stderr
    assert calls.splitlines().count("front-door") > 3  # every frame still reaches the hook
    assert "continuing (1 hook error(s) so far)" in result.stderr
    door = [line for line in result.stdout.splitlines() if line.startswith("front-door:")]
    assert "hook errors" in door[-1] and "FAILED" not in door[-1]


@pytest.mark.parametrize(("camera", "field", "words"), [
    ("{id: porch, kvs_stream_name: porch, output: {decode_backend: cuda}}", "output.decode_backend",
     "unknown decoder backend 'cuda': use one of gstreamer, nvdec, pyav"),
    ("{id: porch, kvs_stream_name: porch, endpoint_url: 'http://10.9.9.9:99999'}", "endpoint_url", "valid port"),
])
def test_camera_that_cannot_be_built_exits_2_naming_file_camera_and_field(
        tmp_path: Path, camera: str, field: str, words: str) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text(f"region: eu-west-1\ncameras:\n  - {camera}\n")
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60, check=False,
                            env=dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(config) in result.stderr and f"camera 'porch' (cameras[0]): {field}: " in result.stderr
    assert words in result.stderr


def test_nvdec_on_a_host_without_it_exits_2_naming_the_camera(tmp_path: Path) -> None:
    if importlib.util.find_spec("PyNvVideoCodec") is not None:
        pytest.skip("PyNvVideoCodec is installed here: nvdec may be usable")
    config = tmp_path / "cameras.yaml"
    config.write_text("region: eu-west-1\ncameras:\n  - {id: porch, kvs_stream_name: porch, "
                      "output: {decode_backend: nvdec, pixel_format: rgbp}}\n")
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(config)],
                            capture_output=True, text=True, timeout=60, check=False,
                            env=dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "camera 'porch' (cameras[0]): output.decode_backend: " in result.stderr and "[gpu]" in result.stderr
