"""How long a live GetMedia connection may stay silent before it counts as half-open.

A server that stops sending while TCP stays up would otherwise hold a camera dark for the whole read
timeout. Fragments arrive every fragment duration D (a frame every 1/fps within one), so silence over a
few D means the connection, not the camera, is stuck; it is then resumed from the continuation token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

FRAGMENTS_OF_SILENCE = 3.0  # fragment durations without a byte before a connection counts as silent
MIN_SILENCE = 2.0  # seconds: never below (jitter, GC pauses, a producer's uneven fragments)
MAX_FRAGMENT_MS = 60_000  # fragment spacings beyond this are gaps in the stream, not a duration


@dataclass
class SilenceBound:
    """The bound for one stream: `fixed` seconds, else FRAGMENTS_OF_SILENCE x the observed fragment
    duration within [MIN_SILENCE, ceiling]; `ceiling` (the client's read_timeout) until one is seen."""

    ceiling: float
    fixed: Optional[float] = None
    fragment_ms: Optional[int] = None  # the newest spacing between consecutive fragments' producer times
    _last_fragment: Optional[str] = None
    _last_producer_ms: Optional[int] = None

    def seconds(self) -> float:
        if self.fixed is not None:
            return self.fixed
        if self.fragment_ms is None:
            return self.ceiling
        return min(self.ceiling, max(MIN_SILENCE, FRAGMENTS_OF_SILENCE * self.fragment_ms / 1000))

    def observe(self, frame: Any) -> bool:
        """Notes a frame's fragment; True when the bound changed."""
        number, produced = frame.fragment_number, frame.producer_timestamp_ms
        if number is None or produced is None or number == self._last_fragment:
            return False
        before = self.seconds()
        if self._last_producer_ms is not None and 0 < produced - self._last_producer_ms <= MAX_FRAGMENT_MS:
            self.fragment_ms = produced - self._last_producer_ms
        self._last_fragment, self._last_producer_ms = number, produced
        return self.seconds() != before
