"""Realistic camera content for the GPU benchmark, fed through the project's own parser.

Pictures: a large textured scene (gradients, fine detail) panned a few pixels a frame, with per-frame
sensor noise and slowly drifting colour, so motion search, residuals and entropy coding all cost what a
street camera's do. Encoding: H.264 High (CABAC, deblocking, several reference frames; x264 "medium" by
default) or H.265 Main (x265 "fast"), a keyframe every 2 s as KVS fragments have, constant-rate like an IP
camera. The packets are written as KVS fragments (avcC/hvcC CodecPrivate, length-prefixed NAL units) and
parsed back with ``kvs_parser``, so decoders get exactly what a GetMedia stream gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import List, Optional, Tuple

import av
import numpy as np

from kvs_parser import iter_fragments, iter_frames
from kvs_parser.emulator._nal import avcc, hvcc, length_prefixed, split_annexb
from kvs_parser.mkv import Block, FragmentWriter, TrackSpec

CODEC_IDS = {"h264": "V_MPEG4/ISO/AVC", "hevc": "V_MPEGH/ISO/HEVC"}


@dataclass(frozen=True)
class Profile:
    codec: str  # "h264" or "hevc"
    width: int
    height: int
    fps: int
    bitrate: int

    @property
    def name(self) -> str:
        return f"{self.height}p{self.fps}-{self.codec}"


PROFILES = {
    p.name: p
    for p in (
        Profile("h264", 1280, 720, 15, 2_000_000),
        Profile("h264", 1920, 1080, 15, 4_000_000),
        Profile("hevc", 1280, 720, 15, 1_200_000),
        Profile("hevc", 1920, 1080, 15, 2_500_000),
    )
}


@dataclass(frozen=True)
class BenchFrame:
    """A parsed block with a pts of the benchmark's choosing (content loops; timestamps must not)."""

    track_number: int
    data: bytes
    pts_ms: int
    is_keyframe: bool
    producer_timestamp_ms: Optional[int] = None
    server_timestamp_ms: Optional[int] = None
    fragment_number: Optional[str] = None


@dataclass(frozen=True)
class ParsedContent:
    track: object  # the parser's TrackInfo
    blocks: Tuple[Tuple[bytes, bool], ...]  # (data, keyframe) in decode order

    def frame(self, index: int, fps: int) -> BenchFrame:
        data, keyframe = self.blocks[index % len(self.blocks)]
        return BenchFrame(self.track.number, data, index * 1000 // fps, keyframe)  # type: ignore[attr-defined]


def _scene(width: int, height: int, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : 2 * height, 0 : 2 * width].astype(np.float32)
    luma = 120 + 45 * np.sin(x / 37 + y / 71) + 30 * np.sin(x / 11 - y / 23) + rng.normal(0, 16, x.shape)
    return np.clip(luma, 16, 235).astype(np.uint8)


def _picture(scene: np.ndarray, index: int, width: int, height: int) -> np.ndarray:
    """Frame ``index`` as yuv420p (h*3/2, w): the scene panned, sensor grain, chroma drifting."""
    dx, dy = (4 * index) % width, (2 * index) % height
    grain = np.random.default_rng(1000 + index).integers(-5, 6, (height, width), dtype=np.int16)
    luma = np.clip(scene[dy : dy + height, dx : dx + width] + grain, 16, 235).astype(np.uint8)
    cw, ch = width // 2, height // 2
    u = np.clip(scene[dy // 2 : dy // 2 + ch, dx // 2 : dx // 2 + cw] // 4 + 96 + index % 20, 16, 240)
    v = np.clip(scene[ch - dy // 2 : 2 * ch - dy // 2, dx // 2 : dx // 2 + cw] // 4 + 100, 16, 240)
    return np.concatenate([luma, u.astype(np.uint8).reshape(height // 4, width),
                           v.astype(np.uint8).reshape(height // 4, width)])


def _encoder(profile: Profile, preset: Optional[str], bframes: int) -> av.CodecContext:
    gop = 2 * profile.fps
    kbit = profile.bitrate // 1000
    rate = f"vbv-maxrate={kbit}:vbv-bufsize={kbit}"
    if profile.codec == "h264":
        encoder = av.CodecContext.create("libx264", "w")
        options = {"preset": preset or "medium", "profile": "high",
                   "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:{rate}"}
    else:
        encoder = av.CodecContext.create("libx265", "w")
        options = {"preset": preset or "fast", "x265-params":
                   f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:{rate}:log-level=none"}
    encoder.width, encoder.height, encoder.pix_fmt = profile.width, profile.height, "yuv420p"
    encoder.time_base, encoder.framerate = Fraction(1, profile.fps), Fraction(profile.fps, 1)
    encoder.bit_rate = profile.bitrate
    encoder.flags |= av.codec.context.Flags.global_header
    encoder.options = options
    encoder.open()
    return encoder


def encode_kvs(profile: Profile, seconds: float, preset: Optional[str] = None, bframes: int = 0) -> bytes:
    """``seconds`` of content as KVS fragments (one per 2 s group of pictures)."""
    encoder = _encoder(profile, preset, bframes)
    scene = _scene(profile.width, profile.height)
    packets: List[av.Packet] = []
    for i in range(max(1, round(seconds * profile.fps))):
        picture = av.VideoFrame.from_ndarray(_picture(scene, i, profile.width, profile.height), format="yuv420p")
        picture.pts = i
        packets += encoder.encode(picture)
    packets += encoder.encode(None)
    nals = split_annexb(bytes(encoder.extradata or b""))
    private = avcc(nals) if profile.codec == "h264" else hvcc(nals)
    track = TrackSpec(1, CODEC_IDS[profile.codec], codec_private=private, width=profile.width, height=profile.height)
    writer = FragmentWriter((track,))
    fragments: List[bytes] = []
    group: List[Block] = []
    for packet in packets:  # decode order; timecodes are the presentation times
        if packet.is_keyframe and group:
            fragments.append(writer.fragment(group))
            group = []
        timecode = int(packet.pts * 1000 // profile.fps)
        group.append(Block(1, timecode, length_prefixed(split_annexb(bytes(packet))), keyframe=packet.is_keyframe))
    fragments.append(writer.fragment(group))
    return b"".join(fragments)


def parse_kvs(stream: bytes) -> ParsedContent:
    """The blocks and track of a KVS stream, through the native parser."""
    track = next(iter_fragments(stream)).tracks[0]
    blocks = tuple((bytes(f.data), bool(f.is_keyframe)) for f in iter_frames(stream))
    if not blocks or not blocks[0][1]:
        raise RuntimeError("content must start with a keyframe")
    return ParsedContent(track, blocks)


def bitrate_kbit_s(content: ParsedContent, fps: int) -> float:
    return sum(len(d) for d, _ in content.blocks) * 8 * fps / len(content.blocks) / 1000
