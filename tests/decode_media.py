"""Real encoded test streams for the decode tests, made with PyAV encoders, and plain-data stand-ins for
the parser's frame and track objects.

Frame ``i`` of a stream shows its index: the left half has luma ``level(i)``, the right half is a fixed
red, so a decoded picture can be matched to its frame within codec tolerance.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Optional

import av
import numpy as np
import pytest

RED = (200, 40, 40)
FPS = 30


def level(index: int) -> int:
    return 30 + 6 * index  # stays within 16..235 for up to 34 frames


@dataclass(frozen=True)
class Track:
    number: int = 1
    type: int = 1
    codec_id: str = "V_MPEG4/ISO/AVC"
    codec_private: bytes = b""
    pixel_width: Optional[int] = 160
    pixel_height: Optional[int] = 120
    uid: int = 1
    name: str = ""


@dataclass(frozen=True)
class Block:
    track_number: int
    data: bytes
    pts_ms: int
    is_keyframe: bool
    producer_timestamp_ms: Optional[int] = None
    server_timestamp_ms: Optional[int] = None
    fragment_number: Optional[str] = None


@dataclass(frozen=True)
class Stream:
    track: Track
    blocks: list[Block]  # in decode order

    def keyframe_indices(self) -> list[int]:
        return [i for i, b in enumerate(self.blocks) if b.is_keyframe]


def pattern(index: int, width: int, height: int) -> np.ndarray:
    img = np.empty((height, width, 3), np.uint8)
    img[:, : width // 2] = level(index)
    img[:, width // 2 :] = RED
    return img


def frame_index(image_rgb: np.ndarray) -> int:
    """Recover the index from a decoded rgb24 picture (inner part of the left half)."""
    h, w = image_rgb.shape[:2]
    mean = float(image_rgb[h // 4 : 3 * h // 4, w // 8 : 3 * w // 8].mean())
    return round((mean - 30) / 6)


def require_encoder(name: str) -> None:
    try:
        av.codec.Codec(name, "w")
    except Exception:  # PyAV raises UnknownCodecError or ValueError depending on the build
        pytest.skip(f"FFmpeg encoder {name} is not available in this PyAV build")


ENCODERS = {
    "V_MPEG4/ISO/AVC": ("libx264", {"tune": "zerolatency", "preset": "ultrafast"}),
    "V_MPEGH/ISO/HEVC": ("libx265", {"preset": "ultrafast", "x265-params": "log-level=none"}),
    "V_VP8": ("libvpx", {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}),
    "V_VP9": ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}),
}


def encode(
    codec_id: str = "V_MPEG4/ISO/AVC",
    *,
    width: int = 160,
    height: int = 120,
    frames: int = 30,
    gop: int = 10,
    bframes: bool = False,
    start_ms: int = 0,
    first_index: int = 0,
    track_number: int = 1,
    fragment: str = "9100000000000000000001",
) -> Stream:
    """Encode a pattern stream, mux it to Matroska in memory and demux it again.

    The round trip gives exactly what a KVS producer sends: CodecPrivate (avcC/hvcC) from the
    muxer, length-prefixed frames, keyframe flags and millisecond timestamps.
    """
    encoder, options = ENCODERS[codec_id]
    require_encoder(encoder)
    options = dict(options, g=str(gop), keyint_min=str(gop))
    if encoder == "libx264":
        options["tune"] = "film" if bframes else "zerolatency"
        options["x264-params"] = "scenecut=0:bframes=3" if bframes else "scenecut=0"
    if encoder == "libx265":
        options["x265-params"] += f":keyint={gop}:min-keyint={gop}:scenecut=0:bframes={3 if bframes else 0}"
    buf = io.BytesIO()
    with av.open(buf, "w", format="matroska") as out:
        stream = out.add_stream(encoder, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = options
        for i in range(frames):
            picture = av.VideoFrame.from_ndarray(pattern(first_index + i, width, height), format="rgb24")
            picture.pts = i
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    buf.seek(0)
    with av.open(buf) as demuxed:
        video = demuxed.streams.video[0]
        private = bytes(video.codec_context.extradata or b"")
        packets = [p for p in demuxed.demux(video) if p.size]
        assert video.time_base == 1 / 1000 or float(video.time_base) == 0.001
        blocks = [
            Block(
                track_number=track_number,
                data=bytes(p),
                pts_ms=start_ms + int(p.pts),
                is_keyframe=p.is_keyframe,
                producer_timestamp_ms=1_700_000_000_000 + start_ms + int(p.pts),
                server_timestamp_ms=1_700_000_000_500 + start_ms + int(p.pts),
                fragment_number=fragment,
            )
            for p in packets
        ]
    track = Track(number=track_number, codec_id=codec_id, codec_private=private, pixel_width=width, pixel_height=height)
    return Stream(track, blocks)


def encode_annex_b(*, width: int = 160, height: int = 120, frames: int = 30, gop: int = 10) -> Stream:
    """H.264 straight from the encoder (no muxer): Annex B, SPS/PPS in-band, no CodecPrivate."""
    require_encoder("libx264")
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base, ctx.framerate = Fraction(1, 1000), Fraction(FPS)
    ctx.options = {"tune": "zerolatency", "preset": "ultrafast", "g": str(gop), "x264-params": "scenecut=0"}
    packets = []
    for i in range(frames):
        picture = av.VideoFrame.from_ndarray(pattern(i, width, height), format="rgb24")
        picture.pts = i * 1000 // FPS
        packets += ctx.encode(picture)
    packets += ctx.encode(None)
    blocks = [Block(1, bytes(p), int(p.pts), p.is_keyframe) for p in packets]
    return Stream(Track(codec_private=b"", pixel_width=width, pixel_height=height), blocks)


def with_fragment(stream: Stream, fragment: str) -> Stream:
    return replace(stream, blocks=[replace(b, fragment_number=fragment) for b in stream.blocks])
