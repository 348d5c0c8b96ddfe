"""Camera: the one per-camera unit every host runs (a thread here, a worker process, a Ray actor).

Its frame source reads GetMedia -> parse -> decode -> SourceFrame on a reader thread (resume from the
checkpoint, stale-fragment skipping, sampling, metrics); its consumer thread hands each picture to the
sink (e.g. a shared-memory ring) and then to the hook under the hook-error policy. The checkpoint records a
fragment as delivered once the consumer comes back after its last picture, so "delivered" means the same
in every host: the hook returned.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Optional

from .._redact import redact
from ..source import FrameSource, FrameTimeout, SourceEnded, SourceFrame
from ._hooks import HookRunner
from ._status import CameraState, CameraStatus

if TYPE_CHECKING:
    from ..checkpoint import CheckpointStore
    from ..checkpoint._metrics import CheckpointMetrics
    from ..config import AppConfig, CameraConfig
    from ..metrics import KVSMetrics

Sink = Callable[[SourceFrame], Any]


class Camera:
    """One camera: ``start()``, ``stop()``, ``join()``, ``status()``; ``failure`` says why it stopped early."""

    def __init__(self, source: FrameSource, hook: Optional[HookRunner] = None, sink: Optional[Sink] = None,
                 where: str = "") -> None:
        self.source, self.hook, self.sink, self.where = source, hook, sink, where
        self.failure: Optional[str] = None
        self.latest: Optional[SourceFrame] = None  # kept for thumbnails, encoded only when asked for
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @classmethod
    def from_config(cls, app: AppConfig, camera: CameraConfig, *, hook: Optional[HookRunner] = None,
                    sink: Optional[Sink] = None, metrics: Optional[KVSMetrics] = None,
                    checkpoint: Optional[CheckpointStore] = None,
                    checkpoint_metrics: Optional[CheckpointMetrics] = None, session: Any = None,
                    where: str = "") -> Camera:
        from ..source import source_from_config

        source = source_from_config(app, camera, metrics=metrics, session=session, checkpoint=checkpoint,
                                    checkpoint_metrics=checkpoint_metrics)
        return cls(source, hook, sink, where)

    @property
    def camera_id(self) -> str:
        return self.source.camera_id

    # -- lifecycle --
    def start(self) -> Camera:
        if self._thread is not None:
            raise RuntimeError("a camera starts once")
        self._thread = threading.Thread(target=self._consume, name=f"kvs-camera-{self.camera_id}", daemon=True)
        self.source.start()
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self.source.stop(timeout)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def join(self, timeout: Optional[float] = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _consume(self) -> None:
        source, hook, sink, camera_id = self.source, self.hook, self.sink, self.camera_id
        while not self._stopping.is_set():
            try:
                frame = source.read(timeout=0.5)
            except FrameTimeout:
                continue
            except SourceEnded:
                return
            except Exception as error:  # what ended the stream: this camera stops, the others go on
                self.failure = f"{type(error).__name__}: {redact(str(error))}"
                return
            self.latest = frame
            if sink is not None:
                try:
                    sink(frame)
                except Exception as error:  # e.g. a frame larger than a ring slot: said, not a silent death
                    self.failure = f"{type(error).__name__}: {redact(str(error))}"
                    source.stop(timeout=0)
                    return
            if hook is not None and not hook.call(camera_id, frame):
                self.failure = hook.failure(camera_id) or "hook raised"
                source.stop(timeout=0)  # its reader stops decoding too
                return

    # -- what it reports --
    def latest_jpeg(self, max_width: int = 320) -> Optional[bytes]:
        """The latest picture as a small JPEG, encoded now (never per frame); None before the first one, or
        for pictures that are not numpy arrays in a CPU pixel format (nvdec's device arrays)."""
        frame = self.latest
        if frame is None:
            return None
        from ._thumbnail import jpeg_thumbnail

        try:
            return jpeg_thumbnail(frame.image, frame.pixel_format, max_width)
        except (ValueError, TypeError):
            return None

    def status(self) -> CameraStatus:
        metrics = self.source.get_metrics()
        latency = metrics.latency_ms
        failure = self.failure or metrics.error
        if failure is not None:
            state = CameraState.FAILED
        elif not self.running:
            state = CameraState.ENDED
        else:
            state = CameraState.RUNNING if metrics.frames_read else CameraState.STARTING
        return CameraStatus(
            camera_id=self.camera_id, state=state, fps=metrics.fps, latency_p50_ms=latency.p50,
            latency_p95_ms=latency.p95, latency_p99_ms=latency.p99, frames_delivered=metrics.frames_read,
            frames_dropped=metrics.frames_dropped,
            frames_redelivered=metrics.frames_redelivered, connection_resets=metrics.connection_resets,
            decode_errors=metrics.decode_errors, parse_errors=metrics.parse_errors,
            hook_errors=0 if self.hook is None else self.hook.errors(self.camera_id), bytes=metrics.bytes,
            millis_behind_now=metrics.millis_behind_now, last_frame_ms=self.source.last_frame_ms,
            resumed_after=self.source.resumed_after,
            last_fragment=self.source.checkpointed_fragment, error=failure, where=self.where,
        )
