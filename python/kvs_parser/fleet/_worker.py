"""One worker process: its share of the cameras, each a CameraRunner on its own thread.

It reports to the parent over a multiprocessing queue (its metrics URL, per-camera status, failures),
writes frames into the parent's shared-memory rings when asked to, and keeps each camera's resume point
in the parent's progress table. It ends when the parent sets `stop`, on SIGTERM, or when the parent
disappears; SIGINT (Ctrl-C in a terminal reaches the whole process group) is left to the parent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Union

from .._stop_flag import StopFlag
from ._progress import ResumePoint

log = logging.getLogger(__name__)

POLL = 0.1  # seconds between checks of the parent's stop flag and of the parent being alive
HookSpec = Union[str, Any, None]  # "module:function", a picklable callable, or None


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs (picklable, sent to the new process)."""

    index: int
    config: Any  # AppConfig
    cameras: List[str]
    rows: Dict[str, int]  # camera id -> row in the progress table
    progress_name: str
    progress_rows: int
    resume: Dict[str, ResumePoint]
    rings: Dict[str, Any]  # camera id -> RingSpec (only when frames are shared with the parent)
    hook: HookSpec
    on_hook_error: str  # "stop" or "continue" (kvs-parser run --on-hook-error)
    stop: Any  # multiprocessing RawValue, 1 once the parent stops (an Event would hang the parent's set()
    # if a worker is killed while waiting on it)
    events: Any  # this worker's end of a one-way Pipe to the parent (its own: a kill breaks no one else's)
    parent_pid: int
    metrics: bool = False
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


def _resolve_hook(hook: HookSpec, on_error: str, metrics: Any) -> Any:
    """The hook with run's error policy (reported and counted, then the camera stops or goes on), and the
    HookRunner whose status() says so; (None, None) without a hook."""
    if hook is None:
        return None, None
    from ..commands._hooks import HookRunner, load_hook
    from ._runner import StopCamera

    function = hook if callable(hook) else load_hook(hook)
    runner = HookRunner(function, hook if isinstance(hook, str) else getattr(hook, "__name__", "hook"), on_error,
                        metrics)

    def call(camera_id: str, frame: Any) -> None:
        if not runner.call(camera_id, frame):
            raise StopCamera(runner.failure(camera_id) or "hook raised")

    return call, runner


def _with_start(camera: Any, point: ResumePoint) -> Any:
    """`camera` (CameraConfig) starting at `point` instead of its configured start selector."""
    getmedia = camera.playback.getmedia
    selector = point.start_selector(getmedia.start_selector)
    if selector is getmedia.start_selector:
        return camera
    getmedia = getmedia.model_copy(update={"start_selector": selector})
    return camera.model_copy(update={"playback": camera.playback.model_copy(update={"getmedia": getmedia})})


def ring_sink(ring: Any) -> Any:
    def put(frame: Any) -> bool:
        accepted: bool = ring.put(frame.image, {
            "pts_ms": frame.pts_ms, "keyframe": frame.is_keyframe, "track_number": frame.track_number,
            "producer_time_ms": frame.producer_time_ms, "producer_timestamp_ms": frame.producer_timestamp_ms,
            "server_timestamp_ms": frame.server_timestamp_ms, "decoded_time_ms": frame.decoded_time_ms,
            "fragment_number": frame.fragment_number, "pixel_format": frame.pixel_format,
        })
        return accepted

    return put


def worker_main(spec: WorkerSpec) -> None:
    """The worker process's entry point."""
    logging.basicConfig(level=spec.log_level, format=f"worker {spec.index}: %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    local_stop = StopFlag()  # set by a signal handler: an Event could deadlock the main thread
    signal.signal(signal.SIGTERM, lambda *_: local_stop.set())
    from prometheus_client import CollectorRegistry

    from ..metrics import KVSMetrics, MetricsServer
    from ..source import source_from_config
    from ._progress import DeliveryTracker, ProgressTable
    from ._ring import FrameRing
    from ._runner import CameraRunner

    registry = CollectorRegistry() if spec.metrics else None
    metrics = KVSMetrics(registry) if registry is not None else None
    hook, hook_runner = _resolve_hook(spec.hook, spec.on_hook_error, metrics)

    def status() -> List[Any]:
        """Each camera's metrics and the hook's word on it (empty while the hook never raised)."""
        return [(r.source.get_metrics(), "" if hook_runner is None else hook_runner.status(r.camera_id))
                for r in runners]

    server = MetricsServer(registry).start() if registry is not None else None
    if server is not None:
        spec.events.send(("metrics", spec.index, server.url))
    progress = ProgressTable.attach(spec.progress_name, spec.progress_rows)
    rings = {camera: FrameRing.attach(ring) for camera, ring in spec.rings.items()}
    if spec.recover_rings:
        for ring in rings.values():
            ring.recover_writer()
    by_id = {camera.id: camera for camera in spec.config.cameras}
    runners: List[CameraRunner] = []
    for camera_id in spec.cameras:
        point = spec.resume.get(camera_id, ResumePoint())
        source = source_from_config(spec.config, _with_start(by_id[camera_id], point), metrics=metrics)
        camera_ring = rings.get(camera_id)
        runners.append(CameraRunner(source, hook, ring_sink(camera_ring) if camera_ring is not None else None,
                                    DeliveryTracker(point, progress, spec.rows[camera_id])))
    threads = [runner.thread(local_stop) for runner in runners]
    ended = False  # every camera ended on its own (nothing for the parent to restart)
    try:
        for runner in runners:
            runner.source.start()
        for thread in threads:
            thread.start()
        next_status = time.monotonic() + spec.status_interval
        while not local_stop.wait(POLL):
            if spec.stop.value or not _alive(spec.parent_pid):
                break
            if time.monotonic() < next_status:
                continue
            next_status += spec.status_interval
            try:
                spec.events.send(("status", spec.index, status()))
            except OSError:  # the parent is gone or dropped this pipe: nobody to work for
                break
            if not any(thread.is_alive() for thread in threads):
                ended = True  # every camera ended or failed
                break
    finally:
        local_stop.set()
        for runner in runners:
            runner.source.stop()
        for thread in threads:
            thread.join(5)
        failures = [r.failure for r in runners if r.failure]
        with contextlib.suppress(OSError):  # the parent may be gone
            spec.events.send(("status", spec.index, status()))
            spec.events.send(("done", spec.index, (failures, ended)))
        if server is not None:
            server.stop()
        for ring in rings.values():
            ring.close()
        progress.close()
        spec.events.close()
