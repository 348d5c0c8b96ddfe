"""A finished GetMedia stream for the client's tests: "done", 6 fragments of 10 frames at 50 fps on an
emulator, each frame's index in its timecode, read with real boto3 over 127.0.0.1."""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator, List, Tuple

import boto3

from kvs_parser.emulator import Emulator, Limits, SyntheticCamera, index_from_timecode
from kvs_parser.getmedia import GetMediaClient, GetMediaStream, Reset, RetryPolicy, StartSelector

FPS, PER_FRAGMENT, FRAMES = 50, 10, 60  # 6 fragments of 0.2 s
KEYS: Dict[str, str] = {"aws_access_key_id": "x", "aws_secret_access_key": "x", "region_name": "us-west-2"}


def camera(**overrides: Any) -> SyntheticCamera:
    return SyntheticCamera(**{"width": 64, "height": 48, "fps": FPS, "fragment_duration": PER_FRAGMENT / FPS,
                              **overrides})


@contextlib.contextmanager
def finished_stream_emulator(**options: Any) -> Iterator[Emulator]:
    """An emulator (no GetMedia throttling, `options` added) holding the finished stream "done"."""
    with Emulator(limits=Limits(getmedia_tps_per_stream=1000), **options) as emulator:
        assert emulator.add_live_stream("done", camera(max_frames=FRAMES)).wait_closed(20)
        yield emulator


@contextlib.contextmanager
def fault_free_client(emu: Emulator, retry: RetryPolicy, keys: Dict[str, str] = KEYS) -> Iterator[GetMediaClient]:
    """A client of `emu`, with no fault left over from another test (nor left behind for the next)."""
    emu.faults.clear()
    try:
        with GetMediaClient(boto3.Session(**keys), endpoint_url=emu.endpoint_url, retry=retry) as client:
            yield client
    finally:
        emu.faults.clear()


def read_all(client: GetMediaClient, **options: Any) -> Tuple[List[int], List[Reset], GetMediaStream]:
    """Every frame index of "done" from the earliest fragment, the resets on the way, and the stream."""
    resets: List[Reset] = []
    stream = client.stream("done", start=StartSelector.earliest(), follow=False, on_reset=resets.append,
                           **options)
    got = [index_from_timecode(frame.pts_ms, FPS) for frame in stream.frames()]
    return got, resets, stream
