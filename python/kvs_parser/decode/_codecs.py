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


def codec_spec(track: TrackInfo, first_frame: bytes | memoryview | None = None) -> CodecSpec:
    """Choose the decoder and extradata for ``track``.

    H.264/H.265 with a configuration record (avcC/hvcC) are length-prefixed. Without CodecPrivate, or
    when the frames themselves start with a start code, the stream is Annex B with parameter sets in-band:
    FFmpeg then must not get the record, or it would read start codes as NAL lengths.
    """
    codec_id = track.codec_id
    decoder = _DECODERS.get(codec_id)
    if decoder is None:
        raise UnsupportedCodecError(
            f"track {track.number}: codec {codec_id!r} is not supported (supported: {', '.join(supported_codec_ids())})"
        )
    private = bytes(track.codec_private or b"")
    extradata: Optional[bytes] = None
    if codec_id in _CONFIG_RECORD and private:
        # An Annex B CodecPrivate (parameter sets with start codes) is fine as extradata too; a
        # configuration record is not when the frames turn out to be Annex B.
        frames_annex_b = first_frame is not None and is_annex_b(first_frame)
        extradata = None if frames_annex_b and not is_annex_b(private) else private
    return CodecSpec(codec_id, decoder, extradata)
