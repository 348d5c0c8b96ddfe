"""GStreamer caps for a Matroska H.264/H.265 track, and the block bytes that go with them.

A valid avcC/hvcC CodecPrivate is handed over as ``codec_data`` with the frames length-prefixed as they
are (``stream-format=avc``/``hvc1``), what parsers and FFmpeg decoders take without conversion. A pipeline
whose first element takes only a byte stream (most hardware decoders: v4l2, nvv4l2decoder) gets Annex B
access units instead, with the parameter sets in front of each keyframe (``AnnexBFeed``). Without a
configuration record (an Annex B CodecPrivate, or none) the frames are Annex B in any case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

from .._kvsparser import TrackInfo
from ..pipe._annexb import parameter_sets
from ._annexb_feed import AnnexBFeed
from ._codecs import UnsupportedCodecError, is_configuration_record
from ._model import EncodedFrame

H264, HEVC = "V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"
_MEDIA_TYPES = {H264: "video/x-h264", HEVC: "video/x-h265"}
_RECORD_FORMATS = {H264: "avc", HEVC: "hvc1"}

Buffer = Union[bytes, bytearray, memoryview]


def media_type(codec_id: str) -> str:
    try:
        return _MEDIA_TYPES[codec_id]
    except KeyError:
        raise UnsupportedCodecError(f"codec {codec_id!r} is not supported by the gstreamer backend "
                                    f"(supported: {', '.join(_MEDIA_TYPES)})") from None


@dataclass(frozen=True)
class TrackCaps:
    """The caps string a track's blocks are sent with and how each block's bytes are made."""

    caps: str
    payload: Callable[[EncodedFrame], Buffer]
    byte_stream: bool


def _size_fields(track: TrackInfo) -> str:
    if track.pixel_width and track.pixel_height:
        return f",width=(int){track.pixel_width},height=(int){track.pixel_height}"
    return ""


def record_caps(track: TrackInfo) -> Optional[str]:
    """Caps carrying the track's avcC/hvcC record as codec_data; None if it has no valid record."""
    private = bytes(track.codec_private or b"")
    if not is_configuration_record(track.codec_id, private):
        return None
    return (f"{media_type(track.codec_id)},stream-format=(string){_RECORD_FORMATS[track.codec_id]},"
            f"alignment=(string)au{_size_fields(track)},codec_data=(buffer){private.hex()}")


def byte_stream_caps(track: TrackInfo) -> str:
    return f"{media_type(track.codec_id)},stream-format=(string)byte-stream,alignment=(string)au{_size_fields(track)}"


def check_nal_lengths(data: Buffer, length_size: int) -> None:
    """Raises ValueError unless ``data`` is whole length-prefixed NAL units. Parsers downstream would cut a
    corrupt block somewhere and decode on from damaged references; PyAV's decoder refuses it, and so do we."""
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        if pos + length_size > len(view):
            raise ValueError(f"{len(view) - pos} stray bytes at the end of a {len(view)}-byte block")
        size = int.from_bytes(view[pos : pos + length_size], "big")
        pos += length_size
        if size == 0 or pos + size > len(view):
            raise ValueError(f"NAL unit of {size} bytes at {pos - length_size} overruns a {len(view)}-byte block")
        pos += size


def _length_prefixed(length_size: int) -> Callable[[EncodedFrame], Buffer]:
    def payload(frame: EncodedFrame) -> Buffer:
        check_nal_lengths(frame.data, length_size)
        return frame.data

    return payload


def track_caps(track: TrackInfo, accepts: Callable[[str], bool]) -> TrackCaps:
    """The caps and payload for ``track``; ``accepts(caps)`` says whether the pipeline's input takes them.

    Length-prefixed with codec_data when there is a record and the pipeline takes it, else Annex B.
    Raises UnsupportedCodecError if the pipeline takes neither (e.g. an H.264 decoder given H.265).
    """
    record = record_caps(track)
    if record is not None and accepts(record):
        length_size, _ = parameter_sets(track.codec_id, bytes(track.codec_private or b""))
        return TrackCaps(record, _length_prefixed(length_size), byte_stream=False)
    stream = byte_stream_caps(track)
    if accepts(stream):
        feed = AnnexBFeed(track)
        return TrackCaps(stream, feed.access_unit, byte_stream=True)
    raise UnsupportedCodecError(f"track {track.number}: the gstreamer pipeline does not take "
                                f"{media_type(track.codec_id)}")
