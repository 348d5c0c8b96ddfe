"""Fragments to HLS segments: our Matroska fragment remuxed by PyAV (stream copy, no re-encoding) into
MPEG-TS, or fragmented MP4 split into its init part (ftyp+moov) and media part (moof+mdat)."""

from __future__ import annotations

import io
from typing import Dict, List, Tuple, cast

from .._extras import missing_extra

try:
    import av
except ImportError as error:
    raise missing_extra("emulator", error) from error

from ..mkv import FragmentWriter, TrackSpec


def _remux(fmt: str, track: TrackSpec, fragment_mkv: bytes, options: Dict[str, str]) -> bytes:
    output = io.BytesIO()
    source = cast("av.container.InputContainer", av.open(io.BytesIO(fragment_mkv)))  # mode "r" by default
    with source, av.open(output, "w", format=fmt, options=options) as out:
        video = source.streams.video[0]
        target = out.add_stream_from_template(video)
        for packet in source.demux(video):
            if packet.size:
                packet.stream = target
                out.mux(packet)
    return output.getvalue()


def to_ts(track: TrackSpec, fragment_mkv: bytes) -> bytes:
    return _remux("mpegts", track, fragment_mkv, {})


def _boxes(data: bytes) -> List[Tuple[bytes, bytes]]:
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size < 8:
            raise ValueError("unsupported MP4 box size")
        boxes.append((data[pos + 4 : pos + 8], data[pos : pos + size]))
        pos += size
    return boxes


def to_fmp4(track: TrackSpec, fragment_mkv: bytes) -> Tuple[bytes, bytes]:
    """(init segment, media segment) of one fragment."""
    data = _remux("mp4", track, fragment_mkv, {"movflags": "frag_keyframe+empty_moov+default_base_moof"})
    init = b"".join(box for kind, box in _boxes(data) if kind in (b"ftyp", b"moov"))
    media = b"".join(box for kind, box in _boxes(data) if kind in (b"moof", b"mdat"))
    return init, media


def video_only(writer: FragmentWriter) -> FragmentWriter:
    """HLS segments here carry the video track only."""
    video = tuple(t for t in writer.tracks if t.width)[:1]
    return FragmentWriter(video, known_cluster_size=True)
