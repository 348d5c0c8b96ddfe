"""The frame a source hands to user code, and the snapshot get_metrics() returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from .._recorders import LatencySummary


@dataclass(frozen=True)
class SourceFrame:
    """One decoded picture with where and when it came from; the same fields, with the same meaning, from
    the GetMedia and the HLS sources.

    ``pts_ms``: the frame's presentation time in epoch milliseconds on the producer's clock, i.e.
    ``producer_time_ms`` (GetMedia: the fragment's producer timestamp plus the frame's offset in the
    fragment; HLS fMP4: the media timestamp, which KVS sets from the producer timestamps). Only when the
    stream carries no producer time (HLS MPEG-TS) is it the container's timeline, as ``media_time_ms``.
    ``media_time_ms``: the timestamp on the container's own timeline (GetMedia: Cluster + Block timecode,
    which a producer may start at 0; HLS: the segment media time). ``producer_timestamp_ms`` and
    ``server_timestamp_ms``: the fragment's, as KVS tags them. ``latency_ms``: the wall clock at read()
    minus ``producer_time_ms``. Producer times and latency are None when the stream carries none.

    ``frame_index``: the position in its fragment (from 0) of the frame the picture was decoded from, the
    same whatever sampling kept (GetMedia). ``redelivered`` marks a picture of the fragment that was in
    flight when a checkpointed camera last stopped, which may have been delivered before.
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
    media_time_ms: Optional[int] = None
    frame_index: Optional[int] = None
    redelivered: bool = False

    def __repr__(self) -> str:  # the image as its shape, not its pixels
        shape = getattr(self.image, "shape", None)
        dtype = getattr(self.image, "dtype", None)
        image = f"<{type(self.image).__name__} shape={shape} dtype={dtype}>"
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _REPR_FIELDS)
        return f"SourceFrame(camera_id={self.camera_id!r}, image={image}, {fields})"


_REPR_FIELDS = ("pixel_format", "width", "height", "pts_ms", "is_keyframe", "producer_time_ms", "fragment_number",
                "latency_ms", "frame_index", "redelivered")


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
    frames_dropped: int  # by a full queue (live delivery)
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
    frames_redelivered: int = 0  # of the fragment in flight at the last stop (checkpointed sources)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
