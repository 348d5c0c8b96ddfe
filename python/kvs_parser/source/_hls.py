"""KVSHLSFrameSource: the HLS fallback (GetHLSStreamingSessionURL played by PyAV), same interface.

Seconds behind live rather than milliseconds (segments are whole fragments, and the playlist is polled),
but it needs only the archived-media permissions and works where HLS is already the contract.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any, Optional, Union

from .._extras import missing_extra

try:
    import av
except ImportError as error:
    raise missing_extra("decode", error) from error

from .._aws.backoff import Backoff
from .._aws.endpoint import EndpointResolver, client_config, stream_ref
from .._aws.errors import classify
from .._redact import redact, scrubbed_error
from ..decode import DecodedPicture, DecodeOptions, FpsSampler
from ..decode._pyav_backend import output_size
from ..errors import KVSError, NonRetryableError
from ..getmedia import RetriesExhaustedError, RetryPolicy, resolve_aws
from ..queue import QueuePolicy
from ._base import FrameSource
from ._hls_session import playback_request, session_url
from ._options import StartSpec, as_start_selector, merge_decode_options

if TYPE_CHECKING:
    from ..metrics import KVSMetrics

log = logging.getLogger(__name__)

# Media timestamps at or past 2001-09-09 are absolute epoch milliseconds (KVS puts producer timestamps in
# fMP4 segments); smaller ones are a stream-relative timeline that says nothing about wall-clock time.
EPOCH_MS_FLOOR = 1_000_000_000_000
MEDIA_ERROR = "media error"  # FFmpeg could not open or read the session (expired URL, 403/404, bad data)

log = logging.getLogger(__name__)


class NoVideoYetError(KVSError):
    """The HLS session opened with no video stream in it (a live playlist with nothing yet)."""


def hls_failure_class(failure: BaseException) -> Union[str, NonRetryableError, None]:
    """errors.classify, plus FFmpeg's errors: transient (the session URL expires, a segment may be
    missing for a moment), retried with the same backoff."""
    if isinstance(failure, (av.error.FFmpegError, NoVideoYetError)):
        return MEDIA_ERROR
    return classify(failure)


class KVSHLSFrameSource(FrameSource):
    """Decoded frames of one KVS stream over HLS, with KVSGetMediaFrameSource's interface and metrics.

    ``container_format``: ``FRAGMENTED_MP4`` (default; carries producer timestamps, so latency is known)
    or ``MPEG_TS`` (33-bit timestamps cannot hold wall-clock time: latency is not reported).
    A reconnect resumes after the last frame delivered (by timestamp), so frames are not repeated.
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
        queue_max_size: int = 30,
        queue_policy: Union[QueuePolicy, str] = QueuePolicy.DROP_OLDEST,
        queue_timeout: Optional[float] = 1.0,
        metrics: Optional[KVSMetrics] = None,
        retry: Optional[RetryPolicy] = None,
        container_format: str = "FRAGMENTED_MP4",
        connect_timeout: float = 5.0,
        read_timeout: float = 5.0,
    ) -> None:
        """`read_timeout` also bounds stop(): FFmpeg's HLS reader can only be woken by its own timeout."""
        super().__init__(camera_id, queue_max_size=queue_max_size, queue_policy=queue_policy,
                         queue_timeout=queue_timeout, metrics=metrics, stop_timeout=read_timeout + 5)
        self._ref = stream_ref(stream_name, stream_arn)
        self.stream_name, self.stream_arn, self.region = stream_name, stream_arn, region
        self.start_selector = as_start_selector(start_selector)
        self.decode_options = merge_decode_options(decode_options, pixel_format=pixel_format, width=width,
                                                   height=height, fps_target=fps_target,
                                                   keyframes_only=keyframes_only)
        if container_format not in ("FRAGMENTED_MP4", "MPEG_TS"):
            raise ValueError(f"container_format must be FRAGMENTED_MP4 or MPEG_TS, not {container_format!r}")
        self.container_format = container_format
        target = resolve_aws(session, region=region, endpoint_url=endpoint_url)  # a ConfigurationError now
        self._session, self._endpoint_url, self.region = target.session, target.endpoint_url, target.region
        self._backoff = Backoff(retry or RetryPolicy(), random.Random())
        self._timeouts = (connect_timeout, read_timeout)
        self._sampler = FpsSampler(self.decode_options.fps_target)
        self._last_pts: Optional[int] = None
        self._totals = {"bytes": 0, "decode_errors": 0, "parse_errors": 0, "connection_resets": 0,
                        "frames_sampled_out": 0}

    def _produce(self) -> None:
        try:
            self._play_sessions()
        except Exception as error:
            failure = scrubbed_error(error)
        else:
            return
        # Raised here, outside the handler, so that the raw error (FFmpeg's holds the session URL with
        # its SessionToken) is not linked back in as the __context__ of what the source reports.
        raise failure

    def _play_sessions(self) -> None:
        resolver = EndpointResolver(self._session, self._endpoint_url, self.region,
                                    client_config(*self._timeouts))
        try:
            while not self._stopping.is_set():
                try:
                    request = playback_request(self.start_selector, self._ref, resolver, self.container_format)
                    url = session_url(resolver, self._ref, request)
                    if self._play(url, request["PlaybackMode"]):
                        return  # the playlist ended (EXT-X-ENDLIST), or stop()
                except Exception as failure:
                    if self._stopping.is_set():
                        return
                    kind = hls_failure_class(failure)
                    if isinstance(kind, NonRetryableError):
                        if kind is failure:
                            raise
                        raise kind from failure
                    if kind is None:
                        raise
                    self._reconnect_after(kind, failure)
        finally:
            resolver.close()
            self._set_counters(**self._totals)

    def _reconnect_after(self, kind: str, failure: Exception) -> None:
        delay = self._backoff.next_delay()
        if delay is None:
            raise RetriesExhaustedError(
                f"HLS gave up after {self._backoff.failures} attempts without progress ({kind})",
            ) from failure
        self._totals["connection_resets"] += 1
        self._set_counters(**self._totals)
        bound = self._backoff.policy.max_attempts
        log.warning("camera %s: HLS %s, %s: %s; retrying in %.2f s (attempt %d of %s)", self.camera_id, kind,
                    type(failure).__name__, redact(str(failure)), delay, self._backoff.failures,
                    bound or "unbounded")
        self._stopping.wait(delay)

    def _play(self, url: str, mode: str) -> bool:
        """Plays one session; True at its end or on stop(), raises on a failure worth a reconnect."""
        # FFmpeg starts a live playlist 3 segments before its end; a replay must start at its beginning.
        options = {"live_start_index": "0"} if mode == "LIVE_REPLAY" else {}
        with av.open(url, timeout=self._timeouts, options=options) as container:
            if not container.streams.video:
                raise NoVideoYetError("the HLS session has no video stream yet")
            video = container.streams.video[0]
            # Slice threads only in low-latency mode: frame threads hold pictures back.
            video.thread_type = "SLICE" if self.decode_options.latency == "low" else "AUTO"
            if self.decode_options.keyframes_only:
                video.codec_context.skip_frame = "NONKEY"
            for packet in container.demux(video):
                if self._stopping.is_set():
                    return True
                self._totals["bytes"] += packet.size
                try:
                    pictures = packet.decode()
                except av.error.InvalidDataError:
                    self._totals["decode_errors"] += 1
                    continue
                for picture in pictures:
                    if not self._deliver(picture):
                        return True
                self._set_counters(**self._totals)
        return True

    def _deliver(self, picture: av.VideoFrame) -> bool:
        if picture.pts is None or picture.time is None:
            return True
        pts_ms = round(picture.time * 1000)
        if self._last_pts is not None and pts_ms <= self._last_pts:
            return True  # a reconnect's playlist repeats what was already delivered
        self._last_pts = pts_ms
        self._backoff.reset()
        if not self._sampler.keep(pts_ms):
            self._totals["frames_sampled_out"] += 1
            return True
        options = self.decode_options
        width, height = output_size(options, picture.width, picture.height)
        image = picture.to_ndarray(format=options.pixel_format, width=width, height=height)
        absolute = pts_ms >= EPOCH_MS_FLOOR
        decoded = DecodedPicture(image=image, pixel_format=options.pixel_format, width=width, height=height,
                               track_number=1, pts_ms=pts_ms, is_keyframe=bool(picture.key_frame),
                               producer_timestamp_ms=pts_ms if absolute else None)
        return self._emit(decoded, pts_ms if absolute else None)
