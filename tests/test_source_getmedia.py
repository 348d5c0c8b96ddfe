"""KVSGetMediaFrameSource end to end: emulator -> real boto3 GetMedia over 127.0.0.1 -> PyAV -> numpy."""

from __future__ import annotations

import threading
import time
from typing import Iterator, List

import boto3
import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from kvs_parser.emulator import Emulator, SyntheticCamera, hevc_available, read_index
from kvs_parser.emulator._resize import ResizingCamera, ResizingEmulator
from kvs_parser.getmedia import StreamNotFoundError
from kvs_parser.metrics import KVSMetrics
from kvs_parser.source import KVSGetMediaFrameSource, SourceEnded, SourceFrame, SourceNotStarted

pytestmark = pytest.mark.timeout(60)
FPS = 20


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def source(emu: Emulator, name: str, **options: object) -> KVSGetMediaFrameSource:
    options.setdefault("pixel_format", "rgb24")
    return KVSGetMediaFrameSource(name, name, session=session(), endpoint_url=emu.endpoint_url, **options)


def read_all(src: KVSGetMediaFrameSource) -> List[SourceFrame]:
    with src:
        return list(src)


def no_reader_threads() -> bool:
    names = [t.name for t in threading.enumerate()]
    return not any(n.startswith(("kvs-source-", "kvs-getmedia")) for n in names)


def test_frames_carry_their_index_in_pixels_and_timestamps(emu: Emulator) -> None:
    emu.add_live_stream("cam", SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5, max_frames=40))
    registry = CollectorRegistry()
    src = source(emu, "cam", start_selector="EARLIEST", follow=False, metrics=KVSMetrics(registry))
    frames = read_all(src)
    assert [read_index(f.image) for f in frames] == list(range(40))
    assert [round(f.media_time_ms * FPS / 1000) for f in frames] == list(range(40))
    assert all(f.pts_ms == f.producer_time_ms for f in frames)  # pts_ms: the producer's clock, as HLS gives it
    first = frames[0].image
    assert first.shape == (64, 96, 3) and first.dtype == np.uint8
    # Frame 0 is all black blocks: the pixel content itself, within a tolerance, not just the decoded index.
    assert float(first.mean()) < 40
    assert all(f.is_keyframe == (i % 10 == 0) for i, f in enumerate(frames))
    assert all(f.latency_ms is not None and f.producer_time_ms is not None for f in frames)
    assert all(f.fragment_number and f.camera_id == "cam" for f in frames)
    metrics = src.get_metrics()
    assert metrics.frames_read == 40 and metrics.frames_dropped == 0 and metrics.bytes > 0
    assert metrics.parse_errors == 0 and metrics.decode_errors == 0 and metrics.latency_ms.count == 40
    assert registry.get_sample_value("kvs_getmedia_frames_read_total", {"camera": "cam"}) == 40
    assert registry.get_sample_value("kvs_getmedia_latency_ms_count", {"camera": "cam"}) == 40
    assert registry.get_sample_value("kvs_getmedia_bytes_total", {"camera": "cam"}) == metrics.bytes
    assert src.read_frame(timeout=0.1) == (False, None)
    with pytest.raises(SourceEnded):
        src.read(timeout=0.1)
    assert no_reader_threads()


def test_read_frame_is_opencv_like_and_live_latency_is_small(emu: Emulator) -> None:
    emu.add_live_stream("live", SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5))
    src = source(emu, "live", pixel_format=None)  # default bgr24, as OpenCV
    with pytest.raises(SourceNotStarted):
        src.read()
    with src:
        ok, image = src.read_frame(timeout=5)
        assert ok and image.shape == (64, 96, 3)
        latencies = [src.read(timeout=5).latency_ms for _ in range(10)]
    assert all(value is not None and -50 < value < 1000 for value in latencies)
    assert not src.running and no_reader_threads()


@pytest.mark.skipif(not hevc_available(), reason="this FFmpeg has no libx265 encoder for the synthetic camera")
def test_hevc_stream_is_decoded(emu: Emulator) -> None:
    camera = SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5, codec="hevc", max_frames=20)
    emu.add_live_stream("h265", camera)
    frames = read_all(source(emu, "h265", start_selector="EARLIEST", follow=False))
    assert [read_index(f.image) for f in frames] == list(range(20))


def test_resolution_change_mid_stream_opens_a_new_decoder() -> None:
    camera = ResizingCamera(sizes=((160, 120), (96, 64)), fps=FPS, fragment_duration=0.5, max_frames=40)
    with ResizingEmulator() as emu:
        emu.add_live_stream("resize", camera)
        frames = read_all(source(emu, "resize", start_selector="EARLIEST", follow=False))
    assert [read_index(f.image) for f in frames] == list(range(40))
    sizes = [(f.width, f.height) for f in frames]
    assert sizes == [(160, 120)] * 10 + [(96, 64)] * 10 + [(160, 120)] * 10 + [(96, 64)] * 10
    assert all(f.image.shape[:2] == (f.height, f.width) for f in frames)


def test_resize_option_applies_to_every_frame(emu: Emulator) -> None:
    emu.add_live_stream("small", SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5, max_frames=10))
    frames = read_all(source(emu, "small", start_selector="EARLIEST", follow=False, width=48, pixel_format="gray"))
    assert {f.image.shape for f in frames} == {(32, 48)} and len(frames) == 10


def test_fatal_error_surfaces_on_read_and_in_error(emu: Emulator) -> None:
    src = source(emu, "missing")
    with src:
        with pytest.raises(StreamNotFoundError):
            src.read(timeout=10)
        with pytest.raises(StreamNotFoundError):
            src.read_frame(timeout=1)
        assert isinstance(src.error, StreamNotFoundError)
        assert "StreamNotFoundError" in (src.get_metrics().error or "")
    assert no_reader_threads()


def test_stop_while_waiting_for_media_leaves_no_thread(emu: Emulator) -> None:
    emu.add_empty_stream("quiet")  # no producer: the GetMedia read blocks
    src = source(emu, "quiet").start()
    time.sleep(0.3)
    started = time.monotonic()
    src.stop()
    assert time.monotonic() - started < 5
    assert not src.running and no_reader_threads() and src.error is None
