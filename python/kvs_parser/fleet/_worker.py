"""One worker process: its share of the cameras, each a Camera (the unit every host runs).

It reports to the parent over a pipe (its metrics URL, each camera's CameraStatus, failures), writes frames
into the parent's shared-memory rings when asked to, and records each camera's progress in the checkpoint
store, from which a restarted worker resumes. It ends when the parent sets `stop`, on SIGTERM, or when the
parent disappears; SIGINT (Ctrl-C in a terminal reaches the whole process group) is left to the parent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass
from typing import Any, Dict, List

from .._stop_flag import StopFlag
from ..camera import HookSpec

log = logging.getLogger(__name__)

POLL = 0.1  # seconds between checks of the parent's stop flag and of the parent being alive


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs (picklable, sent to the new process)."""

    index: int
    config: Any  # AppConfig
    cameras: List[str]
    checkpoint: str  # the checkpoint store's URL
    rings: Dict[str, Any]  # camera id -> RingSpec (only when frames are shared with the parent)
    hook: HookSpec
    on_hook_error: str  # "stop" or "continue" (kvs-parser run --on-hook-error)
    stop: Any  # multiprocessing RawValue, 1 once the parent stops (an Event would hang the parent's set()
    # if a worker is killed while waiting on it)
    events: Any  # this worker's end of a one-way Pipe to the parent (its own: a kill breaks no one else's)
    parent_pid: int
    status_interval: float = 1.0
    recover_rings: bool = False
    log_level: int = logging.WARNING


def _alive(pid: int) -> bool:
    """Whether the parent still runs (our own parent is the fork server, so getppid() does not tell)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ring_sink(ring: Any) -> Any:
    def put(frame: Any) -> bool:
        accepted: bool = ring.put(frame.image, {
            "pts_ms": frame.pts_ms, "keyframe": frame.is_keyframe, "track_number": frame.track_number,
            "producer_time_ms": frame.producer_time_ms, "producer_timestamp_ms": frame.producer_timestamp_ms,
            "server_timestamp_ms": frame.server_timestamp_ms, "decoded_time_ms": frame.decoded_time_ms,
            "fragment_number": frame.fragment_number, "pixel_format": frame.pixel_format,
            "media_time_ms": frame.media_time_ms, "frame_index": frame.frame_index, "latency_ms": frame.latency_ms,
            "redelivered": frame.redelivered,
        }, timeout=None if ring.policy.value == "block" else 1.0)
        return accepted

    return put


def worker_main(spec: WorkerSpec) -> None:
    """The worker process's entry point."""
    logging.basicConfig(level=spec.log_level, format=f"worker {spec.index}: %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    local_stop = StopFlag()  # set by a signal handler: an Event could deadlock the main thread
    signal.signal(signal.SIGTERM, lambda *_: local_stop.set())
    from prometheus_client import CollectorRegistry

    from ..camera import Camera, hook_runner
    from ..camera._group import CameraGroup
    from ..checkpoint import open_store
    from ..checkpoint._metrics import CheckpointMetrics
    from ..metrics import KVSMetrics
    from ..web import StatusServer
    from ._ring import FrameRing

    registry = CollectorRegistry()
    metrics = KVSMetrics(registry)
    store = open_store(spec.checkpoint)
    hook = hook_runner(spec.hook, spec.on_hook_error, metrics)
    rings = {camera: FrameRing.attach(ring) for camera, ring in spec.rings.items()}
    if spec.recover_rings:
        for ring in rings.values():
            ring.recover_writer()
    by_id = {camera.id: camera for camera in spec.config.cameras}
    checkpoint_metrics = CheckpointMetrics(registry)
    cameras = [Camera.from_config(spec.config, by_id[camera_id], hook=hook, metrics=metrics, checkpoint=store,
                                  checkpoint_metrics=checkpoint_metrics, where=f"worker {spec.index}",
                                  sink=ring_sink(rings[camera_id]) if camera_id in rings else None)
               for camera_id in spec.cameras]
    # The parent reads its workers' metrics and thumbnails here, over loopback.
    group = CameraGroup(cameras)
    server = StatusServer(registry, group).start()
    spec.events.send(("metrics", spec.index, server.url))
    ended = False  # every camera ended on its own (nothing for the parent to restart)
    try:
        group.start()
        next_status = time.monotonic() + spec.status_interval
        while not local_stop.wait(POLL):
            if spec.stop.value or not _alive(spec.parent_pid):
                break
            if time.monotonic() < next_status:
                continue
            next_status += spec.status_interval
            try:
                spec.events.send(("status", spec.index, group.statuses()))
            except OSError:  # the parent is gone or dropped this pipe: nobody to work for
                break
            if not group.running:
                ended = True  # every camera ended or failed
                break
    finally:
        local_stop.set()
        group.stop(5)
        with contextlib.suppress(OSError):  # the parent may be gone
            spec.events.send(("status", spec.index, group.statuses()))
            spec.events.send(("done", spec.index, (group.failures(), ended)))
        server.stop()
        for ring in rings.values():
            ring.close()
        store.close()
        spec.events.close()
