"""A hook for every host that appends one JSON line per picture: the frame number read from the emulator
camera's pixels and every timing field of the SourceFrame. `record` (module:function, for processes started
with $FRAME_RECORD_LOG set) or `Recorder(path)` (picklable: a fleet's workers come from a fork server that
may predate the test's environment).

Each line is one os.write on an O_APPEND descriptor, so lines from several processes never interleave.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from kvs_parser.emulator import read_index


def record(camera_id: str, frame: Any) -> None:
    Recorder(os.environ["FRAME_RECORD_LOG"], os.environ.get("FRAME_RECORD_HOST", "?"))(camera_id, frame)


class Recorder:
    def __init__(self, path: str, host: str = "?") -> None:
        self.path, self.host = path, host

    def __call__(self, camera_id: str, frame: Any) -> None:
        write_line(self.path, self.host, camera_id, frame)


def write_line(path: str, host: str, camera_id: str, frame: Any) -> None:
    line = json.dumps({
        "host": host, "camera": camera_id, "index": read_index(frame.image),
        "pts_ms": frame.pts_ms, "producer_time_ms": frame.producer_time_ms, "media_time_ms": frame.media_time_ms,
        "fragment_number": frame.fragment_number, "frame_index": frame.frame_index, "latency_ms": frame.latency_ms,
        "redelivered": frame.redelivered, "hook_ms": time.time() * 1000, "pid": os.getpid(),
    }) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line.encode())
    finally:
        os.close(descriptor)
