"""Many cameras on one machine: cameras sharded over worker processes (one interpreter lock each), a
shared-memory ring per camera for a consumer in the parent, one /metrics, restarts that resume from the
checkpoint store. Each camera is a ``kvs_parser.camera.Camera``, as in every other host.
"""

from __future__ import annotations

from ._fleet import Fleet, default_workers, shard
from ._ring import FrameRing, RingClosed, RingFrame

__all__ = [
    "Fleet",
    "FrameRing",
    "RingClosed",
    "RingFrame",
    "default_workers",
    "shard",
]
