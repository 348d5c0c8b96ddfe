"""`kvs-parser run --metrics-port` serves the status page for every host: on threads and in worker
processes, each camera's tile shows its picture (asked of the camera's own process) in a real headless
browser, a camera that cannot run shows its error, and /api/cameras, /healthz and /readyz say the same.
(Ray actors: tests/test_ray_cluster.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest

from kvs_parser.emulator import Emulator, SyntheticCamera
from redis_server import free_port
from test_status_page_browser import Tiles, chromium, run_chromium

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_live_stream("door", SyntheticCamera(width=640, height=360, fps=10, fragment_duration=0.5))
        emulator.add_live_stream("bay", SyntheticCamera(width=480, height=360, fps=10, fragment_duration=0.5))
        yield emulator


def get(url: str) -> Tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:  # not listening yet
        return 0, b""


def cameras(base: str) -> Dict[str, Dict[str, Any]]:
    status, body = get(base + "api/cameras")
    return {camera["camera_id"]: camera for camera in json.loads(body)["cameras"]} if status == 200 else {}


@pytest.mark.parametrize("workers", [0, 2])
def test_every_host_serves_the_status_page_with_pictures_and_errors(emu: Emulator, tmp_path: Path,
                                                                    workers: int) -> None:
    chromium()
    config = tmp_path / "cameras.yaml"
    config.write_text(f"endpoint_url: {emu.endpoint_url}\nregion: us-west-2\ncameras:\n"
                      "  - {id: front-door, kvs_stream_name: door}\n  - {id: loading-bay, kvs_stream_name: bay}\n"
                      "  - {id: car-park, kvs_stream_name: no-such-stream}\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    process = subprocess.Popen([sys.executable, "-m", "kvs_parser", "run", "--config", str(config), "--workers",
                                str(workers), "--metrics-port", str(port), "--status-interval", "0.3"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            states = {camera_id: c["state"] for camera_id, c in cameras(base).items()}
            pictures = [get(f"{base}cameras/{c}/latest.jpg")[0] for c in ("front-door", "loading-bay")]
            if states == {"front-door": "running", "loading-bay": "running", "car-park": "failed"} \
                    and pictures == [200, 200]:
                break
            assert time.monotonic() < deadline and process.poll() is None, (states, pictures)
            time.sleep(0.3)
        status, jpeg = get(f"{base}cameras/front-door/latest.jpg?width=160")
        assert status == 200 and jpeg[:2] == b"\xff\xd8"
        assert get(f"{base}cameras/nowhere/latest.jpg")[0] == 404
        assert get(base + "healthz")[0] == 200
        ready, body = get(base + "readyz")
        assert ready == 503 and b"car-park" in body and b"StreamNotFoundError" in body
        assert b"kvs_getmedia_frames_read_total" in get(base + "metrics")[1]
        dom = run_chromium("--dump-dom", base)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
    parser = Tiles()
    parser.feed(dom)
    assert list(parser.tiles) == ["front-door", "loading-bay", "car-park"], dom[-2000:]
    assert parser.tiles["front-door"]["data-picture"] == "320x180"  # the img loaded: its natural size
    assert parser.tiles["loading-bay"]["data-picture"] == "320x240"
    assert "StreamNotFoundError" in parser.tiles["car-park"]["error"]
