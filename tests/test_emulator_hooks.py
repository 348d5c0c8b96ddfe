"""Emulator hooks (frame appended, bytes sent) seen from real boto3 calls over 127.0.0.1."""

from __future__ import annotations

import logging
from typing import List

import boto3
import pytest

from kvs_parser import iter_frames
from kvs_parser.emulator import BytesSent, Emulator, FrameAppended, SyntheticCamera
from kvs_parser.mkv import Block

pytestmark = pytest.mark.timeout(60)
CREDENTIALS = {"region_name": "us-west-2", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
FRAMES = 12


def client(emu: Emulator, service: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, endpoint_url=emu.endpoint_url, **CREDENTIALS)


def get_media(emu: Emulator, stream: str) -> bytes:
    selector = {"StartSelectorType": "EARLIEST"}
    return bytes(client(emu, "kinesis-video-media").get_media(StreamName=stream, StartSelector=selector)["Payload"]
                 .read())


def test_hooks_see_each_frame_appended_and_each_piece_sent() -> None:
    appended: List[FrameAppended] = []
    sent: List[BytesSent] = []
    with Emulator() as emu, emu.hooks.on_frame_appended(appended.append), emu.hooks.on_bytes_sent(sent.append):
        camera = SyntheticCamera(width=64, height=48, fps=30, fragment_duration=5 / 30, max_frames=FRAMES)
        stream = emu.add_live_stream("cam", camera)
        assert stream.wait_closed(30)
        payload = get_media(emu, "cam")
        described = client(emu, "kinesisvideo").describe_stream(StreamName="cam")

    # Every frame the camera produced, in order, with its producer timestamp.
    assert [event.stream for event in appended] == ["cam"] * FRAMES
    received = [bytes(frame.data) for frame in iter_frames([payload])]
    assert [event.frame.data for event in appended] == received
    producer_ms = [event.producer_ms for event in appended]
    assert producer_ms == sorted(producer_ms) and producer_ms[-1] - producer_ms[0] >= (FRAMES - 1) * 30
    assert len({event.fragment_number for event in appended}) == FRAMES // 5 + 1

    # GetMedia: one event per piece, one per frame block, together exactly the body boto3 read.
    media = [event for event in sent if event.operation == "GetMedia"]
    assert {event.stream for event in media} == {"cam"}
    assert sum(event.frame for event in media) == FRAMES
    assert sum(event.size for event in media) == len(payload)
    # A whole JSON body: one event of its Content-Length.
    length = int(described["ResponseMetadata"]["HTTPHeaders"]["content-length"])
    assert [(e.stream, e.size, e.frame) for e in sent if e.operation == "DescribeStream"] == [("cam", length, False)]


def test_a_removed_hook_is_not_called_and_a_failing_hook_breaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    seen: List[FrameAppended] = []

    def failing(event: BytesSent) -> None:
        raise RuntimeError("a broken measurement")

    blocks = [Block(1, timecode, bytes([index]) * 50, keyframe=index == 0)
              for index, timecode in enumerate(range(0, 300, 100))]
    with Emulator() as emu:
        subscription = emu.hooks.on_frame_appended(seen.append)
        subscription.remove()
        emu.hooks.on_bytes_sent(failing)
        camera = SyntheticCamera(width=64, height=48, fps=10, max_frames=3)
        emu.add_frames_stream("clip", (camera.track(),), [blocks])
        with caplog.at_level(logging.ERROR, logger="kvs_parser.emulator"):
            payload = get_media(emu, "clip")
    assert seen == []
    assert [bytes(frame.data) for frame in iter_frames([payload])] == [block.data for block in blocks]
    assert "a broken measurement" in caplog.text
