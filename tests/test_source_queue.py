"""Queue policies of a frame source under a slow consumer, on the live emulator."""

from __future__ import annotations

import time

import boto3
import pytest

from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.source import KVSGetMediaFrameSource

pytestmark = pytest.mark.timeout(60)
FPS = 30


def make_source(emu: Emulator, name: str, **options: object) -> KVSGetMediaFrameSource:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")
    return KVSGetMediaFrameSource(name, name, session=session, endpoint_url=emu.endpoint_url,
                                  pixel_format="gray", **options)


def test_drop_oldest_keeps_the_newest_frames() -> None:
    camera = SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5)
    with Emulator() as emu:
        emu.add_live_stream("cam", camera)
        with make_source(emu, "cam", queue_max_size=5, queue_policy="drop_oldest") as src:
            src.read(timeout=10)  # connected and decoding
            time.sleep(1.0)  # a consumer busy for ~30 frames
            backlog = [read_index(src.read(timeout=2).image) for _ in range(5)]
            newest = read_index(src.read(timeout=2).image)
            metrics = src.get_metrics()
    assert backlog == list(range(backlog[0], backlog[0] + 5))  # consecutive: only older frames were dropped
    assert metrics.frames_dropped >= 15
    assert newest - backlog[0] <= 10  # what was kept was the most recent, not the oldest


def test_block_loses_nothing_for_a_slow_consumer() -> None:
    camera = SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5, max_frames=30)
    with Emulator() as emu:
        emu.add_live_stream("cam", camera)
        src = make_source(emu, "cam", start_selector="EARLIEST", follow=False, queue_max_size=3,
                          queue_policy="block", queue_timeout=None)
        indices = []
        with src:
            for frame in iter(lambda: src.read(timeout=10), None):
                indices.append(read_index(frame.image))
                time.sleep(0.05)  # slower than the 30 fps producer
                if len(indices) == 30:
                    break
            metrics = src.get_metrics()
    assert indices == list(range(30))
    assert metrics.frames_dropped == 0
