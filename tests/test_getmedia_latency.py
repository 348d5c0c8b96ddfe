"""At a low bitrate a frame reaches the caller when its last byte arrives, whatever the read size: the body
is read with read1 semantics, not by filling a buffer (64 KiB at 100 kbit/s would take over 5 s)."""

from __future__ import annotations

import statistics
import time
from typing import Iterator, List

import boto3
import pytest

from kvs_parser.emulator import Emulator, Fault, Limits, SyntheticCamera
from kvs_parser.getmedia import GetMediaClient, StartSelector

pytestmark = pytest.mark.timeout(60)
KEYS = {"aws_access_key_id": "x", "aws_secret_access_key": "x", "region_name": "us-west-2"}
FRAMES = 15


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(limits=Limits(getmedia_tps_per_stream=1000)) as emulator:
        cam = SyntheticCamera(width=160, height=120, fps=10, bitrate=100_000, fragment_duration=1.0)
        emulator.add_live_stream("slow", cam)
        yield emulator


def latencies_ms(emu: Emulator, read_size: int) -> List[float]:
    """Milliseconds from each frame's capture (its producer time) to its delivery, bytes trickling in
    64 at a time (every frame spread over tens of milliseconds)."""
    emu.inject(Fault(trickle_bytes=64, trickle_interval=0.002), stream="slow")
    got: List[float] = []
    with GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url) as client, \
            client.stream("slow", start=StartSelector.now(), read_size=read_size) as stream:
        first_wall_ms = None
        for frame in stream.frames():
            now_ms = time.time() * 1000
            captured_ms = frame.producer_timestamp_ms + frame.pts_ms - frame.cluster_timecode
            if first_wall_ms is None:
                first_wall_ms = now_ms
            if captured_ms > first_wall_ms:  # not the backlog NOW starts with
                got.append(now_ms - captured_ms)
            if len(got) == FRAMES:
                break
    return got


def test_latency_does_not_depend_on_read_size(emu: Emulator) -> None:
    big = latencies_ms(emu, 64 * 1024)
    small = latencies_ms(emu, 256)
    assert len(big) == len(small) == FRAMES
    # Each frame trickles in over ~10-60 ms; a read that waited for 64 KiB would add seconds.
    assert statistics.median(big) < 150 and max(big) < 400, big
    assert abs(statistics.median(big) - statistics.median(small)) < 40, (big, small)
