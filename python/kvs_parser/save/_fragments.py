"""Whole fragments from a byte source: tracks, frames and metadata together, one fragment at a time."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Iterator, List, Optional, Tuple

from .._kvsparser import FragmentMetadata, KVSStreamParser, ParsedFrame, TrackInfo
from ..iterators import ByteSource, iter_chunks


@dataclass
class FragmentMedia:
    """One fragment: its Tracks, its frames in order (bytes owned by the frames) and its metadata."""

    tracks: Tuple[TrackInfo, ...]
    frames: List[ParsedFrame]
    metadata: FragmentMetadata


@dataclass
class _Collector:
    tracks: Tuple[TrackInfo, ...] = ()
    frames: List[ParsedFrame] = field(default_factory=list)
    done: Deque[FragmentMedia] = field(default_factory=deque)

    def on_tracks(self, tracks: List[TrackInfo]) -> None:
        self.tracks = tuple(tracks)

    def on_fragment_end(self, metadata: FragmentMetadata) -> None:
        self.done.append(FragmentMedia(self.tracks, self.frames, metadata))
        self.frames = []


def iter_fragment_media(source: ByteSource, chunk_size: int = 64 * 1024,
                        on_error: Optional[Any] = None) -> Iterator[FragmentMedia]:
    """Each fragment of `source` (bytes, a readable or an iterable of chunks) once it has ended.
    Memory: one fragment's frames at a time."""
    collector = _Collector()
    # The frame callback looks the list up each time: on_fragment_end replaces it.
    parser = KVSStreamParser(on_frame=lambda frame: collector.frames.append(frame), on_tracks=collector.on_tracks,
                          on_fragment_end=collector.on_fragment_end, on_error=on_error)
    for chunk in iter_chunks(source, chunk_size):
        parser.parse(chunk)
        while collector.done:
            yield collector.done.popleft()
    parser.close()
    while collector.done:
        yield collector.done.popleft()
