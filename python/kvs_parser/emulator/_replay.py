"""Replays a recording as a live camera: looping, paced at its own timestamps, fresh fragments each time.

Each pass over the file produces new fragments (new numbers, producer timestamps from the wall clock at
their first frame, server timestamps when they arrive), so a GetMedia reader sees what a camera streaming
that footage for ever would send. Block timecodes keep growing across passes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Tuple

from ..mkv import Block
from ._sources import FileMedia
from ._store import Stream, now_ms


def loop_duration_ms(media: FileMedia) -> int:
    """How long one pass lasts: from the first frame to the last plus one frame interval."""
    first = media.fragments[0][0].timecode
    last_fragment = media.fragments[-1]
    last = last_fragment[-1].timecode
    video = [f.timecode for frames in media.fragments for f in frames if f.track == media.fragments[0][0].track]
    step = (video[-1] - video[0]) / max(1, len(video) - 1) if len(video) > 1 else 1000 / 30
    return max(1, round(last - first + step))


@dataclass
class ReplayFeeder:
    """Feeds `stream` from `media` on its own thread until stopped (or after `passes` passes)."""

    stream: Stream
    media: FileMedia
    next_number: Callable[[], int]
    fragment_size: Callable[[Stream, int], int]
    passes: Optional[int] = None  # None: loop for ever
    phase_ms: int = 0  # the first frame goes out this much later (see Emulator.add_replay_stream)
    stop: threading.Event = field(default_factory=threading.Event)
    _thread: Optional[threading.Thread] = field(default=None, init=False)

    def start(self) -> None:
        if not self.media.fragments:
            raise ValueError("nothing to replay: the recording has no fragment")
        self._thread = threading.Thread(target=self._run, name=f"kvs-emu-replay-{self.stream.name}", daemon=True)
        self._thread.start()

    def join(self, timeout: float = 5.0) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        fragments = self.media.fragments
        origin = fragments[0][0].timecode
        period = loop_duration_ms(self.media)
        try:
            if self.phase_ms > 0 and self.stop.wait(self.phase_ms / 1000):
                return
            epoch_ms = now_ms()  # producer clock at the first frame
            start = time.monotonic()
            passes = 0
            while not self.stop.is_set() and (self.passes is None or passes < self.passes):
                shift = passes * period - origin  # timecodes continue from the previous pass
                for frames in fragments:
                    if not self._feed(frames, shift, start, epoch_ms):
                        return
                passes += 1
        finally:
            self.stream.close()

    def _feed(self, frames: Tuple[Block, ...], shift: int, start: float, epoch_ms: int) -> bool:
        """One fragment, each frame released at its timestamp; False once stopped."""
        first = frames[0].timecode + shift
        fragment = self.stream.begin_fragment(self.next_number(), epoch_ms + first, first)
        try:
            for frame in frames:
                timecode = frame.timecode + shift
                delay = start + timecode / 1000 - time.monotonic()  # a fixed schedule: no drift
                if delay > 0 and self.stop.wait(delay):
                    return False
                self.stream.append_frame(fragment, replace(frame, timecode=timecode))
        finally:
            self.stream.end_fragment(fragment, self.fragment_size(self.stream, fragment.seq))
        return True

