"""The fields every host must give the same picture: a finished emulator stream read from its start."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from kvs_parser.emulator import Emulator, SyntheticCamera

FRAMES = 48  # 6 fragments of 8 frames at 16 fps
FIELDS = ("pts_ms", "producer_time_ms", "media_time_ms", "fragment_number", "frame_index")


def add_finished_camera(emu: Emulator, name: str = "finished") -> None:
    camera = SyntheticCamera(width=96, height=64, fps=16, fragment_duration=0.5, max_frames=FRAMES)
    assert emu.add_live_stream(name, camera).wait_closed(30)


def camera_config(endpoint_url: str, stream: str = "finished") -> Dict[str, Any]:
    return {"endpoint_url": endpoint_url, "region": "us-west-2", "output": {"pixel_format": "rgb24"},
            "cameras": [{"id": "cam", "kvs_stream_name": stream,
                         "playback": {"getmedia": {"start_selector": "EARLIEST", "delivery": "complete"}}}]}


def read_records(path: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for_frames(path: Path, count: int, timeout: float, running: Callable[[], bool] = lambda: True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running():
        if len({r["index"] for r in read_records(path)}) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{len(read_records(path))} pictures recorded within {timeout} s, {count} wanted")


def by_index(records: List[Dict[str, Any]]) -> Dict[int, Dict[str, Any]]:
    """The first record of each frame; checks each one's latency is measured as in every host: the wall
    clock when the consumer got the picture minus its producer time (so a little before the hook ran)."""
    out: Dict[int, Dict[str, Any]] = {}
    for record in records:
        latency = record["latency_ms"]
        assert latency is not None and record["producer_time_ms"] is not None, record
        assert 0 <= record["hook_ms"] - (record["producer_time_ms"] + latency) < 1000, record
        out.setdefault(record["index"], record)
    return out
