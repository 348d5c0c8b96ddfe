"""Reading a frame source as a newcomer does: read_frame() waits through a slow start and only returns
False at the end; pts_ms means the same for GetMedia and HLS; a SourceFrame prints briefly."""

from __future__ import annotations

import threading
import time
from typing import List

import boto3
import numpy as np
import pytest

from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.source import FrameTimeout, KVSGetMediaFrameSource, KVSHLSFrameSource, SourceFrame

pytestmark = pytest.mark.timeout(90)
FPS = 20


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")


def test_read_frame_waits_through_a_pause_and_is_false_only_at_the_end() -> None:
    # The producer goes quiet for 2.5 s before its second fragment: longer than the queue's 1 s timeout.
    camera = SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5, max_frames=20, pauses=((1, 2.5),))
    with Emulator() as emu:
        emu.add_live_stream("cam", camera)
        source = KVSGetMediaFrameSource("cam", "cam", session=session(), endpoint_url=emu.endpoint_url,
                                        pixel_format="rgb24", start_selector="earliest")
        with source:
            indices: List[int] = []
            longest_wait = 0.0
            while len(indices) < 20:
                started = time.monotonic()
                ok, image = source.read_frame()  # the usual cv2 loop: `if not ok: break`
                longest_wait = max(longest_wait, time.monotonic() - started)
                assert ok, f"read_frame gave up after {len(indices)} frames"
                indices.append(read_index(image))
            assert indices == list(range(20)) and longest_wait > 1.5  # it waited through the pause
            with pytest.raises(FrameTimeout):
                source.read_frame(timeout=0.2)  # a bounded wait says it timed out, not that the stream ended
            threading.Timer(0.3, source.stop).start()
            assert source.read_frame() == (False, None)  # stop() ends the unbounded wait: False, no hang


def test_pts_ms_means_the_same_for_getmedia_and_hls() -> None:
    camera = SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5, max_frames=20)
    with Emulator() as emu:
        stream = emu.add_live_stream("cam", camera)
        assert stream.wait_closed(timeout=20)
        options = dict(session=session(), endpoint_url=emu.endpoint_url, pixel_format="rgb24",
                       start_selector="earliest")
        with KVSGetMediaFrameSource("cam", "cam", follow=False, **options) as getmedia:
            via_getmedia = list(getmedia)
        with KVSHLSFrameSource("cam", "cam", **options) as hls:
            via_hls = list(hls)
    assert [read_index(f.image) for f in via_hls] == [read_index(f.image) for f in via_getmedia] == list(range(20))
    # One meaning: the producer's clock in epoch milliseconds, equal to producer_time_ms, in both sources.
    assert [f.pts_ms for f in via_hls] == [f.pts_ms for f in via_getmedia]
    assert all(f.pts_ms == f.producer_time_ms for f in via_hls + via_getmedia)
    now_ms = time.time() * 1000
    assert all(now_ms - 120_000 < f.pts_ms <= now_ms for f in via_getmedia)
    assert all(f.producer_timestamp_ms is not None for f in via_getmedia + via_hls)
    assert all(f.server_timestamp_ms is not None for f in via_getmedia)
    # The container's own timeline stays available: the emulator's MKV starts at 0.
    assert [round(f.media_time_ms * FPS / 1000) for f in via_getmedia] == list(range(20))


def test_source_frame_repr_shows_the_image_shape_not_its_pixels() -> None:
    frame = SourceFrame(camera_id="door", image=np.zeros((720, 1280, 3), np.uint8), pixel_format="bgr24",
                        width=1280, height=720, pts_ms=1_700_000_000_000, is_keyframe=True)
    text = repr(frame)
    assert "shape=(720, 1280, 3)" in text and "dtype=uint8" in text and "pts_ms=1700000000000" in text
    assert len(text) < 400 and "[[" not in text
