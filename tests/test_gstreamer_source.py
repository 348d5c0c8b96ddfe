"""The gstreamer backend behind KVSGetMediaFrameSource: emulator -> real boto3 GetMedia over 127.0.0.1 ->
our parser -> GStreamer (avdec_h264/avdec_h265) -> numpy. Every frame once, with PyAV's metadata and (within
colour-conversion rounding) its pixels, across cut connections, a size change and realistic content."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

import boto3
import numpy as np
import pytest

from gstreamer_check import needs_gstreamer
from kvs_parser.emulator import Emulator, Fault, SceneSpec, SyntheticCamera, hevc_available, read_index, recording
from kvs_parser.emulator._resize import ResizingCamera, ResizingEmulator
from kvs_parser.source import KVSGetMediaFrameSource, SourceFrame

pytestmark = [needs_gstreamer, pytest.mark.timeout(180)]
FPS = 20


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")


def read_all(emu: Emulator, name: str, backend: str, **options: Any) -> List[SourceFrame]:
    options.setdefault("pixel_format", "rgb24")
    with KVSGetMediaFrameSource(name, name, session=session(), endpoint_url=emu.endpoint_url, backend=backend,
                                start_selector="EARLIEST", follow=False, queue_max_size=500, queue_policy="block",
                                **options) as source:
        return list(source)


def metadata(frames: List[SourceFrame]) -> List[tuple[Any, ...]]:
    return [(f.pts_ms, f.is_keyframe, f.producer_timestamp_ms, f.fragment_number, f.width, f.height)
            for f in frames]


def assert_same_pictures(ours: List[SourceFrame], pyav: List[SourceFrame], mean: float = 3.0) -> None:
    assert metadata(ours) == metadata(pyav)
    for a, b in zip(ours, pyav):
        diff = np.abs(a.image.astype(np.int16) - b.image.astype(np.int16))
        assert diff.mean() <= mean, (a.pts_ms, diff.mean())


def test_every_frame_once_across_cut_connections() -> None:
    with Emulator() as emu:
        emu.add_live_stream("cam", SyntheticCamera(width=160, height=120, fps=FPS, fragment_duration=0.5,
                                                   max_frames=60))
        for fault in (Fault(close_in_frame=3), Fault(close_after_bytes=2500), Fault(close_in_frame=7)):
            emu.inject(fault, stream="cam")
        ours = read_all(emu, "cam", "gstreamer")
        pyav = read_all(emu, "cam", "pyav")
    assert [read_index(f.image) for f in ours] == list(range(60))
    assert_same_pictures(ours, pyav)


def test_a_size_change_mid_stream() -> None:
    camera = ResizingCamera(sizes=((160, 120), (96, 64)), fps=FPS, fragment_duration=0.5, max_frames=40)
    with ResizingEmulator() as emu:
        emu.add_live_stream("resize", camera)
        frames = read_all(emu, "resize", "gstreamer")
    assert [read_index(f.image) for f in frames] == list(range(40))
    assert [(f.width, f.height) for f in frames] == [(160, 120)] * 10 + [(96, 64)] * 10 + [(160, 120)] * 10 + \
        [(96, 64)] * 10


@pytest.mark.parametrize(("codec", "width", "height"), [("h264", 1280, 720), ("hevc", 640, 360)])
def test_realistic_content_gives_pyavs_pictures(tmp_path_factory: pytest.TempPathFactory, codec: str, width: int,
                                                height: int) -> None:
    """The realistic scene (H.264 High / H.265 Main, CABAC, deblocking): the same frames as PyAV, yuv420p
    planes bit-exact (the same FFmpeg decoder underneath), BGR within videoconvert's rounding."""
    if codec == "hevc" and not hevc_available():
        pytest.skip("this FFmpeg has no libx265 to encode the H.265 recording")
    spec = SceneSpec(codec, width, height, fps=15, bitrate=1_500_000, gop_seconds=1.0, seconds=2.0)
    path: Path = recording(spec, tmp_path_factory.mktemp("media"))
    with Emulator() as emu:
        emu.add_replay_stream("real", str(path), passes=1)
        ours = read_all(emu, "real", "gstreamer", pixel_format="yuv420p")
        pyav = read_all(emu, "real", "pyav", pixel_format="yuv420p")
    assert len(ours) == 30
    assert_same_pictures(ours, pyav, mean=0.0)
