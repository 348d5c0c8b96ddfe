"""Frame-rate sampling on stream timestamps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class FpsSampler:
    """Keeps at most ``fps_target`` frames per second of stream time.

    Frames are kept on a fixed schedule (every ``1000 / fps_target`` ms) rather than "interval since the
    last kept frame", so timestamp jitter cannot lower the average rate. A frame a little early (integer
    millisecond timestamps: 30 fps is 33, 33, 34 ms apart) still counts as on time. A gap or a jump
    backwards (a new stream) restarts the schedule at the frame that arrives.
    """

    fps_target: Optional[float] = None
    _next_due_ms: Optional[float] = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.fps_target is not None and not self.fps_target > 0:
            raise ValueError(f"fps_target must be > 0, not {self.fps_target}")

    def keep(self, pts_ms: int) -> bool:
        if self.fps_target is None:
            return True
        interval = 1000.0 / self.fps_target
        due = self._next_due_ms
        if due is None or pts_ms < due - 2 * interval or pts_ms >= due + interval:
            self._next_due_ms = pts_ms + interval
            return True
        if pts_ms >= due - (1.0 + interval / 10):
            self._next_due_ms = due + interval
            return True
        return False

    def reset(self) -> None:
        self._next_due_ms = None
