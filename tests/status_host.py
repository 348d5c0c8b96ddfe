"""A CameraHost for tests, made of real KVSGetMediaFrameSources reading the emulator over HTTP: a reader
thread per source keeps its latest frame (as a host's camera does), statuses come from get_metrics()."""

from __future__ import annotations

import threading
from typing import Dict, List, Optional, Sequence

from kvs_parser.camera import CameraState, CameraStatus
from kvs_parser.camera._thumbnail import jpeg_thumbnail
from kvs_parser.source import FrameSource, FrameTimeout, SourceEnded, SourceFrame


class SourcesHost:
    def __init__(self, sources: Sequence[FrameSource]) -> None:
        self.sources = {source.camera_id: source for source in sources}
        self._latest: Dict[str, SourceFrame] = {}
        self._errors: Dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._consume, args=(s,), daemon=True) for s in sources]

    def start(self) -> SourcesHost:
        for source in self.sources.values():
            source.start()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for source in self.sources.values():
            source.stop()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> SourcesHost:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _consume(self, source: FrameSource) -> None:
        while not self._stop.is_set():
            try:
                frame = source.read(timeout=0.5)
            except FrameTimeout:
                continue
            except SourceEnded:
                return
            except Exception as error:  # the error that ended the stream: shown as the camera's error
                with self._lock:
                    self._errors[source.camera_id] = f"{type(error).__name__}: {error}"
                return
            with self._lock:
                self._latest[source.camera_id] = frame

    def statuses(self) -> List[CameraStatus]:
        return [self._status(source) for source in self.sources.values()]

    def _status(self, source: FrameSource) -> CameraStatus:
        metrics = source.get_metrics()
        with self._lock:
            latest = self._latest.get(source.camera_id)
            error = metrics.error or self._errors.get(source.camera_id)
        if metrics.running:
            state = CameraState.RUNNING if metrics.frames_read else CameraState.STARTING
        else:
            state = CameraState.FAILED if error else CameraState.ENDED
        return CameraStatus(
            camera_id=source.camera_id, state=state, fps=metrics.fps, latency_p50_ms=metrics.latency_ms.p50,
            latency_p95_ms=metrics.latency_ms.p95, latency_p99_ms=metrics.latency_ms.p99,
            frames_delivered=metrics.frames_read, frames_dropped=metrics.frames_dropped,
            connection_resets=metrics.connection_resets, decode_errors=metrics.decode_errors,
            parse_errors=metrics.parse_errors, bytes=metrics.bytes, millis_behind_now=metrics.millis_behind_now,
            last_frame_ms=None if latest is None else latest.decoded_time_ms, error=error, where="test process",
        )

    def latest_jpeg(self, camera_id: str, max_width: int = 320) -> Optional[bytes]:
        if camera_id not in self.sources:
            raise KeyError(camera_id)
        with self._lock:
            latest = self._latest.get(camera_id)
        return None if latest is None else jpeg_thumbnail(latest.image, latest.pixel_format, max_width)
