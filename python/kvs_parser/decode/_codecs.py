"""Matroska CodecID/CodecPrivate to an FFmpeg decoder name and extradata."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .._kvsparser import TrackInfo
from ..errors import KVSError

# CodecID -> FFmpeg decoder. The native VP9 decoder is preferred over libvpx: faster, slice-threaded.
_DECODERS = {
    "V_MPEG4/ISO/AVC": "h264",
    "V_MPEGH/ISO/HEVC": "hevc",
    "V_VP8": "vp8",
    "V_VP9": "vp9",
}
# Codecs whose CodecPrivate is a decoder configuration record FFmpeg needs as extradata.
_CONFIG_RECORD = frozenset({"V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"})


class UnsupportedCodecError(KVSError, ValueError):
    """The track's CodecID has no decoder here."""


def supported_codec_ids() -> tuple[str, ...]:
    return tuple(_DECODERS)


def is_annex_b(data: bytes | memoryview) -> bool:
    """True if ``data`` starts with an Annex B start code rather than a NAL length prefix.

    A 4-byte length of 1 (00 00 00 01) would be a 1-byte NAL unit, which no real stream has, so the
    4-byte start code is unambiguous; 00 00 01 is accepted too since Annex B allows it first.
    """
    head = bytes(data[:4])
    return head == b"\x00\x00\x00\x01" or head[:3] == b"\x00\x00\x01"


@dataclass(frozen=True)
class CodecSpec:
    """What a decoder is opened with."""

    codec_id: str
    decoder_name: str
    extradata: Optional[bytes]


TrackKey = tuple[str, bytes, Optional[int], Optional[int]]


def track_key(track: TrackInfo) -> TrackKey:
    """What must stay equal between fragments for a track's decoder to be kept."""
    return (track.codec_id, bytes(track.codec_private or b""), track.pixel_width, track.pixel_height)


def is_configuration_record(codec_id: str, private: bytes) -> bool:
    """True if ``private`` is a well-formed avcC (H.264) or hvcC (H.265) record: every parameter-set
    array it declares fits in it. Such a track's frames are length-prefixed NAL units."""
    if len(private) < 7 or private[0] != 1:  # configurationVersion 1
        return False
    try:
        if codec_id == "V_MPEG4/ISO/AVC":
            pos = 5
            for count_mask in (0x1F, 0xFF):  # SPS count (5 bits), then PPS count
                pos = _skip_units(private, pos + 1, private[pos] & count_mask)
            return pos <= len(private)
        if codec_id == "V_MPEGH/ISO/HEVC":
            if len(private) < 23:
                return False
            pos = 23
            for _ in range(private[22]):  # arrays: type byte, 16-bit count, units
                pos = _skip_units(private, pos + 3, int.from_bytes(private[pos + 1 : pos + 3], "big"))
            return pos <= len(private)
    except IndexError:
        return False
    return False


def _skip_units(private: bytes, pos: int, count: int) -> int:
    """Position after `count` NAL units stored as 16-bit size + bytes; raises IndexError past the end."""
    for _ in range(count):
        if pos + 2 > len(private):
            raise IndexError(pos)
        pos += 2 + int.from_bytes(private[pos : pos + 2], "big")
        if pos > len(private):
            raise IndexError(pos)
    return pos


def codec_spec(track: TrackInfo, first_frame: bytes | memoryview | None = None) -> CodecSpec:
    """Choose the decoder and extradata for ``track``.

    The bitstream format comes from CodecPrivate alone, never from a frame's first bytes (a 4-byte NAL
    length of 256-511 begins 00 00 01, like a start code): a valid avcC/hvcC record means length-prefixed
    NAL units and is the extradata; an Annex B CodecPrivate (parameter sets with start codes) is passed
    as is; without CodecPrivate (or with one that is neither) the frames are Annex B with in-band
    parameter sets, and FFmpeg gets no extradata. ``first_frame`` is accepted for compatibility, unused.
    """
    codec_id = track.codec_id
    decoder = _DECODERS.get(codec_id)
    if decoder is None:
        raise UnsupportedCodecError(
            f"track {track.number}: codec {codec_id!r} is not supported (supported: {', '.join(supported_codec_ids())})"
        )
    private = bytes(track.codec_private or b"")
    extradata: Optional[bytes] = private or None
    if codec_id in _CONFIG_RECORD and private:
        valid = is_configuration_record(codec_id, private) or is_annex_b(private)
        extradata = private if valid else None
    return CodecSpec(codec_id, decoder, extradata)
