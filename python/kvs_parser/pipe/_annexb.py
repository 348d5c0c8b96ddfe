"""Matroska H.264/H.265 (length-prefixed NAL units, parameter sets in avcC/hvcC) to an Annex B byte stream.

A raw elementary stream has no CodecPrivate, so the parameter sets go in band, before every keyframe:
a reader joining at any keyframe can decode from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO, List, Optional, Tuple

from ..errors import KVSError

START_CODE = b"\x00\x00\x00\x01"
H264, HEVC = "V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"


class CodecPrivateError(KVSError, ValueError):
    """A track's CodecPrivate is not a complete avcC/hvcC record (too short, or a count or size that runs
    past its end), so its parameter sets cannot be read."""


def _byte(private: bytes, pos: int, what: str) -> int:
    if pos >= len(private):
        raise ValueError(f"{len(private)} bytes end before the {what} at byte {pos}")
    return private[pos]


def _read_units(private: bytes, pos: int, count: int, units: List[bytes]) -> int:
    """Appends `count` NAL units stored as 16-bit size + bytes from `pos`; returns the position after them."""
    for _ in range(count):
        if pos + 2 > len(private):
            raise ValueError(f"{len(private)} bytes end before the size of NAL unit {len(units) + 1}")
        size = int.from_bytes(private[pos : pos + 2], "big")
        if pos + 2 + size > len(private):
            raise ValueError(f"NAL unit {len(units) + 1} of {size} bytes runs past the {len(private)}-byte record")
        units.append(private[pos + 2 : pos + 2 + size])
        pos += 2 + size
    return pos


def _avcc(private: bytes) -> Tuple[int, List[bytes]]:
    units: List[bytes] = []
    length_size = (_byte(private, 4, "NAL length size") & 0x03) + 1
    pos = 5
    for count_mask, what in ((0x1F, "SPS count"), (0xFF, "PPS count")):
        pos = _read_units(private, pos + 1, _byte(private, pos, what) & count_mask, units)
    return length_size, units


def _hvcc(private: bytes) -> Tuple[int, List[bytes]]:
    units: List[bytes] = []
    length_size = (_byte(private, 21, "NAL length size") & 0x03) + 1
    pos = 23
    for _ in range(_byte(private, 22, "array count")):  # arrays of VPS, SPS, PPS, SEI...
        if pos + 3 > len(private):
            raise ValueError(f"{len(private)} bytes end inside a parameter-set array header at byte {pos}")
        pos = _read_units(private, pos + 3, int.from_bytes(private[pos + 1 : pos + 3], "big"), units)
    return length_size, units


def parameter_sets(codec_id: str, private: bytes) -> Tuple[int, List[bytes]]:
    """(NAL length-field size, parameter-set NAL units) from an avcC or hvcC CodecPrivate. Raises
    ValueError for another codec and CodecPrivateError (a ValueError) for a record cut short."""
    if codec_id not in (H264, HEVC):
        raise ValueError(f"Annex B output needs H.264 or H.265, not {codec_id}")
    try:
        return _avcc(private) if codec_id == H264 else _hvcc(private)
    except ValueError as error:
        record = "avcC" if codec_id == H264 else "hvcC"
        raise CodecPrivateError(f"CodecPrivate is not a complete {record} record: {error}") from None


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
        try:
            self._length_size, units = parameter_sets(chosen.codec_id, bytes(chosen.codec_private))
        except CodecPrivateError as error:
            raise CodecPrivateError(f"track {chosen.number} ({chosen.codec_id}): {error}") from None
        self._headers = b"".join(START_CODE + u for u in units)

    def frame(self, frame: Any) -> None:
        if frame.track_number != self._selected:
            return
        payload = to_annexb(bytes(frame), self._length_size)
        self.out.write(self._headers + payload if frame.is_keyframe else payload)
        self.out.flush()
        self.frames_written += 1
