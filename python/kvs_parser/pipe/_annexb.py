"""Matroska H.264/H.265 (length-prefixed NAL units, parameter sets in avcC/hvcC) to an Annex B byte stream.

A raw elementary stream has no CodecPrivate, so the parameter sets go in band, before every keyframe:
a reader joining at any keyframe can decode from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO, List, Optional, Tuple

START_CODE = b"\x00\x00\x00\x01"
H264, HEVC = "V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"


def _read_units(private: bytes, pos: int, count: int, units: List[bytes]) -> int:
    """Appends `count` NAL units stored as 16-bit size + bytes from `pos`; returns the position after them."""
    for _ in range(count):
        size = int.from_bytes(private[pos : pos + 2], "big")
        units.append(private[pos + 2 : pos + 2 + size])
        pos += 2 + size
    return pos


def _avcc(private: bytes) -> Tuple[int, List[bytes]]:
    units: List[bytes] = []
    pos = 5
    for count_mask in (0x1F, 0xFF):  # SPS count (5 bits), then PPS count
        pos = _read_units(private, pos + 1, private[pos] & count_mask, units)
    return (private[4] & 0x03) + 1, units


def _hvcc(private: bytes) -> Tuple[int, List[bytes]]:
    units: List[bytes] = []
    pos = 23
    for _ in range(private[22]):  # arrays of VPS, SPS, PPS, SEI...
        pos = _read_units(private, pos + 3, int.from_bytes(private[pos + 1 : pos + 3], "big"), units)
    return (private[21] & 0x03) + 1, units


def parameter_sets(codec_id: str, private: bytes) -> Tuple[int, List[bytes]]:
    """(NAL length-field size, parameter-set NAL units) from an avcC or hvcC CodecPrivate."""
    if codec_id == H264:
        return _avcc(private)
    if codec_id == HEVC:
        return _hvcc(private)
    raise ValueError(f"Annex B output needs H.264 or H.265, not {codec_id}")


def to_annexb(data: bytes, length_size: int, *, strict: bool = False) -> bytes:
    """Length-prefixed NAL units to start-code-prefixed ones. ``strict`` raises ValueError where a length
    runs past the block or bytes are left over (a corrupt block), instead of keeping what fits."""
    out = bytearray()
    pos = 0
    while pos + length_size <= len(data):
        size = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        if strict and (size == 0 or pos + size > len(data)):
            raise ValueError(f"NAL unit of {size} bytes at {pos - length_size} overruns a {len(data)}-byte block")
        out += START_CODE + data[pos : pos + size]
        pos += size
    if strict and pos != len(data):
        raise ValueError(f"{len(data) - pos} stray bytes after the last NAL unit")
    return bytes(out)


@dataclass
class AnnexBWriter:
    """Writes the frames of one video track (the first video track unless `track` is set) as Annex B."""

    out: BinaryIO
    track: Optional[int] = None
    frames_written: int = 0
    _length_size: int = 4
    _headers: bytes = b""
    _selected: Optional[int] = field(default=None, repr=False)

    def tracks(self, infos: List[Any]) -> None:
        video = [t for t in infos if t.codec_id in (H264, HEVC) and (self.track is None or t.number == self.track)]
        if not video:
            raise ValueError("no H.264/H.265 track to write as Annex B")
        chosen = video[0]
        self._selected = chosen.number
        self._length_size, units = parameter_sets(chosen.codec_id, bytes(chosen.codec_private))
        self._headers = b"".join(START_CODE + u for u in units)

    def frame(self, frame: Any) -> None:
        if frame.track_number != self._selected:
            return
        payload = to_annexb(bytes(frame), self._length_size)
        self.out.write(self._headers + payload if frame.is_keyframe else payload)
        self.out.flush()
        self.frames_written += 1
