"""In-memory streams: fragments that grow frame by frame, and readers that wait for them.

One Condition per stream guards its fragments; producers notify on every frame so a GetMedia reader
wakes as soon as a frame is "captured".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from ..mkv import Block, FragmentInfo, TrackSpec
from ._hooks import FrameAppended, Hooks

# Real fragment numbers are 47-digit decimals that grow by 2**92 per fragment (see the fixtures).
FRAGMENT_NUMBER_BASE = 91343852333181432392682062607743920146159169392
FRAGMENT_NUMBER_STEP = 1 << 92


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Fragment:
    number: int
    seq: int  # position in the stream, counting fragments dropped by retention
    producer_ms: int
    server_ms: int
    start_timecode: int
    frames: List[Block] = field(default_factory=list)
    complete: bool = False
    size_bytes: int = 0

    @property
    def info(self) -> FragmentInfo:
        return FragmentInfo(str(self.number), self.server_ms, self.producer_ms)

    @property
    def duration_ms(self) -> int:
        if not self.frames:
            return 0
        last = self.frames[-1]
        return last.timecode - self.start_timecode + (last.duration or 0)

    @property
    def end_server_ms(self) -> int:
        return self.server_ms + self.duration_ms


@dataclass
class Stream:
    name: str
    arn: str
    tracks: Tuple[TrackSpec, ...]
    live: bool
    media_type: str = "video/h264"
    creation_time: float = field(default_factory=time.time)
    retention_fragments: int = 2000
    fragments: List[Fragment] = field(default_factory=list)
    dropped: int = 0  # fragments removed from the front by retention
    closed: bool = False
    deleted: bool = False
    cond: threading.Condition = field(default_factory=threading.Condition, repr=False)
    hooks: Optional[Hooks] = field(default=None, repr=False)  # the emulator's, told of each frame appended

    # -- producer side (call with no lock held) --
    def begin_fragment(self, number: int, producer_ms: int, start_timecode: int) -> Fragment:
        with self.cond:
            seq = self.dropped + len(self.fragments)
            fragment = Fragment(number, seq, producer_ms, now_ms(), start_timecode)
            self.fragments.append(fragment)
            if len(self.fragments) > self.retention_fragments:
                self.fragments.pop(0)
                self.dropped += 1
            self.cond.notify_all()
            return fragment

    def append_frame(self, fragment: Fragment, frame: Block) -> None:
        if self.hooks is not None and self.hooks.frame_appended:
            produced_ms = fragment.producer_ms + frame.timecode - fragment.start_timecode
            self.hooks.frame_appended.fire(FrameAppended(self.name, fragment.number, produced_ms, frame))
        with self.cond:
            fragment.frames.append(frame)
            self.cond.notify_all()

    def end_fragment(self, fragment: Fragment, size_bytes: int) -> None:
        with self.cond:
            fragment.complete = True
            fragment.size_bytes = size_bytes
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    # -- reader side --
    def fragment_at(self, seq: int) -> Optional[Fragment]:
        """The fragment at stream position `seq`, None if not produced yet (or dropped)."""
        with self.cond:
            index = seq - self.dropped
            return self.fragments[index] if 0 <= index < len(self.fragments) else None

    def wait_closed(self, timeout: float) -> bool:
        """Wait until the stream stops producing (a camera's max_frames reached); False on timeout."""
        with self.cond:
            return self.cond.wait_for(lambda: self.closed, timeout)

    def wait_fragment(self, seq: int, timeout: float) -> Optional[Fragment]:
        with self.cond:
            self.cond.wait_for(lambda: self.closed or seq - self.dropped < len(self.fragments), timeout)
            return self.fragment_at(seq)

    def wait_frames(self, fragment: Fragment, have: int, timeout: float) -> Tuple[List[Block], bool]:
        """Frames after the first `have` (waiting up to `timeout` for one); whether the fragment is done."""
        with self.cond:
            done = lambda: fragment.complete or self.closed or len(fragment.frames) > have  # noqa: E731
            self.cond.wait_for(done, timeout)
            return fragment.frames[have:], fragment.complete or self.closed

    def snapshot(self) -> List[Fragment]:
        with self.cond:
            return list(self.fragments)

    @property
    def head_seq(self) -> int:
        """Stream position one past the newest fragment."""
        with self.cond:
            return self.dropped + len(self.fragments)

    def find(self, number: int) -> Optional[Fragment]:
        with self.cond:
            return next((f for f in self.fragments if f.number == number), None)
