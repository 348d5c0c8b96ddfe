"""KVSGetMediaFrameSource: GetMedia -> native parser -> decoder -> queue, on one reader thread."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Optional, Union

from ..checkpoint import CheckpointKeeper, CheckpointStore, ResumePlan
from ..decode import BackendRegistry, DecodedPicture, DecodeOptions, FrameDecoder
from ..getmedia import GetMediaClient, GetMediaStream, RetryPolicy, resolve_aws
from ..queue import QueuePolicy
from ._base import FrameSource
from ._delivery import Delivery
from ._fragments import FragmentEnd, FragmentGate, FramePositions
from ._options import StartSpec, as_start_selector, merge_decode_options
from ._timing import ProducerClock

if TYPE_CHECKING:
    from ..checkpoint._metrics import CheckpointMetrics
    from ..metrics import KVSMetrics

PUBLISH_INTERVAL = 0.25  # seconds between counter updates from the reader thread


class KVSGetMediaFrameSource(FrameSource):
    """Decoded frames of one KVS stream read live with GetMedia, milliseconds behind the producer.

    >>> with KVSGetMediaFrameSource("door", stream_name="front-door", region="eu-west-1") as source:
    ...     ok, image = source.read_frame()          # OpenCV style, bgr24 by default
    ...     frame = source.read(timeout=2.0)         # SourceFrame: image, pts_ms, latency_ms, ...

    ``session``: a boto3 Session (default: the usual credential chain); ``endpoint_url``: a kinesisvideo
    endpoint instead of AWS (e.g. the emulator; on a loopback address, placeholder credentials and region
    are used when none are configured). A missing region or credentials or a malformed endpoint URL raises
    a ``ConfigurationError`` here, in the constructor. ``max_fragment_age_seconds`` skips fragments already
    that old when they arrive (a backlog after a reconnect). ``follow=False`` ends at the end of the data;
    ``keep_polling=False`` ends a followed stream after ``retry.max_attempts`` responses with no new data.
    ``read_timeout`` bounds the wait for response headers and for each read; ``silence_timeout`` the
    silence of a live connection before it is resumed (None: 3 fragment durations, 2 s to read_timeout).

    ``delivery``: ``live`` (a full queue drops its oldest picture) or ``complete`` (a full queue stops the
    reading: back-pressure, nothing dropped); without it ``queue_policy`` applies. ``checkpoint``: a
    CheckpointStore (``kvs_parser.checkpoint.open_store(url)``): the source takes the camera's lease,
    starts after the last fragment completely read before (the start selector applies only without a
    checkpoint), and records each fragment as read() hands it out; pictures of the fragment in flight at
    the last stop come again marked ``redelivered``. A runner that lost the lease ends with
    ``CameraSupersededError``.
    """

    def __init__(
        self,
        camera_id: str,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        region: Optional[str] = None,
        start_selector: StartSpec = "NOW",
        *,
        session: Any = None,
        endpoint_url: Optional[str] = None,
        decode_options: Optional[DecodeOptions] = None,
        pixel_format: Optional[str] = None,
        width: Optional[int] = None,
        height: Optional[int] = None,
        fps_target: Optional[float] = None,
        keyframes_only: Optional[bool] = None,
        backend: str = "pyav",
        device: Optional[int] = None,
        backend_registry: Optional[BackendRegistry] = None,
        queue_max_size: int = 30,
        queue_policy: Union[QueuePolicy, str] = QueuePolicy.DROP_OLDEST,
        queue_timeout: Optional[float] = 1.0,
        metrics: Optional[KVSMetrics] = None,
        retry: Optional[RetryPolicy] = None,
        max_fragment_age_seconds: Optional[float] = None,
        chunk_size: int = 64 * 1024,
        follow: bool = True,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        silence_timeout: Optional[float] = None,
        keep_polling: bool = True,
        delivery: Union[Delivery, str, None] = None,
        checkpoint: Optional[CheckpointStore] = None,
        checkpoint_owner: Optional[str] = None,
        checkpoint_metrics: Optional[CheckpointMetrics] = None,
    ) -> None:
        super().__init__(camera_id, queue_max_size=queue_max_size, queue_policy=queue_policy,
                         queue_timeout=queue_timeout, metrics=metrics, delivery=delivery)
        if checkpoint is not None:
            self._keeper = CheckpointKeeper(
                checkpoint, camera_id, owner=checkpoint_owner, stopping=self._stopping,
                metrics=None if checkpoint_metrics is None else checkpoint_metrics.camera(camera_id))
        if bool(stream_name) == bool(stream_arn):
            raise ValueError("give exactly one of stream_name and stream_arn")
        self.stream_name, self.stream_arn, self.region = stream_name, stream_arn, region
        self.start_selector = as_start_selector(start_selector)
        self.decode_options = merge_decode_options(decode_options, pixel_format=pixel_format, width=width,
                                                   height=height, fps_target=fps_target,
                                                   keyframes_only=keyframes_only, device=device)
        target = resolve_aws(session, region=region, endpoint_url=endpoint_url)
        self._session, self._endpoint_url, self.region = target.session, target.endpoint_url, target.region
        self._keep_polling = keep_polling
        self._backend, self._registry = backend, backend_registry
        self._retry = retry or RetryPolicy()
        self._max_age_ms = None if max_fragment_age_seconds is None else max_fragment_age_seconds * 1000
        self._chunk_size, self._follow = chunk_size, follow
        self._timeouts = (connect_timeout, read_timeout)
        self._silence_timeout = silence_timeout
        self._stream: Optional[GetMediaStream] = None
        # Checked now, so a bad backend name fails in the constructor rather than on the reader thread.
        FrameDecoder(self.decode_options, backend, backend_registry).close()

    def _interrupt(self) -> None:
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.stop(timeout=0)  # cuts the blocked read or request; our own thread is joined by stop()

    def _produce(self) -> None:
        plan = ResumePlan(self.start_selector)
        if self._keeper is not None:
            begun = self._keeper.begin(self.start_selector)
            if begun is None:  # stopped while the store was unreachable
                return
            plan = begun
        self.resumed_after = plan.resumed_after
        decoder = FrameDecoder(self.decode_options, self._backend, self._registry)
        clock = ProducerClock()
        gate = FragmentGate(plan, self._max_age_ms)
        positions = FramePositions()

        def emit_all(pictures: list[DecodedPicture]) -> None:
            for picture in pictures:
                number = picture.fragment_number
                self._emit(picture, clock.producer_time_ms(picture), positions.take(picture),
                           number is not None and number == plan.redeliver)

        def fragment_end(fragment: Any) -> None:
            """Every picture of the fragment goes out before its end (fragments open with a keyframe)."""
            number = fragment.fragment_number
            if number is None or gate.plan.already_delivered(number):
                return
            emit_all(decoder.flush())
            gate.completed(number)
            self._emit_fragment_end(FragmentEnd(number, fragment.continuation_token,
                                                fragment.producer_timestamp_ms))

        client = GetMediaClient(self._session, region_name=self.region, endpoint_url=self._endpoint_url,
                                connect_timeout=self._timeouts[0], read_timeout=self._timeouts[1],
                                retry=self._retry)
        try:
            stream = client.stream(self.stream_name, stream_arn=self.stream_arn, start=plan.start,
                                   on_tracks=lambda tracks: emit_all(decoder.update_tracks(tracks)),
                                   on_fragment=fragment_end, read_size=self._chunk_size, follow=self._follow,
                                   keep_polling=self._keep_polling, silence_timeout=self._silence_timeout)
            with self._lock:
                self._stream = stream
            if self._stopping.is_set():
                return
            next_publish = time.monotonic() + PUBLISH_INTERVAL
            for frame in stream.frames():
                if gate.skip(frame):
                    continue
                clock.note(frame)
                positions.note(frame)
                emit_all(decoder.decode(frame))
                if self._stopping.is_set():
                    break
                if time.monotonic() >= next_publish:
                    next_publish = time.monotonic() + PUBLISH_INTERVAL
                    self._publish_from(stream, decoder, gate)
            if not self._stopping.is_set():
                emit_all(decoder.flush())  # the end of the data: pictures the decoder still holds
        finally:
            with self._lock:
                started = self._stream
            if started is not None:  # also when the stream failed: its resets count
                self._publish_from(started, decoder, gate)
            decoder.close()
            client.close()

    def _publish_from(self, stream: GetMediaStream, decoder: FrameDecoder, gate: FragmentGate) -> None:
        counters, stats = stream.counters, decoder.stats
        self._set_counters(bytes=counters.bytes, parse_errors=counters.parse_errors,
                           decode_errors=stats.decode_errors, connection_resets=counters.resets,
                           frames_sampled_out=stats.frames_sampled_out, frames_stale=gate.stale_frames,
                           millis_behind_now=counters.millis_behind_now)
