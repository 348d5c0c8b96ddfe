"""The hook the Ray tests run inside camera actors: one JSON line per picture, appended to $KVS_RAY_TEST_LOG.

Each line is one os.write on an O_APPEND descriptor, so lines from several processes never interleave.
The frame number is read from the emulator camera's pixels (rgb24).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from kvs_parser.emulator import read_index


def record(camera_id: str, frame: Any) -> None:
    line = json.dumps({
        "camera": camera_id, "frame": read_index(frame.image), "fragment": frame.fragment_number,
        "index": frame.frame_index, "redelivered": frame.redelivered, "pid": os.getpid(), "time": time.time(),
    })
    descriptor = os.open(os.environ["KVS_RAY_TEST_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, (line + "\n").encode())
    finally:
        os.close(descriptor)
