"""`kvs-parser run --workers N`: the status loop of a Fleet, as `run` shows it for threads."""

from __future__ import annotations

import sys
import time
from typing import Any, Optional

from .._stop_flag import StopFlag
from ..commands._status import status_line
from ._fleet import Fleet


def run_fleet(config: Any, workers: Optional[int], hook: Optional[str], on_hook_error: str,
              metrics_port: Optional[int], duration: Optional[float], status_interval: float,
              stop: StopFlag) -> int:
    """Runs the fleet until `stop` (Ctrl-C, SIGTERM), `duration` or every camera's end; 1 if any failed."""
    fleet = Fleet(config, workers, hook=hook, on_hook_error=on_hook_error, metrics_port=metrics_port,
                  status_interval=status_interval)
    tty = sys.stdout.isatty()
    lines = 0
    with fleet:
        print(f"{len(config.cameras)} cameras on {len(fleet.worker_pids())} worker processes", file=sys.stderr)
        if fleet.metrics_url:
            print(f"metrics on {fleet.metrics_url}", flush=True)
        deadline = None if duration is None else time.monotonic() + duration
        while not stop.is_set():
            wait = status_interval if deadline is None else min(status_interval, deadline - time.monotonic())
            if stop.wait(max(0.0, wait)) or (deadline is not None and time.monotonic() >= deadline):
                break
            status = fleet.camera_metrics()
            text = [status_line(status[c.id]) + fleet.hook_status(c.id) for c in config.cameras if c.id in status]
            if tty and text:
                sys.stdout.write("".join(f"\x1b[2K{line}\n" for line in text) + f"\x1b[{len(text)}F")
            else:
                sys.stdout.write("".join(f"{line}\n" for line in text))
            lines = len(text)
            sys.stdout.flush()
            if not fleet.running:
                break  # every camera ended or failed
    if tty:
        sys.stdout.write("\n" * lines)
    status = fleet.camera_metrics()
    for camera in config.cameras:
        if camera.id in status:
            print(status_line(status[camera.id]) + fleet.hook_status(camera.id))
    if fleet.restarts:
        print(f"kvs-parser run: {fleet.restarts} worker restart(s)", file=sys.stderr)
    for failure in fleet.failures():
        print(f"kvs-parser run: {failure}", file=sys.stderr)
    return 1 if fleet.failures() else 0
