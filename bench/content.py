"""Realistic content for the CPU benchmarks: a camera whose pictures cost what a real camera's cost to
decode (encoded once up front, then replayed), and the cached recordings of the realistic scene, also as
the bytes GetMedia sends for them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import List

import av

from kvs_parser.emulator import Scene, SceneSpec, SyntheticCamera, load_file, recording, scene_encoder_options
from kvs_parser.emulator._encode import EncodedGop
from kvs_parser.emulator._nal import avcc, length_prefixed, split_annexb

BENCH = Path(__file__).resolve().parent

# -- a camera whose pictures cost what a real camera's cost to decode --


def encode_content(width: int, height: int, fps: int, bitrate: int, first: int, count: int,
                   scene: Scene) -> EncodedGop:
    """One group of pictures of the realistic scene from a fresh encoder set as the recordings are
    (kvs_parser.emulator's scene: H.264 High, CABAC, deblocking, veryfast, no B-frames, VBV-capped),
    opening with an IDR."""
    spec = SceneSpec("h264", width, height, fps, bitrate, count / fps, count / fps)
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base, encoder.framerate = Fraction(1, fps), Fraction(fps, 1)
    encoder.bit_rate, encoder.gop_size, encoder.max_b_frames = bitrate, count, 0
    encoder.flags |= av.codec.context.Flags.global_header
    encoder.options = scene_encoder_options(spec)
    encoder.open()
    packets: List[av.Packet] = []
    for i in range(count):
        picture = av.VideoFrame.from_ndarray(scene.picture(first + i), format="yuv420p")
        picture.pts = i
        packets += encoder.encode(picture)
    packets += encoder.encode(None)
    private = avcc(split_annexb(bytes(encoder.extradata or b"")))
    return EncodedGop(private, tuple(length_prefixed(split_annexb(bytes(p))) for p in packets))


@dataclass
class ContentCamera(SyntheticCamera):
    """A SyntheticCamera whose fragments are `distinct` groups of pictures of the realistic scene,
    encoded once up front and then replayed in a loop, so the emulator spends no CPU on encoding while a
    benchmark runs (the emulator shares the machine's 2 cores with the consumer under test)."""

    distinct: int = 3
    _gops: List[EncodedGop] = field(default_factory=list, init=False, repr=False)

    def prepare(self) -> ContentCamera:
        if not self._gops:
            scene = Scene(self.width, self.height)
            count = self.frames_per_fragment
            self._gops = [encode_content(self.width, self.height, self.fps, self.bitrate, i * count, count, scene)
                          for i in range(self.distinct)]
        return self

    def fragment(self, fragment_index: int) -> EncodedGop:
        self.prepare()
        return self._gops[fragment_index % len(self._gops)]

    @property
    def achieved_kbit_s(self) -> float:
        self.prepare()
        size = sum(len(p) for gop in self._gops for p in gop.packets)
        frames = sum(len(gop.packets) for gop in self._gops)
        return size * 8 * self.fps / frames / 1000


def camera_720p15(fragment_duration: float = 2.0, bitrate: int = 2_000_000) -> ContentCamera:
    return ContentCamera(width=1280, height=720, fps=15, bitrate=bitrate, fragment_duration=fragment_duration)


# -- realistic recordings, encoded once and cached (git-ignored) --

MEDIA = Path(os.environ.get("KVS_BENCH_MEDIA", BENCH / "media"))


def content(resolution: str = "720p", codec: str = "h264", seconds: float = 20.0) -> Path:
    """The cached recording of the realistic scene: 720p15 ~2 Mbit/s or 1080p15 ~4 Mbit/s, GOP 2 s."""
    spec = SceneSpec.p720(codec, seconds) if resolution == "720p" else SceneSpec.p1080(codec, seconds)
    return recording(spec, MEDIA)


def getmedia_bytes(path: Path) -> bytes:
    """What GetMedia sends for `path` read from its start: one Segment per fragment (a GOP), with the KVS
    tags (fragment number, timestamps; continuation token and MillisBehindNow after each Cluster)."""
    from kvs_parser.mkv import FragmentInfo, FragmentWriter, end_tags, start_tags

    media = load_file(str(path))
    writer = FragmentWriter(media.tracks, known_cluster_size=True)
    base = 1_700_000_000_000
    out = []
    for index, frames in enumerate(media.fragments):
        number = str(91343852333181432392682062607743920146159169392 + index * (1 << 92))
        info = FragmentInfo(number, base + frames[0].timecode + 300, base + frames[0].timecode)
        out.append(writer.fragment(frames, start_tags(info), end_tags(0, number)))
    return b"".join(out)
