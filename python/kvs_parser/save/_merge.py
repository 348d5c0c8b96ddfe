"""Choosing fragments and merging runs with identical tracks into files (OutputSegmentMerger's role)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Collection, List, Optional, Tuple, Union

from .._kvsparser import TrackInfo
from ..errors import TruncatedStreamError
from ..iterators import ByteSource
from ._fragments import FragmentMedia, iter_fragment_media
from ._writer import MkvFileWriter, open_writer

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class IncompleteFragment:
    """A fragment left out of the saved files: the input ends inside it (the normal end of a capture) or a
    damaged element lost part of it."""

    fragment_number: Optional[str]
    frames: int  # frames of it that were complete
    reason: str


class SavedFiles(List[Path]):
    """The files save_fragments wrote, in order (a list of paths), and ``incomplete``: the fragments it
    left out because they were cut or damaged (each file holds whole fragments only)."""

    def __init__(self) -> None:
        super().__init__()
        self.incomplete: List[IncompleteFragment] = []


def save_fragments(source: ByteSource, path: Union[str, Path], select: FragmentFilter = FragmentFilter()
                   ) -> SavedFiles:
    """Writes the selected fragments of `source` (GetMedia / GetMediaForFragmentList bytes, a file or a
    readable) as playable MKV files: `path`, then `<stem>-2<suffix>`, ... each time the tracks change.

    Only complete fragments are saved: a capture that ends mid-fragment (as a stopped capture does) gives
    files of the fragments before the cut, and the cut one is reported in the result's ``incomplete``
    (and logged), not raised. Returns the files written (none when nothing was selected)."""
    base = Path(path)
    written = SavedFiles()
    errors: List[Exception] = []
    out: Optional[BinaryIO] = None
    writer: Optional[MkvFileWriter] = None
    key: Optional[Tuple[Any, ...]] = None
    try:
        for fragment in iter_fragment_media(source, on_error=errors.append):
            if not fragment.metadata.complete:
                written.incomplete.append(_incomplete(fragment, errors))
                continue
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
    finally:
        if writer is not None:
            writer.close()  # even when interrupted: the file holds the whole fragments written so far
        if out is not None:
            out.close()
    for left_out in written.incomplete:
        log.warning("fragment %s not saved: %s (%d complete frames)", left_out.fragment_number, left_out.reason,
                    left_out.frames)
    return written


def _incomplete(fragment: FragmentMedia, errors: List[Exception]) -> IncompleteFragment:
    truncated = any(isinstance(error, TruncatedStreamError) for error in errors)
    reason = "the input ends inside it" if truncated else f"damaged ({errors[-1]})" if errors else "incomplete"
    return IncompleteFragment(fragment.metadata.fragment_number, len(fragment.frames), reason)
