"""Sampling frames by count, ratio or stream-time interval, and KVS tags as a dict per fragment.

What the aws-samples consumer offers for frame extraction, on any frame iterator (a file, a GetMediaStream):

>>> for frame in sample_frames(stream.frames(), interval_ms=1000, keyframes_only=True): ...
>>> for frame, tags in iter_tagged_frames(open("capture.mkv", "rb")): tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"]
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, Iterable, Iterator, NamedTuple, Optional, Union

from ._kvsparser import KVSStreamParser, ParsedFrame
from .decode._sampler import FpsSampler
from .iterators import ByteSource, iter_chunks

TagValue = Union[str, bytes]


@dataclass
class FrameSampler:
    """Keeps a subset of frames: every n-th, a ratio of them, or one per `interval_ms` of stream time
    (at most one criterion), optionally keyframes and one track only. `keep(frame)` decides each frame."""

    every: Optional[int] = None
    ratio: Optional[float] = None
    interval_ms: Optional[float] = None
    keyframes_only: bool = False
    track: Optional[int] = None
    seen: int = 0  # frames that passed the track/keyframe filter
    kept: int = 0
    _schedule: Optional[FpsSampler] = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.every, self.ratio, self.interval_ms)) > 1:
            raise ValueError("give at most one of every, ratio and interval_ms")
        if self.every is not None and self.every < 1:
            raise ValueError("every must be >= 1")
        if self.ratio is not None and not 0 < self.ratio <= 1:
            raise ValueError("ratio must be in (0, 1]")
        if self.interval_ms is not None:
            self._schedule = FpsSampler(1000.0 / self.interval_ms)  # fixed schedule: jitter cannot lower the rate

    def keep(self, frame: Any) -> bool:
        if self.track is not None and frame.track_number != self.track:
            return False
        if self.keyframes_only and not frame.is_keyframe:
            return False
        self.seen += 1
        if self.every is not None:
            wanted = (self.seen - 1) % self.every == 0
        elif self.ratio is not None:
            # Evenly spread, first frame kept: keep when ceil(seen * ratio) steps up (rounded against float noise).
            wanted = math.ceil(round(self.seen * self.ratio, 9)) > math.ceil(round((self.seen - 1) * self.ratio, 9))
        elif self._schedule is not None:
            wanted = self._schedule.keep(frame.pts_ms)
        else:
            wanted = True
        self.kept += wanted
        return wanted


def sample_frames(frames: Iterable[ParsedFrame], **criteria: Any) -> Iterator[ParsedFrame]:
    """The frames a FrameSampler(**criteria) keeps, lazily, in order."""
    sampler = FrameSampler(**criteria)
    return (frame for frame in frames if sampler.keep(frame))


class TaggedFrame(NamedTuple):
    """A frame with the tags its fragment had sent before it (fragment number, server/producer time...).
    A pair: ``for frame, tags in iter_tagged_frames(source)`` or ``tagged.frame`` / ``tagged.tags``."""

    frame: ParsedFrame
    tags: Dict[str, TagValue]


def iter_tagged_frames(source: ByteSource, chunk_size: int = 64 * 1024) -> Iterator[TaggedFrame]:
    """Each frame of `source` with its fragment's tags so far as a dict (a new fragment starts a new dict),
    as (frame, tags) pairs."""
    ready: Deque[TaggedFrame] = deque()
    current: Dict[str, Dict[str, TagValue]] = {"tags": {}}

    def on_start(_: Any) -> None:
        current["tags"] = {}

    def on_tags(tags: Any) -> None:
        current["tags"] = {**current["tags"], **{tag.name: tag.value for tag in tags}}

    parser = KVSStreamParser(on_fragment_start=on_start, on_tags=on_tags,
                          on_frame=lambda frame: ready.append(TaggedFrame(frame, current["tags"])))
    for chunk in iter_chunks(source, chunk_size):
        parser.parse(chunk)
        while ready:
            yield ready.popleft()
    parser.close()
    while ready:
        yield ready.popleft()


def fragment_tags(fragments: Iterable[Any]) -> Iterator[Dict[str, TagValue]]:
    """Every tag of each fragment (FragmentMetadata from iter_fragments or GetMediaStream's on_fragment) as a dict."""
    return (fragment.tags_dict() for fragment in fragments)
