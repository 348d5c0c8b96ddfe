"""A camera that changes resolution between fragments, and the emulator that writes each fragment's Tracks.

A producer that switches resolution starts a fragment with new Tracks (new size, new CodecPrivate); the
reader must open a new decoder there. Kept beside the plain camera rather than inside it: fragment k is
encoded at ``sizes[k % len(sizes)]`` by one plain camera per size, and the writer picks the Tracks by the
fragment's cluster timecode.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Dict, Iterable, Optional, Tuple

from ..mkv import Block, FragmentWriter, TrackSpec
from ..mkv._kvs import Tags
from ._camera import SyntheticCamera, index_from_timecode
from ._emulator import Emulator
from ._encode import EncodedGop
from ._store import Stream

Size = Tuple[int, int]


@dataclass
class ResizingCamera(SyntheticCamera):
    """A SyntheticCamera whose fragment k is ``sizes[k % len(sizes)]`` (width, height)."""

    sizes: Tuple[Size, ...] = ((320, 240), (160, 120))
    _by_size: Dict[Size, SyntheticCamera] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.sizes:
            raise ValueError("sizes must name at least one (width, height)")
        self.width, self.height = self.sizes[0]
        for size in self.sizes:
            self._by_size.setdefault(size, SyntheticCamera(
                width=size[0], height=size[1], fps=self.fps, bitrate=self.bitrate,
                fragment_duration=self.fragment_duration, codec=self.codec, cache_size=self.cache_size))

    def size_of(self, fragment_index: int) -> Size:
        return self.sizes[fragment_index % len(self.sizes)]

    def fragment(self, fragment_index: int) -> EncodedGop:
        return self._by_size[self.size_of(fragment_index)].fragment(fragment_index)

    def track(self, fragment_index: int = 0) -> TrackSpec:
        plain = self._by_size[self.size_of(fragment_index)]
        return replace(plain.track(), codec_private=self.fragment(fragment_index).codec_private)

    def tracks_at(self, cluster_timecode: int) -> Tuple[TrackSpec, ...]:
        """The Tracks of the fragment that starts at `cluster_timecode`."""
        return (self.track(index_from_timecode(cluster_timecode, self.fps) // self.frames_per_fragment),)


@dataclass(frozen=True)
class ScheduledTracksWriter(FragmentWriter):
    """A FragmentWriter whose Tracks follow the fragment's cluster timecode."""

    tracks_at: Optional[Callable[[int], Tuple[TrackSpec, ...]]] = None

    def _at(self, cluster_timecode: int) -> FragmentWriter:
        assert self.tracks_at is not None
        return FragmentWriter(self.tracks_at(cluster_timecode), self.timecode_scale, self.known_segment_size,
                              self.known_cluster_size, self.block_groups, self.writing_app)

    def prefix(self, tags: Tags, cluster_timecode: int, blocks_size: Optional[int] = None) -> bytes:
        return self._at(cluster_timecode).prefix(tags, cluster_timecode, blocks_size)

    def fragment(self, frames: Iterable[Block], tags: Tags = (), trailing_tags: Tags = (),
                 cluster_timecode: Optional[int] = None) -> bytes:
        frames = list(frames)
        start = min((f.timecode for f in frames), default=0) if cluster_timecode is None else cluster_timecode
        return self._at(start).fragment(frames, tags, trailing_tags, start)


class ResizingEmulator(Emulator):
    """An Emulator that also serves ResizingCamera streams, each fragment with its own Tracks."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._resizing: Dict[str, ResizingCamera] = {}

    def add_live_stream(self, name: str, camera: SyntheticCamera) -> Stream:
        if isinstance(camera, ResizingCamera):
            self._resizing[name] = camera
        return super().add_live_stream(name, camera)

    def writer(self, stream: Stream) -> FragmentWriter:
        camera = self._resizing.get(stream.name)
        if camera is None:
            return super().writer(stream)
        return ScheduledTracksWriter(stream.tracks, known_cluster_size=True, tracks_at=camera.tracks_at)
