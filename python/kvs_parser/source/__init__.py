"""Frame sources: decoded numpy frames from a KVS stream on a reader thread, read OpenCV-style.

``KVSGetMediaFrameSource`` (GetMedia, milliseconds behind live) and ``KVSHLSFrameSource`` (the HLS
fallback) share one interface: ``start()``/``stop()``/``with``, ``read_frame() -> (ok, image)``,
``read(timeout) -> SourceFrame``, iteration, ``get_metrics()`` and ``error``.
"""

from __future__ import annotations

from ._base import FrameSource
from ._delivery import Delivery
from ._errors import FrameTimeout, SourceEnded, SourceError, SourceNotStarted
from ._factory import source_from_config
from ._frame import SourceCounters, SourceFrame, SourceMetrics
from ._getmedia import KVSGetMediaFrameSource
from ._hls import KVSHLSFrameSource
from ._timing import ProducerClock, frame_producer_time_ms

__all__ = [
    "Delivery",
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
    "frame_producer_time_ms",
    "source_from_config",
]
