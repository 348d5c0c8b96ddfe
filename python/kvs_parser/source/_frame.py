"""The frame a source hands to user code, and the snapshot get_metrics() returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from .._recorders import LatencySummary


@dataclass(frozen=True)
class SourceFrame:
    """One decoded picture with where and when it came from.

    ``producer_time_ms`` is this frame's own producer time (the fragment's producer timestamp plus the
    frame's offset in it, or an absolute HLS timestamp); ``latency_ms`` is the wall clock at read() minus
    it. Both are None when the stream does not carry a producer time.
    """

    camera_id: str
    image: Any  # numpy array (h, w, 3) for rgb24/bgr24, (h, w) for gray, (h*3/2, w) for yuv420p
    pixel_format: str
    width: int
    height: int
    pts_ms: int
    is_keyframe: bool
    track_number: int = 1
    producer_time_ms: Optional[int] = None
    producer_timestamp_ms: Optional[int] = None  # the fragment's, as tagged by KVS
    server_timestamp_ms: Optional[int] = None  # the fragment's, as tagged by KVS
    fragment_number: Optional[str] = None
    decoded_time_ms: float = 0.0  # wall clock when the picture left the decoder
    latency_ms: Optional[float] = None


@dataclass(frozen=True)
class SourceCounters:
    """The stream-side counts a source's reader thread publishes (each a total since start)."""

    bytes: int = 0
    parse_errors: int = 0
    decode_errors: int = 0
    connection_resets: int = 0
    frames_sampled_out: int = 0  # kept out by fps_target
    frames_stale: int = 0  # skipped by max_fragment_age_seconds
    millis_behind_now: Optional[int] = None


@dataclass(frozen=True)
class SourceMetrics:
    """``get_metrics()``: latency percentiles over the recent frames read, rates and totals."""

    camera_id: str
    latency_ms: LatencySummary
    fps: float
    frames_read: int
    frames_dropped: int  # by a full queue
    frames_sampled_out: int
    frames_stale: int
    decode_errors: int
    parse_errors: int
    connection_resets: int
    bytes: int
    millis_behind_now: Optional[int]
    queue_size: int
    running: bool
    error: Optional[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
