"""PyAV encoding of test-pattern video into Matroska-ready packets.

Each group of pictures is encoded by a fresh encoder, so it opens with an IDR and needs nothing from the
previous one; the same settings give the same parameter sets, so one CodecPrivate serves every group.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, List, Tuple, cast

from .._extras import missing_extra

try:
    import av
except ImportError as error:
    raise missing_extra("emulator", error) from error

from ._nal import avcc, hvcc, length_prefixed, split_annexb
from ._pattern import draw_index_yuv420p

ENCODERS = {"h264": "libx264", "hevc": "libx265"}
ENCODER_OPTIONS = {
    "h264": {"preset": "ultrafast", "tune": "zerolatency"},
    "hevc": {"preset": "ultrafast", "tune": "zerolatency", "x265-params": "log-level=none"},
}


@dataclass(frozen=True)
class VideoSpec:
    codec: str = "h264"  # "h264" or "hevc"
    width: int = 320
    height: int = 240
    fps: int = 30
    bitrate: int = 300_000


@dataclass(frozen=True)
class EncodedGop:
    codec_private: bytes
    packets: Tuple[bytes, ...]  # one per frame, in index order (no B-frames), the first a keyframe


def hevc_available() -> bool:
    try:
        av.codec.Codec("libx265", "w")
    except Exception:
        return False
    return True


def encode_gop(spec: VideoSpec, first_index: int, count: int) -> EncodedGop:
    encoder = cast("av.VideoCodecContext", av.CodecContext.create(ENCODERS[spec.codec], "w"))  # typed by codec name
    encoder.width, encoder.height = spec.width, spec.height
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, spec.fps)
    encoder.framerate = Fraction(spec.fps, 1)
    encoder.bit_rate = spec.bitrate
    encoder.gop_size = count
    encoder.max_b_frames = 0
    encoder.flags |= av.codec.context.Flags.global_header
    encoder.options = dict(ENCODER_OPTIONS[spec.codec])
    encoder.open()
    packets: List[av.Packet[Any]] = []
    for i in range(count):
        picture = av.VideoFrame.from_ndarray(
            draw_index_yuv420p(first_index + i, spec.width, spec.height), format="yuv420p"
        )
        picture.pts = i
        packets += encoder.encode(picture)
    packets += encoder.encode(None)
    if len(packets) != count:
        raise RuntimeError(f"encoder returned {len(packets)} packets for {count} frames")
    nals = split_annexb(bytes(encoder.extradata or b""))
    private = avcc(nals) if spec.codec == "h264" else hvcc(nals)
    return EncodedGop(private, tuple(length_prefixed(split_annexb(bytes(p))) for p in packets))
