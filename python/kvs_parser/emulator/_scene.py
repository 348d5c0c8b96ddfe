"""Recordings that cost what real camera video costs to decode, for benchmarks and tests.

A textured scene pans slowly (as a PTZ tour or a handheld shot would), a few textured objects cross it,
and every frame carries fresh sensor noise; it is encoded the way IP cameras encode: H.264 High (CABAC,
deblocking, 8x8 transform) or H.265 Main, no B-frames, a fixed GOP of 1-2 s, constrained bit rate.
Never a preset that makes decoding cheap (ultrafast turns CABAC and deblocking off).

Recordings are written once per setting and cached (see `recording`), so a benchmark measures decoding,
not our encoder.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union, cast

import av
import numpy as np

ENCODERS = {"h264": "libx264", "hevc": "libx265"}


@dataclass(frozen=True)
class SceneSpec:
    """What to record. The defaults are a typical 720p15 camera at ~2 Mbit/s with a 2 s GOP."""

    codec: str = "h264"  # or "hevc"
    width: int = 1280
    height: int = 720
    fps: int = 15
    bitrate: int = 2_000_000
    gop_seconds: float = 2.0
    seconds: float = 20.0
    preset: str = "veryfast"

    def __post_init__(self) -> None:
        if self.codec not in ENCODERS:
            raise ValueError(f"codec must be one of {sorted(ENCODERS)}, not {self.codec!r}")
        if self.width % 2 or self.height % 2 or self.width < 64 or self.height < 64:
            raise ValueError(f"size {self.width}x{self.height}: even and at least 64x64")
        if self.preset in ("ultrafast", "superfast"):
            raise ValueError(f"preset {self.preset!r} turns CABAC or deblocking off: not a realistic camera")

    @property
    def gop(self) -> int:
        return max(1, round(self.gop_seconds * self.fps))

    @property
    def frames(self) -> int:
        return max(1, round(self.seconds * self.fps))

    @property
    def file_name(self) -> str:
        return (f"scene-{self.codec}-{self.width}x{self.height}p{self.fps}-{self.bitrate // 1000}k-"
                f"gop{self.gop}-{self.preset}-{self.frames}f.mp4")

    @classmethod
    def p720(cls, codec: str = "h264", seconds: float = 20.0) -> SceneSpec:
        return cls(codec, 1280, 720, 15, 2_000_000, 2.0, seconds)

    @classmethod
    def p1080(cls, codec: str = "h264", seconds: float = 20.0) -> SceneSpec:
        return cls(codec, 1920, 1080, 15, 4_000_000, 2.0, seconds)


def _texture(height: int, width: int, rng: np.random.Generator, scale: float) -> np.ndarray:
    """Smooth gradients plus fixed fine detail, float32 around 0 (detail motion search can follow)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    smooth = 40 * np.sin(x / (41 * scale) + y / (67 * scale)) + 25 * np.sin(x / (13 * scale) - y / (29 * scale))
    texture: np.ndarray = smooth + rng.normal(0, 12, (height, width)).astype(np.float32)
    return texture


@dataclass(frozen=True)
class _Mover:
    size: Tuple[int, int]  # (h, w)
    start: Tuple[float, float]  # (y, x) as fractions of the picture
    velocity: Tuple[float, float]  # pixels per frame
    level: float


class Scene:
    """Renders frame i of the scene as a yuv420p array (h*3/2, w), deterministic for a given size."""

    def __init__(self, width: int, height: int, seed: int = 7) -> None:
        self.width, self.height = width, height
        rng = np.random.default_rng(seed)
        scale = width / 1280
        # A background twice the picture size, panned across; chroma at half resolution.
        self._luma = _texture(2 * height, 2 * width, rng, scale)
        self._u = _texture(height, width, rng, 3 * scale)* 0.4
        self._v = _texture(height, width, rng, 5 * scale)* 0.4
        self._movers = [
            _Mover((int(height * h), int(width * w)), (sy, sx), (vy * scale, vx * scale), level)
            for h, w, sy, sx, vy, vx, level in (
                (0.20, 0.08, 0.55, 0.0, 0.0, 6.0, 70.0),  # a person walking across
                (0.12, 0.25, 0.75, 1.0, 0.0, -11.0, -60.0),  # a car the other way
                (0.10, 0.10, 0.10, 0.3, 1.5, 3.0, 45.0),  # something drifting down
            )
        ]
        self._patch = _texture(height, width, rng, 0.5 * scale)

    def picture(self, index: int) -> np.ndarray:
        width, height = self.width, self.height
        dx = int(width / 2 + width / 2 * np.sin(index / 90))  # a slow pan back and forth
        dy = int(height / 2 + height / 4 * np.sin(index / 130))
        luma = 120 + self._luma[dy : dy + height, dx : dx + width]
        for mover in self._movers:
            mh, mw = mover.size
            y = int(mover.start[0] * height + mover.velocity[0] * index) % max(1, height - mh)
            x = int(mover.start[1] * width + mover.velocity[1] * index) % max(1, width - mw)
            luma[y : y + mh, x : x + mw] = 120 + mover.level + self._patch[:mh, :mw]
        noise = np.random.default_rng(index).normal(0, 3.0, (height, width)).astype(np.float32)  # sensor
        y_plane = np.clip(luma + noise, 16, 235).astype(np.uint8)
        cy, cx = dy // 2, dx // 2
        u = np.clip(128 + self._u[cy : cy + height // 2, cx : cx + width // 2], 16, 240).astype(np.uint8)
        v = np.clip(128 + self._v[cy : cy + height // 2, cx : cx + width // 2], 16, 240).astype(np.uint8)
        # PyAV's yuv420p layout: U then V, each (h/2, w/2), packed two rows per (w) row.
        chroma = np.concatenate([u.reshape(height // 4, width), v.reshape(height // 4, width)])
        return np.concatenate([y_plane, chroma])


def scene_encoder_options(spec: SceneSpec) -> Dict[str, str]:
    """libx264/libx265 options: constrained bit rate (a camera's VBV), no B-frames, a fixed GOP without
    scene-cut keyframes."""
    kbit = spec.bitrate // 1000
    if spec.codec == "h264":
        params = f"bframes=0:keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:vbv-maxrate={kbit}:vbv-bufsize={kbit}"
        return {"preset": spec.preset, "profile": "high", "x264-params": params}
    params = (f"bframes=0:keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:vbv-maxrate={kbit}:"
              f"vbv-bufsize={kbit}:log-level=error")
    return {"preset": spec.preset, "profile": "main", "x265-params": params}


def write_recording(spec: SceneSpec, path: Union[str, Path]) -> Path:
    """Encodes the scene to an MP4 at `path` (written to a temporary name, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scene = Scene(spec.width, spec.height)
    options = scene_encoder_options(spec)
    fd, partial = tempfile.mkstemp(suffix=".mp4", dir=path.parent)
    os.close(fd)
    try:
        with av.open(partial, "w", format="mp4") as container:
            stream = cast("av.VideoStream", container.add_stream(ENCODERS[spec.codec], rate=spec.fps))  # by name
            stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
            stream.bit_rate = spec.bitrate
            stream.time_base = Fraction(1, spec.fps)
            stream.codec_context.options = options
            for index in range(spec.frames):
                frame = av.VideoFrame.from_ndarray(scene.picture(index), format="yuv420p")
                frame.pts = index
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return path


def default_cache_dir() -> Path:
    """$KVS_PARSER_MEDIA_CACHE, else ~/.cache/kvs-parser/media."""
    override = os.environ.get("KVS_PARSER_MEDIA_CACHE")
    return Path(override) if override else Path.home() / ".cache" / "kvs-parser" / "media"


def recording(spec: Optional[SceneSpec] = None, cache_dir: Union[str, Path, None] = None) -> Path:
    """The recording for `spec` (default: 720p15 H.264), encoding it on first use."""
    spec = spec or SceneSpec()
    path = Path(cache_dir or default_cache_dir()) / spec.file_name
    return path if path.exists() else write_recording(spec, path)


def describe_recording(path: Union[str, Path]) -> Dict[str, Any]:
    """Codec, profile, size, frame rate, bit rate and GOP of a recording (what a benchmark should print)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        keys: List[int] = []
        count = size = 0
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.is_keyframe:
                keys.append(count)
            count += 1
            size += packet.size
        rate = float(stream.average_rate or stream.guessed_rate or 0)
        gops = [b - a for a, b in zip(keys, keys[1:])]
        return {"codec": ctx.name, "profile": ctx.profile, "width": ctx.width, "height": ctx.height,
                "fps": rate, "frames": count, "kbit_s": size * 8 * rate / max(count, 1) / 1000,
                "gop_frames": max(gops) if gops else count}
