"""A synthetic live camera: test-pattern video encoded per fragment, frame index in pixels and timecodes.

Frame i has block timecode round(i * 1000 / fps) ms (TimecodeScale 1 ms), so `index_from_timecode`
recovers i exactly; its picture encodes i too (see `pattern.read_index`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Optional, Tuple

from ..mkv import CODEC_IDS, TRACK_TYPE_VIDEO, TrackSpec
from ._encode import EncodedGop, VideoSpec, encode_gop


def timecode_of(index: int, fps: int) -> int:
    return round(index * 1000 / fps)


def index_from_timecode(timecode_ms: int, fps: int) -> int:
    return round(timecode_ms * fps / 1000)


@dataclass
class SyntheticCamera:
    """Camera settings plus a small cache of encoded fragments (shared by every stream using it)."""

    width: int = 320
    height: int = 240
    fps: int = 30
    bitrate: int = 300_000
    fragment_duration: float = 1.0  # seconds; each fragment opens with a keyframe
    codec: str = "h264"  # or "hevc" (libx265)
    max_frames: Optional[int] = None  # stop producing after this many frames (None: until closed)
    cache_size: int = 32
    pauses: Tuple[Tuple[int, float], ...] = ()  # (fragment index, seconds): stop producing before it
    _cache: OrderedDict[int, EncodedGop] = field(default_factory=OrderedDict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def spec(self) -> VideoSpec:
        return VideoSpec(self.codec, self.width, self.height, self.fps, self.bitrate)

    @property
    def frames_per_fragment(self) -> int:
        return max(1, round(self.fragment_duration * self.fps))

    @property
    def frame_interval(self) -> float:
        return 1.0 / self.fps

    def pause_before(self, fragment_index: int) -> float:
        """Seconds the producer goes quiet before fragment `fragment_index` (a camera that pauses)."""
        return sum(seconds for at, seconds in self.pauses if at == fragment_index)

    def timecode(self, index: int) -> int:
        return timecode_of(index, self.fps)

    def fragment(self, fragment_index: int) -> EncodedGop:
        """Encoded frames of fragment `fragment_index` (cached: replays and other streams reuse them)."""
        with self._lock:
            cached = self._cache.get(fragment_index)
            if cached is not None:
                self._cache.move_to_end(fragment_index)
                return cached
        count = self.frames_per_fragment
        gop = encode_gop(self.spec, fragment_index * count, count)
        with self._lock:
            self._cache[fragment_index] = gop
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return gop

    def track(self) -> TrackSpec:
        return TrackSpec(
            number=1,
            uid=1,
            codec_id=CODEC_IDS[self.codec],
            track_type=TRACK_TYPE_VIDEO,
            codec_private=self.fragment(0).codec_private,
            name="synthetic camera",
            default_duration_ns=round(1e9 / self.fps),
            width=self.width,
            height=self.height,
        )
