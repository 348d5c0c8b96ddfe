"""`kvs-parser run --metrics-port P` while clients hold connections to it (idle, trickling a header byte at
a time): scrapes are still answered at once, and SIGTERM still ends the run within 5 s, in threads and
with worker processes (each worker's own metrics server included)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Iterator, List

import pytest

from kvs_parser.emulator import Emulator, SyntheticCamera

pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        for name in ("door", "yard"):
            emulator.add_live_stream(name, SyntheticCamera(width=96, height=64, fps=10, fragment_duration=0.5))
        yield emulator


def scrape_until_frames(url: str, deadline: float) -> float:
    """Seconds the first scrape that shows a delivered frame took (polled until `deadline`)."""
    text = ""
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
        except OSError:
            text = ""
        took = time.monotonic() - started
        if any(line.startswith("kvs_getmedia_frames_read_total{") and float(line.split()[-1]) > 0
               for line in text.splitlines()):
            return took
        time.sleep(0.2)
    raise AssertionError(f"no frame ever scraped from {url}:\n{text[-2000:]}")


def hold(port: int, idle: int, trickling: int, stop: threading.Event) -> List[socket.socket]:
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(idle + trickling)]
    slow = sockets[idle:]
    for sock in slow:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")

    def trickle() -> None:
        while not stop.wait(0.3):
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X")

    threading.Thread(target=trickle, daemon=True).start()
    return sockets


@pytest.mark.parametrize("workers", ["0", "2"])
def test_sigterm_ends_the_run_within_5_s_while_clients_hold_connections(
        emu: Emulator, tmp_path: Path, workers: str) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text(f"endpoint_url: {emu.endpoint_url}\nregion: us-west-2\ncameras:\n"
                      "  - {id: front-door, kvs_stream_name: door}\n  - {id: yard, kvs_stream_name: yard}\n")
    port = free_port()
    environment = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    stop = threading.Event()
    sockets: List[socket.socket] = []
    with open(tmp_path / "run.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "kvs_parser", "run", "--config", str(config), "--workers", workers,
             "--metrics-port", str(port), "--status-interval", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=environment)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        scrape_until_frames(url, time.monotonic() + 60)
        sockets = hold(port, idle=20, trickling=10, stop=stop)
        time.sleep(0.5)
        assert scrape_until_frames(url, time.monotonic() + 5) < 1.0  # answered while 30 are held
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        assert process.poll() is not None, f"running 5 s after SIGTERM:\n{(tmp_path / 'run.log').read_text()[-3000:]}"
        assert process.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
        if process.poll() is None:
            process.kill()
            process.wait(10)
