"""Choosing fragments and merging runs with identical tracks into files (OutputSegmentMerger's role)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Collection, List, Optional, Tuple, Union

from .._kvsparser import TrackInfo
from ..iterators import ByteSource
from ._fragments import FragmentMedia, iter_fragment_media
from ._writer import MkvFileWriter, open_writer


@dataclass(frozen=True)
class FragmentFilter:
    """Which fragments to save: by number, and/or whose start timestamp lies in [start_ms, end_ms]."""

    fragment_numbers: Optional[Collection[str]] = None
    start_ms: Optional[int] = None
    end_ms: Optional[int] = None
    clock: str = "producer"  # or "server": which fragment timestamp the range applies to

    def wants(self, fragment: FragmentMedia) -> bool:
        meta = fragment.metadata
        if meta.is_error or not fragment.frames:
            return False
        if self.fragment_numbers is not None and meta.fragment_number not in self.fragment_numbers:
            return False
        at = meta.server_timestamp_ms if self.clock == "server" else meta.producer_timestamp_ms
        if self.start_ms is not None and (at is None or at < self.start_ms):
            return False
        return not (self.end_ms is not None and (at is None or at > self.end_ms))


def tracks_key(tracks: Tuple[TrackInfo, ...]) -> Tuple[Any, ...]:
    """What must stay equal for fragments to share a file: everything a decoder is told about a track."""
    return tuple((t.number, t.type, t.codec_id, bytes(t.codec_private), t.pixel_width, t.pixel_height,
                  t.sampling_frequency, t.channels, t.bit_depth) for t in tracks)


def _path(base: Path, index: int) -> Path:
    return base if index == 0 else base.with_name(f"{base.stem}-{index + 1}{base.suffix}")


def save_fragments(source: ByteSource, path: Union[str, Path], select: FragmentFilter = FragmentFilter()
                   ) -> List[Path]:
    """Writes the selected fragments of `source` (GetMedia / GetMediaForFragmentList bytes, a file or a
    readable) as playable MKV files: `path`, then `<stem>-2<suffix>`, ... each time the tracks change.
    Returns the files written (none when nothing was selected)."""
    base = Path(path)
    written: List[Path] = []
    out: Optional[BinaryIO] = None
    writer: Optional[MkvFileWriter] = None
    key: Optional[Tuple[Any, ...]] = None
    try:
        for fragment in iter_fragment_media(source):
            if not select.wants(fragment):
                continue
            if writer is None or tracks_key(fragment.tracks) != key:
                if writer is not None and out is not None:
                    writer.close()
                    out.close()
                written.append(_path(base, len(written)))
                out, writer = open_writer(written[-1], fragment.tracks)
                key = tracks_key(fragment.tracks)
            writer.new_cluster()
            for frame in fragment.frames:
                writer.add(frame)
        if writer is not None:
            writer.close()
    finally:
        if out is not None:
            out.close()
    return written
