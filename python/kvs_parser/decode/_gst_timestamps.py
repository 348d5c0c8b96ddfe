"""The timestamp each block is pushed with: the picture that comes out with it is that block's.

Decoders hand pictures out in presentation order with the timestamp of the block they came from, so a
block's own presentation time is used (in nanoseconds), kept rising: a keyframe that goes back in time
(a stream restarted by its producer, a replayed recording) is moved after everything pushed before it,
since some decoders rewrite timestamps that go backwards. Keyframes start a new group of pictures, so
moving one moves its group with it.
"""

from __future__ import annotations

from dataclasses import dataclass

NS_PER_MS = 1_000_000


@dataclass
class Timestamps:
    shift_ns: int = 0
    last_ns: int = -1

    def stamp(self, pts_ms: int, keyframe: bool) -> int:
        pts_ns = max(pts_ms, 0) * NS_PER_MS + self.shift_ns
        if keyframe and pts_ns <= self.last_ns:
            self.shift_ns += self.last_ns - pts_ns + NS_PER_MS
            pts_ns = self.last_ns + NS_PER_MS
        if pts_ns == self.last_ns:
            pts_ns += 1  # two blocks with one millisecond timestamp still get pictures of their own
        self.last_ns = max(self.last_ns, pts_ns)
        return pts_ns
