"""The status page in a real headless browser (Debian's chromium, started here, enforcing the page's
Content-Security-Policy: its script runs by its hash): every camera's tile shows its picture (the page
records each loaded picture's natural size in the tile's data-picture), and a camera that stopped on an
error shows the error. `python tests/test_status_page_browser.py docs/status-page.png`
makes the README's screenshot the same way."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest
from prometheus_client import CollectorRegistry

from kvs_parser.emulator import Emulator, SceneSpec, SyntheticCamera, recording
from kvs_parser.metrics import KVSMetrics
from kvs_parser.source import KVSGetMediaFrameSource
from kvs_parser.web import StatusServer
from status_host import SourcesHost

pytestmark = pytest.mark.timeout(180)
STREAMS = {"front-door": "door", "loading-bay": "bay", "car-park": "no-such-stream"}


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "chromium is not installed (scripts/system_packages.sh installs it)"
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    return path


def run_chromium(*args: str, budget_ms: int = 6000) -> str:
    """Headless chromium with `args`; virtual time lets the page's script run its refreshes, the real
    timeout bounds the whole run."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--hide-scrollbars", f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", *args],
            capture_output=True, text=True, timeout=90,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Tiles(HTMLParser):
    """Each tile of the dumped DOM: its attributes and the text of its error line."""

    def __init__(self) -> None:
        super().__init__()
        self.tiles: Dict[str, Dict[str, str]] = {}
        self._current: Optional[str] = None
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "section" and "data-camera" in values:
            self._current = values["data-camera"]
            self.tiles[self._current] = {**values, "error": ""}
        self._in_error = tag == "div" and values.get("class") == "error" and self._current is not None

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._in_error = False

    def handle_data(self, data: str) -> None:
        if self._in_error and self._current is not None:
            self.tiles[self._current]["error"] += data


@contextmanager
def fleet_page(scene: bool = False) -> Iterator[StatusServer]:
    """Two live cameras and one whose stream does not exist, served once both pictures are there.
    `scene`: the live cameras replay a recorded scene (what the README shows) instead of a test pattern."""
    with Emulator() as emu:
        if scene:
            video = str(recording(SceneSpec(width=640, height=360, fps=10, bitrate=800_000, seconds=8)))
            emu.add_replay_stream("door", video)
            emu.add_replay_stream("bay", video, phase_ms=4000)
        else:
            emu.add_live_stream("door", SyntheticCamera(width=640, height=360, fps=10, fragment_duration=0.5))
            emu.add_live_stream("bay", SyntheticCamera(width=480, height=360, fps=10, fragment_duration=0.5))
        registry = CollectorRegistry()
        metrics = KVSMetrics(registry)
        sources = [KVSGetMediaFrameSource(camera_id, stream_name=stream, endpoint_url=emu.endpoint_url,
                                          metrics=metrics, read_timeout=3.0) for camera_id, stream in STREAMS.items()]
        with SourcesHost(sources) as host, StatusServer(registry, host) as server:
            deadline = time.monotonic() + 30
            while not ready_to_show(server, host):
                assert time.monotonic() < deadline, [status.state for status in host.statuses()]
                time.sleep(0.2)
            time.sleep(1.5)  # a second of fps and latency figures on the tiles
            yield server


def ready_to_show(server: StatusServer, host: SourcesHost) -> bool:
    states = {status.camera_id: status.state.value for status in host.statuses()}
    if states != {"front-door": "running", "loading-bay": "running", "car-park": "failed"}:
        return False
    for camera_id in ("front-door", "loading-bay"):
        try:
            with urllib.request.urlopen(f"{server.url}cameras/{camera_id}/latest.jpg", timeout=5):
                pass
        except urllib.error.HTTPError:
            return False
    return True


def test_every_tile_shows_its_picture_and_a_failed_camera_its_error() -> None:
    chromium()
    with fleet_page() as server:
        dom = run_chromium("--dump-dom", server.url)
    parser = Tiles()
    parser.feed(dom)
    tiles = parser.tiles
    assert list(tiles) == ["front-door", "loading-bay", "car-park"], dom[-3000:]
    assert tiles["front-door"]["data-picture"] == "320x180"  # loaded: the img's naturalWidth x naturalHeight
    assert tiles["loading-bay"]["data-picture"] == "320x240"
    assert tiles["front-door"]["class"] == "tile running" and tiles["front-door"]["error"] == ""
    assert tiles["car-park"]["class"] == "tile failed" and tiles["car-park"]["data-picture"] == "none"
    assert "StreamNotFoundError" in tiles["car-park"]["error"] and "no-such-stream" in tiles["car-park"]["error"]
    assert "3 cameras, 2 delivering" in dom


def png_size(data: bytes) -> Tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def screenshot(path: Path, server: StatusServer) -> None:
    run_chromium(f"--screenshot={path}", "--window-size=1100,450", server.url)


def test_a_screenshot_of_the_page(tmp_path: Path) -> None:
    chromium()
    with fleet_page() as server:
        screenshot(tmp_path / "page.png", server)
    assert png_size((tmp_path / "page.png").read_bytes()) == (1100, 450)


if __name__ == "__main__":  # the README's screenshot
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/status-page.png")
    with fleet_page(scene=True) as page_server:
        screenshot(target.resolve(), page_server)
    print(f"wrote {target} ({png_size(target.read_bytes())})")
