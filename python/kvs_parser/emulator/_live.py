"""Feeds a stream from a SyntheticCamera in real time, frame by frame, on its own thread."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..mkv import Block
from ._camera import SyntheticCamera
from ._store import Stream, now_ms


@dataclass
class LiveFeeder:
    stream: Stream
    camera: SyntheticCamera
    next_number: Callable[[], int]
    fragment_size: Callable[[Stream, int], int]  # bytes of a finished fragment, for ListFragments
    stop: threading.Event = field(default_factory=threading.Event)
    _thread: Optional[threading.Thread] = field(default=None, init=False)

    def start(self) -> None:
        self.camera.fragment(0)  # encode ahead so the first frame is on time
        name = f"kvs-emu-live-{self.stream.name}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def join(self, timeout: float = 5.0) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        camera = self.camera
        per_fragment = camera.frames_per_fragment
        epoch_ms = now_ms()  # producer clock at frame 0
        start = time.monotonic()
        index = 0
        try:
            while not self.stop.is_set() and (camera.max_frames is None or index < camera.max_frames):
                fragment_index = index // per_fragment
                pause = camera.pause_before(fragment_index) if index % per_fragment == 0 else 0.0
                if pause and self.stop.wait(pause):
                    break
                start += pause  # the schedule resumes after the pause instead of catching up
                gop = camera.fragment(fragment_index)
                timecode = camera.timecode(index)
                fragment = self.stream.begin_fragment(self.next_number(), epoch_ms + timecode, timecode)
                for offset, data in enumerate(gop.packets):
                    # Release each frame at its capture time on a fixed schedule (no drift).
                    delay = start + index * camera.frame_interval - time.monotonic()
                    if delay > 0 and self.stop.wait(delay):
                        break
                    frame = Block(1, camera.timecode(index), data, keyframe=offset == 0)
                    self.stream.append_frame(fragment, frame)
                    index += 1
                    if camera.max_frames is not None and index >= camera.max_frames:
                        break
                    if offset == 1:
                        camera.fragment(fragment_index + 1)  # encode ahead, between frames
                self.stream.end_fragment(fragment, self.fragment_size(self.stream, fragment.seq))
        finally:
            self.stream.close()
