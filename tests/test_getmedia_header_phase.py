"""GetMedia's header phase against the emulator's header faults, with real boto3 over 127.0.0.1:
`read_timeout` bounds the whole wait for the response headers (a server that sends one header line at a
time, each within read_timeout, is a timeout at read_timeout, counted and retried), and a header block cut
before its end is a cut, resumed, not the clean end of the stream. Every frame arrives once, in order."""

from __future__ import annotations

import time
from typing import Iterator, List, Tuple

import boto3
import pytest

from finished_stream import FPS, FRAMES, KEYS, finished_stream_emulator
from kvs_parser.emulator import Emulator, Fault, index_from_timecode
from kvs_parser.getmedia import GetMediaClient, Reset, RetryPolicy, StartSelector

pytestmark = pytest.mark.timeout(90)
READ_TIMEOUT = 2.0
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.005, max_delay=0.05)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with finished_stream_emulator() as emulator:
        yield emulator


def read_with_fault(emu: Emulator, fault: Fault) -> Tuple[List[int], List[Reset], List[float]]:
    """Every frame index of "done" with `fault` on the first GetMedia, the resets and when each came
    (seconds from the start)."""
    emu.faults.clear()
    emu.inject(fault, stream="done", times=1)
    resets: List[Reset] = []
    at: List[float] = []
    started = time.monotonic()

    def on_reset(reset: Reset) -> None:
        resets.append(reset)
        at.append(time.monotonic() - started)

    with GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url, retry=FAST_RETRY,
                        read_timeout=READ_TIMEOUT) as client:
        stream = client.stream("done", start=StartSelector.earliest(), follow=False, on_reset=on_reset)
        got = [index_from_timecode(frame.pts_ms, FPS) for frame in stream.frames()]
        assert stream.counters.connect_failures == len(resets)
    emu.faults.clear()
    return got, resets, at


def test_read_timeout_bounds_the_whole_header_phase(emu: Emulator) -> None:
    # A line a second (each read well within read_timeout): 24 lines would hold the request for 23 s.
    fault = Fault(header_line_interval=1.0, header_filler_lines=20)
    got, resets, at = read_with_fault(emu, fault)
    assert got == list(range(FRAMES))
    assert [r.reason for r in resets] == ["timed out"]
    assert READ_TIMEOUT <= at[0] < READ_TIMEOUT + 2.0, at
    wrapped = getattr(resets[0].error, "kwargs", {}).get("error")  # botocore's ReadTimeoutError holds urllib3's
    assert "no complete response headers within read_timeout" in str(wrapped)


@pytest.mark.parametrize("lines", [1, 3])  # the status line only; the status line and two headers
def test_a_cut_header_block_is_a_cut_not_the_end(emu: Emulator, lines: int) -> None:
    got, resets, _ = read_with_fault(emu, Fault(cut_headers_after_lines=lines))
    assert got == list(range(FRAMES)), "the stream went on after the cut response"
    assert [r.reason for r in resets] == ["connect failed"]
    assert "ended inside the response headers" in str(getattr(resets[0].error, "kwargs", {}).get("error"))
