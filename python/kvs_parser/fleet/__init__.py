"""Many cameras on one machine: cameras sharded over worker processes (one interpreter lock each), a
shared-memory ring per camera for a consumer in the parent, one /metrics, restarts that lose no frame.

`CameraRunner` is the unit all of it is built from (one camera: source -> hook); it runs anywhere a
thread can (a worker process here, a Ray actor elsewhere).
"""

from __future__ import annotations

from ._fleet import Fleet, default_workers, shard
from ._progress import DeliveryTracker, ProgressTable, ResumePoint
from ._ring import FrameRing, RingClosed, RingFrame
from ._runner import CameraRunner, Hook, StopCamera

__all__ = [
    "CameraRunner",
    "DeliveryTracker",
    "Fleet",
    "FrameRing",
    "Hook",
    "ProgressTable",
    "ResumePoint",
    "RingClosed",
    "RingFrame",
    "StopCamera",
    "default_workers",
    "shard",
]
