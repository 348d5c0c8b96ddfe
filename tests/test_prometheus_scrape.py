"""A real Prometheus (Debian's, started here on a loopback port with a temporary data directory) scrapes a
running `kvs-parser run --workers 0 --metrics-port P` against the emulator: a query through its HTTP API
returns every camera's series, and the alert rules load and evaluate cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from kvs_parser.emulator import Emulator, SyntheticCamera

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(150)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        reason = "prometheus is not installed (scripts/system_packages.sh installs Debian's prometheus)"
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    return path


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def run_metrics_port(tmp_path: Path) -> Iterator[int]:
    """`kvs-parser run` of two cameras on the emulator, serving /metrics on the returned port."""
    with Emulator() as emu:
        for name in ("door", "yard"):
            emu.add_live_stream(name, SyntheticCamera(width=96, height=64, fps=10, fragment_duration=0.5))
        config = tmp_path / "cameras.yaml"
        config.write_text(f"endpoint_url: {emu.endpoint_url}\nregion: us-west-2\ncameras:\n"
                          "  - {id: front-door, kvs_stream_name: door}\n  - {id: yard, kvs_stream_name: yard}\n")
        port = free_port()
        environment = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
        with open(tmp_path / "run.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "kvs_parser", "run", "--config", str(config), "--workers", "0",
                 "--metrics-port", str(port), "--status-interval", "5", "--duration", "120"],
                stdout=log, stderr=subprocess.STDOUT, env=environment)
            try:
                yield port
            finally:
                stop(process)


def wait_for_cameras(base: str, promql: str, deadline: float, log: Path) -> dict[str, float]:
    """{camera: value} of `promql` once every camera has a non-zero value (polled until `deadline`)."""
    cameras: dict[str, float] = {}
    while time.monotonic() < deadline:
        try:
            cameras = {series["metric"]["camera"]: float(series["value"][1]) for series in query(base, promql)}
        except OSError:
            cameras = {}  # Prometheus still starting
        if set(cameras) == {"front-door", "yard"} and all(cameras.values()):
            return cameras
        time.sleep(1.0)
    raise AssertionError(f"{promql}: {cameras}\n{log.read_text()[-3000:]}")


def query(base: str, promql: str) -> Any:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_prometheus_scrapes_the_cameras_series(run_metrics_port: int, tmp_path: Path) -> None:
    binary = prometheus_binary()
    web_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{ROOT / 'deploy' / 'prometheus' / 'kvs-alerts.yml'}]\n"
        "scrape_configs:\n"
        "  - job_name: kvs-parser\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{run_metrics_port}']}}]\n")
    log_path = tmp_path / "prometheus.log"
    with open(log_path, "wb") as log:
        prometheus = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{web_port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{web_port}"
    try:
        deadline = time.monotonic() + 90
        wait_for_cameras(base, 'kvs_getmedia_frames_read_total{job="kvs-parser"}', deadline, log_path)
        median = "histogram_quantile(0.5, sum by (camera, le) (rate(kvs_getmedia_latency_ms_bucket[5s])))"
        wait_for_cameras(base, median, deadline, log_path)
        up = query(base, 'up{job="kvs-parser"}')
        assert [series["value"][1] for series in up] == ["1"]

        with urllib.request.urlopen(f"{base}/api/v1/rules", timeout=5) as response:
            groups = json.load(response)["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert len(rules) == 9 and all(rule["health"] == "ok" for rule in rules), rules
        active = {rule["name"]: rule["state"] for rule in rules if rule["state"] != "inactive"}
        assert active == {}, active  # a healthy fleet raises nothing, not even a pending alert
    finally:
        stop(prometheus)
