"""A frame's own producer time, from its fragment's producer timestamp and its place in the fragment."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Optional

from ..decode import DecodedPicture


def now_ms() -> float:
    return time.time() * 1000


def frame_producer_time_ms(frame: DecodedPicture, cluster_pts_ms: Optional[int]) -> Optional[int]:
    """The fragment's producer timestamp plus the frame's offset within the fragment."""
    if frame.producer_timestamp_ms is None or cluster_pts_ms is None:
        return None
    return frame.producer_timestamp_ms + (frame.pts_ms - cluster_pts_ms)


@dataclass
class ProducerClock:
    """Remembers each recent fragment's cluster pts (bounded) so decoded pictures get their producer time.

    Pictures may leave the decoder after the next fragment began, hence more than one fragment is kept.
    """

    capacity: int = 64
    _cluster_pts: OrderedDict[str, int] = field(default_factory=OrderedDict, init=False, repr=False)

    def note(self, frame: Any) -> None:
        """Call with each parsed frame before decoding it."""
        number = frame.fragment_number
        if number is None or number in self._cluster_pts:
            return
        self._cluster_pts[number] = frame.pts_ms - frame.timecode
        while len(self._cluster_pts) > self.capacity:
            self._cluster_pts.popitem(last=False)

    def producer_time_ms(self, picture: DecodedPicture) -> Optional[int]:
        cluster = self._cluster_pts.get(picture.fragment_number) if picture.fragment_number else None
        return frame_producer_time_ms(picture, cluster)
