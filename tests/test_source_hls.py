"""KVSHLSFrameSource against the emulator's GetHLSStreamingSessionURL: the same frames as GetMedia."""

from __future__ import annotations

import time
from typing import List

import boto3
import pytest

from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.source import KVSGetMediaFrameSource, KVSHLSFrameSource, SourceEnded

pytestmark = pytest.mark.timeout(60)
FPS = 20
FRAMES = 30


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")


def indices(source: KVSGetMediaFrameSource | KVSHLSFrameSource) -> List[int]:
    with source:
        return [read_index(frame.image) for frame in source]


@pytest.mark.parametrize("container_format", ["FRAGMENTED_MP4", "MPEG_TS"])
def test_hls_and_getmedia_give_the_same_frames(container_format: str) -> None:
    camera = SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5, max_frames=FRAMES)
    with Emulator() as emu:
        stream = emu.add_live_stream("cam", camera)
        deadline = time.monotonic() + 10
        while not stream.closed and time.monotonic() < deadline:  # a finished stream: both reads end
            time.sleep(0.05)
        options = dict(session=session(), endpoint_url=emu.endpoint_url, pixel_format="rgb24",
                       start_selector="EARLIEST")
        hls = KVSHLSFrameSource("cam", "cam", container_format=container_format, **options)
        via_hls = indices(hls)
        via_getmedia = indices(KVSGetMediaFrameSource("cam", "cam", follow=False, **options))
    assert via_hls == via_getmedia == list(range(FRAMES))
    metrics = hls.get_metrics()
    assert metrics.frames_read == FRAMES and metrics.bytes > 0 and metrics.error is None
    if container_format == "FRAGMENTED_MP4":  # producer timestamps in the segments: latency is known
        assert metrics.latency_ms.count == FRAMES and metrics.latency_ms.p50 is not None
    with pytest.raises(SourceEnded):
        hls.read(timeout=0.1)


def test_hls_live_follows_a_live_stream() -> None:
    camera = SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5)
    with Emulator() as emu:
        emu.add_live_stream("live", camera)
        src = KVSHLSFrameSource("live", "live", session=session(), endpoint_url=emu.endpoint_url,
                                pixel_format="rgb24", start_selector="EARLIEST")
        with src:
            got = [src.read(timeout=10) for _ in range(25)]  # more than one segment: the playlist is reloaded
        assert not src.running
    assert [read_index(f.image) for f in got] == list(range(25))
    assert all(f.latency_ms is not None and 0 < f.latency_ms < 5000 for f in got)
