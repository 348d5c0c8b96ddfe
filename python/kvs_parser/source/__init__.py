"""Frame sources: decoded numpy frames from a KVS stream on a reader thread, read OpenCV-style.

``KVSGetMediaFrameSource`` (GetMedia, milliseconds behind live) and ``KVSHLSFrameSource`` (the HLS
fallback) share one interface: ``start()``/``stop()``/``with``, ``read_frame() -> (ok, image)``,
``read(timeout) -> SourceFrame``, iteration, ``get_metrics()`` and ``error``.
"""

from __future__ import annotations

from .base import FrameSource
from .errors import FrameTimeout, SourceEnded, SourceError, SourceNotStarted
from .factory import session_for, source_from_config
from .frame import SourceCounters, SourceFrame, SourceMetrics
from .getmedia import KVSGetMediaFrameSource
from .hls import KVSHLSFrameSource
from .images import IMAGE_FORMATS, encode_image, write_image
from .options import as_start_selector, merge_decode_options, retry_policy
from .status import format_ms, status_line
from .timing import ProducerClock, frame_producer_time_ms

__all__ = [
    "IMAGE_FORMATS",
    "FrameSource",
    "FrameTimeout",
    "KVSGetMediaFrameSource",
    "KVSHLSFrameSource",
    "ProducerClock",
    "SourceCounters",
    "SourceEnded",
    "SourceError",
    "SourceFrame",
    "SourceMetrics",
    "SourceNotStarted",
    "as_start_selector",
    "encode_image",
    "format_ms",
    "frame_producer_time_ms",
    "merge_decode_options",
    "retry_policy",
    "session_for",
    "source_from_config",
    "status_line",
    "write_image",
]
