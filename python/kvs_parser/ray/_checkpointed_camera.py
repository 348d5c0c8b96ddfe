"""CheckpointedCamera: one camera read, decoded and handed to a hook on one thread, with its progress
checkpointed at fragment boundaries so that a restarted camera resumes where delivery ended.

Per fragment, two store writes: before the fragment's first picture reaches the hook, the fragment is
marked in flight; once its last picture has returned from the hook (the decoder is drained at the
boundary: fragments open with a keyframe), it becomes the last completely delivered fragment. A restart
resumes right after that fragment; pictures of the fragment that was in flight are marked ``redelivered``.
The hook runs on the reading thread: a slow hook slows the reading (TCP backpressure), it never drops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Tuple

from .._aws.preflight import resolve_aws
from ..checkpoint import Checkpoint, CheckpointStore, CheckpointStoreError, fragment_order
from ..checkpoint._metrics import CameraCheckpointMetrics, CheckpointMetrics
from ..config import AppConfig, CameraConfig, PlaybackMode
from ..decode import BackendRegistry, DecodedPicture, DecodeOptions, FrameDecoder
from ..errors import KVSError
from ..getmedia import GetMediaClient, GetMediaStream, RetryPolicy, StartSelector
from ..metrics import CameraMetrics, KVSMetrics
from ..source import ProducerClock, SourceFrame
from ..source._options import as_start_selector, retry_policy

log = logging.getLogger(__name__)

Hook = Callable[[str, SourceFrame], Any]
PUBLISH_INTERVAL = 0.25  # seconds between stream counter updates


class HookError(KVSError):
    """The hook raised; the camera stops (under Ray the actor then restarts from its checkpoint)."""


class FramePositions:
    """Each encoded frame's position in its fragment (in stream order, per track), by its pts.

    A picture's ``frame_index`` is the position of the frame it was decoded from: the same picture gets the
    same index after a restart whatever sampling (fps_target, keyframes_only) or decoder delay did.
    """

    def __init__(self, fragments: int = 8) -> None:
        # fragment number -> ({(track, pts): position}, {track: frames seen})
        self._fragments: OrderedDict[str, Tuple[Dict[Tuple[int, int], int], Dict[int, int]]] = OrderedDict()
        self._capacity = fragments

    def note(self, frame: Any) -> None:
        number = frame.fragment_number
        if number is None:
            return
        entry = self._fragments.get(number)
        if entry is None:
            entry = self._fragments[number] = ({}, {})
            while len(self._fragments) > self._capacity:
                self._fragments.popitem(last=False)
        positions, counts = entry
        key = (frame.track_number, frame.pts_ms)
        if key not in positions:
            positions[key] = counts.get(frame.track_number, 0)
            counts[frame.track_number] = positions[key] + 1

    def of(self, picture: DecodedPicture) -> Optional[int]:
        entry = self._fragments.get(picture.fragment_number) if picture.fragment_number else None
        return None if entry is None else entry[0].get((picture.track_number, picture.pts_ms))


class CameraSupersededError(KVSError):
    """The store refused a checkpoint older than its own: another instance of the camera moved ahead."""


@dataclass(frozen=True)
class CameraProgress:
    """A snapshot of one checkpointed camera."""

    camera_id: str
    frames_delivered: int
    frames_redelivered: int
    fragments_completed: int
    checkpoint_errors: int
    resumed_after: Optional[str]  # the checkpointed fragment this run started after; None: a fresh start
    last_fragment: Optional[str]  # the last completely delivered fragment
    last_delivery_ms: Optional[float]  # wall clock of the last picture handed to the hook
    running: bool
    error: Optional[str]


class CheckpointedCamera:
    """Reads one GetMedia stream into ``hook(camera_id, SourceFrame)``, checkpointed in ``store``.

    ``start()`` runs it on a thread (``run()`` on the caller's); ``stop()`` ends it. Store failures are
    retried (delivery waits: the guarantee holds through a store outage); a raising hook ends the camera
    with ``HookError``; a fatal stream error (no such stream, not authorised) ends it with that error.
    """

    def __init__(
        self,
        camera_id: str,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        *,
        store: CheckpointStore,
        hook: Optional[Hook] = None,
        region: Optional[str] = None,
        session: Any = None,
        endpoint_url: Optional[str] = None,
        start_selector: Any = "NOW",
        decode_options: Optional[DecodeOptions] = None,
        backend: str = "pyav",
        backend_registry: Optional[BackendRegistry] = None,
        retry: Optional[RetryPolicy] = None,
        metrics: Optional[KVSMetrics] = None,
        checkpoint_metrics: Optional[CheckpointMetrics] = None,
        chunk_size: int = 64 * 1024,
        store_retry_delay: float = 0.2,
        store_max_delay: float = 5.0,
    ) -> None:
        if bool(stream_name) == bool(stream_arn):
            raise ValueError("give exactly one of stream_name and stream_arn")
        self.camera_id, self.stream_name, self.stream_arn = camera_id, stream_name, stream_arn
        self.store, self.hook = store, hook
        self.region, self._session, self._endpoint_url = region, session, endpoint_url
        self.start_selector = as_start_selector(start_selector)
        self.decode_options = decode_options or DecodeOptions()
        self._backend, self._registry = backend, backend_registry
        self._retry = retry or RetryPolicy(max_attempts=None)
        self._prom: Optional[CameraMetrics] = metrics.camera(camera_id) if metrics is not None else None
        self._prom_cp: Optional[CameraCheckpointMetrics] = (
            checkpoint_metrics.camera(camera_id) if checkpoint_metrics is not None else None)
        self._chunk_size = chunk_size
        self._store_delays = (store_retry_delay, store_max_delay)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._stream: Optional[GetMediaStream] = None
        self._thread: Optional[threading.Thread] = None
        self.error: Optional[BaseException] = None
        # Delivery state (reading thread only).
        self._checkpoint: Optional[Checkpoint] = None  # what the store holds for this camera
        self._redeliver: Optional[str] = None  # fragment in flight when the camera last stopped
        self._skip_through: Optional[Tuple[int, str]] = None  # fragments up to this order were delivered before
        self._skip_before: Optional[Tuple[int, str]] = None  # fragments before this order were never wanted
        self._fragment: Optional[str] = None  # fragment whose pictures are being delivered
        self._fragment_producer_ms: Optional[int] = None
        self._positions = FramePositions()
        self._counts = {"delivered": 0, "redelivered": 0, "completed": 0, "errors": 0}
        self._resumed_after: Optional[str] = None
        self._last_delivery_ms: Optional[float] = None
        self._published = (0, 0, 0)  # bytes, resets, parse errors already added to Prometheus
        self._decode_errors_published = 0
        # Checked now, so a bad backend name fails here rather than on the reading thread.
        FrameDecoder(self.decode_options, backend, backend_registry).close()

    @classmethod
    def from_config(cls, app: AppConfig, camera: CameraConfig, *, store: CheckpointStore,
                    hook: Optional[Hook] = None, session: Any = None, **options: Any) -> CheckpointedCamera:
        """A camera of a cameras.yaml (GetMedia playback), with its region, endpoint and output merged in."""
        if camera.playback.mode is PlaybackMode.HLS:
            raise ValueError(f"camera {camera.id}: checkpointed delivery needs GetMedia playback (HLS has "
                             "no fragment numbers to resume from)")
        getmedia = camera.playback.getmedia
        if getmedia.max_fragment_age_seconds is not None:
            log.warning("camera %s: max_fragment_age_seconds is ignored: checkpointed delivery skips nothing",
                        camera.id)
        output = app.output_for(camera)
        endpoint_url = app.endpoint_for(camera)
        aws = resolve_aws(session, region=app.region_for(camera), endpoint_url=endpoint_url)
        return cls(camera.id, camera.kvs_stream_name, camera.kvs_stream_arn, store=store, hook=hook,
                   region=aws.region, session=aws.session, endpoint_url=aws.endpoint_url,
                   start_selector=getmedia.start_selector, decode_options=output.decode_options(camera.fps_target),
                   backend=output.decode_backend,
                   retry=retry_policy(getmedia.reconnect_delay_seconds, getmedia.max_reconnect_attempts,
                                      unbounded=getmedia.max_reconnect_attempts is None),
                   chunk_size=getmedia.chunk_size, **options)

    # -- lifecycle --
    def start(self) -> CheckpointedCamera:
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("a camera starts once")
            self._thread = threading.Thread(target=self._run_captured, name=f"kvs-camera-{self.camera_id}",
                                            daemon=True)
        self._thread.start()
        return self

    def _run_captured(self) -> None:
        try:
            self.run()
        except BaseException as error:  # kept for the owner: a thread has nobody to raise to
            if not self._stopping.is_set():
                log.error("camera %s: %s: %s", self.camera_id, type(error).__name__, error)
                self.error = error

    def stop(self, timeout: Optional[float] = 10.0) -> None:
        self._stopping.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.stop(timeout=0)  # wakes the blocked socket read
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def join(self, timeout: Optional[float] = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def progress(self) -> CameraProgress:
        counts = dict(self._counts)
        checkpoint = self._checkpoint
        error = self.error
        return CameraProgress(
            camera_id=self.camera_id, frames_delivered=counts["delivered"], frames_redelivered=counts["redelivered"],
            fragments_completed=counts["completed"], checkpoint_errors=counts["errors"],
            resumed_after=self._resumed_after,
            last_fragment=checkpoint.fragment_number or None if checkpoint is not None else None,
            last_delivery_ms=self._last_delivery_ms, running=self.running,
            error=None if error is None else f"{type(error).__name__}: {error}",
        )

    # -- the reading thread --
    def run(self) -> None:
        """Reads until stop() or a fatal error (raised)."""
        selector = self._resume_point(self._store_call(lambda: self.store.load(self.camera_id)))
        if selector is None:  # stopped while the store was unreachable
            return
        decoder = FrameDecoder(self.decode_options, self._backend, self._registry)
        clock = ProducerClock()
        client = GetMediaClient(self._session, region_name=self.region, endpoint_url=self._endpoint_url,
                                retry=self._retry)
        try:
            stream = client.stream(self.stream_name, stream_arn=self.stream_arn, start=selector,
                                   on_tracks=lambda tracks: self._deliver_all(decoder.update_tracks(tracks), clock),
                                   on_fragment=lambda fragment: self._fragment_end(fragment, decoder, clock),
                                   read_size=self._chunk_size, follow=True)
            with self._lock:
                self._stream = stream
            if self._stopping.is_set():
                return
            next_publish = time.monotonic() + PUBLISH_INTERVAL
            for frame in stream.frames():
                if self._already_delivered(frame.fragment_number):
                    continue
                clock.note(frame)
                self._positions.note(frame)
                self._deliver_all(decoder.decode(frame), clock)
                if self._stopping.is_set():
                    break
                if time.monotonic() >= next_publish:
                    next_publish = time.monotonic() + PUBLISH_INTERVAL
                    self._publish(stream, decoder)
            self._publish(stream, decoder)
        finally:
            decoder.close()
            client.close()

    def _resume_point(self, checkpoint: Optional[Checkpoint]) -> Optional[StartSelector]:
        if self._stopping.is_set():
            return None
        self._checkpoint = checkpoint
        if checkpoint is None:
            return self.start_selector
        self._redeliver = checkpoint.in_flight
        if checkpoint.fragment_number:
            self._resumed_after = checkpoint.fragment_number
            self._skip_through = fragment_order(checkpoint.fragment_number)
            log.info("camera %s: resuming after fragment %s", self.camera_id, checkpoint.fragment_number)
            if checkpoint.continuation_token:
                return StartSelector.continuation(checkpoint.continuation_token)
            return StartSelector.after_fragment(checkpoint.fragment_number)
        if checkpoint.in_flight and checkpoint.producer_time_ms is not None:
            # No fragment completed yet: start at the one that was in flight (whole seconds, as boto3 sends
            # timestamps, so earlier fragments may come first; they are skipped).
            self._skip_before = fragment_order(checkpoint.in_flight)
            log.info("camera %s: resuming at fragment %s", self.camera_id, checkpoint.in_flight)
            return StartSelector.producer_timestamp(checkpoint.producer_time_ms // 1000)
        return self.start_selector

    def _already_delivered(self, fragment_number: Optional[str]) -> bool:
        """A fragment before the resume point (GetMedia may start at, not after, the given fragment)."""
        if fragment_number is None:
            return False
        order = fragment_order(fragment_number)
        if self._skip_through is not None and order <= self._skip_through:
            return True
        return self._skip_before is not None and order < self._skip_before

    def _deliver_all(self, pictures: List[DecodedPicture], clock: ProducerClock) -> None:
        for picture in pictures:
            self._deliver(picture, clock.producer_time_ms(picture))

    def _deliver(self, picture: DecodedPicture, producer_time_ms: Optional[int]) -> None:
        number = picture.fragment_number
        if number is not None and self._already_delivered(number):
            return
        if number != self._fragment:
            self._fragment = number
            self._fragment_producer_ms = picture.producer_timestamp_ms
            if number is not None:
                self._save(self._mark_in_flight(number, picture.producer_timestamp_ms))
        redelivered = number is not None and number == self._redeliver
        now = time.time() * 1000
        frame = SourceFrame(
            camera_id=self.camera_id, image=picture.image, pixel_format=picture.pixel_format, width=picture.width,
            height=picture.height, pts_ms=picture.pts_ms, is_keyframe=picture.is_keyframe,
            track_number=picture.track_number, producer_time_ms=producer_time_ms,
            producer_timestamp_ms=picture.producer_timestamp_ms, server_timestamp_ms=picture.server_timestamp_ms,
            fragment_number=number, decoded_time_ms=now,
            latency_ms=None if producer_time_ms is None else now - producer_time_ms,
            frame_index=self._positions.of(picture), redelivered=redelivered,
        )
        if self.hook is not None:
            try:
                self.hook(self.camera_id, frame)
            except Exception as error:
                raise HookError(f"camera {self.camera_id}: hook raised {type(error).__name__}: {error}") from error
        self._counts["delivered"] += 1
        self._counts["redelivered"] += redelivered
        self._last_delivery_ms = time.time() * 1000
        if self._prom is not None:
            self._prom.frames_read.inc()
            if frame.latency_ms is not None:
                self._prom.latency_ms.observe(frame.latency_ms)
        if redelivered and self._prom_cp is not None:
            self._prom_cp.redelivered.inc()

    def _mark_in_flight(self, number: str, producer_ms: Optional[int]) -> Checkpoint:
        base = self._checkpoint
        if base is None or not base.fragment_number:
            # Nothing complete yet: remember where the in-flight fragment starts, to resume at it.
            return Checkpoint(self.camera_id, "", None, producer_ms, in_flight=number)
        return replace(base, in_flight=number, updated_ms=0)

    def _fragment_end(self, fragment: Any, decoder: FrameDecoder, clock: ProducerClock) -> None:
        """A fragment is complete in the stream: drain the decoder, then checkpoint it."""
        number = fragment.fragment_number
        if number is None or self._already_delivered(number):
            return
        self._deliver_all(decoder.flush(), clock)
        producer = fragment.producer_timestamp_ms
        self._save(Checkpoint(self.camera_id, number, fragment.continuation_token,
                              self._fragment_producer_ms if producer is None else producer))
        self._skip_through = fragment_order(number)  # a resumed connection may send it again
        self._skip_before = None
        self._counts["completed"] += 1
        if self._prom_cp is not None and producer is not None:
            self._prom_cp.producer_time_ms.set(producer)

    def _save(self, checkpoint: Checkpoint) -> None:
        written = self._store_call(lambda: self.store.save(checkpoint))
        if written is None:  # stopping
            return
        if not written:
            raise CameraSupersededError(
                f"camera {self.camera_id}: the store holds a newer checkpoint than fragment "
                f"{checkpoint.fragment_number or checkpoint.in_flight}: another instance of this camera is "
                "running; this one stops")
        self._checkpoint = checkpoint
        if self._prom_cp is not None:
            self._prom_cp.saves.inc()

    def _store_call(self, call: Callable[[], Any]) -> Any:
        """`call()`, retried with backoff while the store fails; None once stop() was called."""
        delay, max_delay = self._store_delays
        while True:
            try:
                return call()
            except CheckpointStoreError as error:
                self._counts["errors"] += 1
                if self._prom_cp is not None:
                    self._prom_cp.errors.inc()
                log.warning("camera %s: %s (retrying in %.1f s)", self.camera_id, error, delay)
            if self._stopping.wait(delay):
                return None
            delay = min(max_delay, delay * 2)

    def _publish(self, stream: GetMediaStream, decoder: FrameDecoder) -> None:
        prom = self._prom
        if prom is None:
            return
        counters = stream.counters
        now = (counters.bytes, counters.resets, counters.parse_errors)
        before = self._published
        self._published = now
        prom.bytes_read.inc(now[0] - before[0])
        prom.connection_resets.inc(now[1] - before[1])
        prom.parse_errors.inc(now[2] - before[2])
        decode_errors = decoder.stats.decode_errors
        prom.decode_errors.inc(decode_errors - self._decode_errors_published)
        self._decode_errors_published = decode_errors
        if counters.millis_behind_now is not None:
            prom.millis_behind_now.set(counters.millis_behind_now)
