"""Faults injected by the emulator between real boto3 and GetMedia over 127.0.0.1: 5xx answers, a data
endpoint that moves, a server that hangs before its headers, a clean end inside a fragment, silence on an
open connection, hostile tags. Every frame must arrive exactly once, in order (the synthetic camera puts
each frame's index in its timecode)."""

from __future__ import annotations

import threading
import time
from typing import Any, Iterator, List

import boto3
import pytest

from finished_stream import (
    FRAMES,
    KEYS,
    PER_FRAGMENT,
    camera,
    fault_free_client,
    finished_stream_emulator,
    read_all,
)
from kvs_parser.emulator import Emulator, Fault, index_from_timecode
from kvs_parser.errors import NonRetryableError
from kvs_parser.getmedia import (
    GetMediaClient,
    InvalidArgumentError,
    NotAuthorizedError,
    Reset,
    RetriesExhaustedError,
    RetryPolicy,
    StartSelector,
    StreamNotFoundError,
)

pytestmark = pytest.mark.timeout(90)
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.005, max_delay=0.05)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with finished_stream_emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[GetMediaClient]:
    with fault_free_client(emu, FAST_RETRY) as c:
        yield c


def fragment_offsets(client: GetMediaClient) -> List[int]:
    """Where each fragment starts in an uncut response."""
    starts: List[int] = []
    stream = client.stream("done", start=StartSelector.earliest(), follow=False,
                           on_fragment=lambda f: starts.append(f.start_offset))
    assert len(list(stream.frames())) == FRAMES
    return starts


# -- 1: transient answers are retried with the one backoff, counted; fatal ones are typed and immediate --
@pytest.mark.parametrize(("code", "status", "reason", "counter"), [
    ("InternalFailure", 500, "server error", "server_errors"),
    ("ServiceUnavailable", 503, "server error", "server_errors"),
    ("SomethingNew", 502, "server error", "server_errors"),
    ("KMSThrottlingException", None, "throttled", "throttles"),
    ("ThrottlingException", None, "throttled", "throttles"),
    ("InvalidEndpointException", None, "endpoint error", "endpoint_errors"),
])
def test_transient_answers_on_getmedia_are_retried(emu: Emulator, client: GetMediaClient, code: str,
                                                   status: Any, reason: str, counter: str) -> None:
    emu.inject(Fault(error=code, status=status), stream="done", times=2)
    got, resets, stream = read_all(client)
    assert got == list(range(FRAMES))
    assert [r.reason for r in resets] == [reason, reason]
    assert [r.attempt for r in resets] == [1, 2]  # the one backoff: consecutive failures grow the delay
    counters = stream.counters
    assert getattr(counters, counter) == 2 and counters.resets == 2


def test_a_5xx_is_retried_even_when_every_call_fails_for_a_while(emu: Emulator) -> None:
    emu.faults.clear()
    emu.inject(Fault(error="InternalFailure"), stream="done", times=12)
    unbounded = RetryPolicy(max_attempts=None, base_delay=0.001, max_delay=0.01)
    with GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url, retry=unbounded) as client:
        got, resets, stream = read_all(client)
    emu.faults.clear()
    assert got == list(range(FRAMES)) and stream.counters.server_errors == 12 and len(resets) == 12


def test_5xx_on_get_data_endpoint_is_retried(emu: Emulator, client: GetMediaClient) -> None:
    emu.inject(Fault(error="ServiceUnavailable"), operation="GetDataEndpoint", stream="done")
    got, resets, _ = read_all(client)
    assert got == list(range(FRAMES)) and [r.reason for r in resets] == ["server error"]


def test_5xx_without_end_gives_up_with_the_last_failure_as_cause(emu: Emulator, client: GetMediaClient) -> None:
    emu.inject(Fault(error="InternalFailure"), stream="done", times=None)
    with pytest.raises(RetriesExhaustedError) as caught:
        read_all(client)
    assert "InternalFailure" in str(caught.value.__cause__)


@pytest.mark.parametrize(("code", "kind"), [
    ("ResourceNotFoundException", StreamNotFoundError), ("NotAuthorizedException", NotAuthorizedError),
    ("InvalidArgumentException", InvalidArgumentError), ("SomeNewRejection", InvalidArgumentError),
])
def test_what_can_never_succeed_is_fatal_typed_and_immediate(emu: Emulator, client: GetMediaClient, code: str,
                                                             kind: type) -> None:
    emu.inject(Fault(error=code), stream="done")
    started = time.monotonic()
    with pytest.raises(kind) as caught:
        read_all(client)
    assert isinstance(caught.value, NonRetryableError) and time.monotonic() - started < 5
    assert emu.call_count("GetMedia", "done") >= 1


# -- 2: the data endpoint moves and the old one stops answering --
@pytest.mark.parametrize("moves", [1, 2])
def test_data_endpoint_moves_mid_stream(moves: int) -> None:
    """A live stream: the response follows the producer, so moving the endpoint cuts it."""
    with Emulator() as emulator, GetMediaClient(boto3.Session(**KEYS), endpoint_url=emulator.endpoint_url,
                                                retry=FAST_RETRY) as client:
        emulator.add_live_stream("live", camera(fps=25, fragment_duration=0.4))
        urls: List[str] = []

        def move(fragment: Any) -> None:
            if len(urls) < moves:  # after the first fragment of each response
                urls.append(emulator.move_data_endpoint())

        resets: List[Reset] = []
        stream = client.stream("live", start=StartSelector.earliest(), on_fragment=move, on_reset=resets.append)
        got: List[int] = []
        for frame in stream.frames():
            got.append(index_from_timecode(frame.pts_ms, 25))
            if len(got) == 100 + 50 * moves:  # well after the last move: the moves cut live responses
                break
        stream.stop()
        assert got == list(range(len(got)))
        assert len(set(urls)) == moves and emulator.endpoint_url not in urls
        assert stream.counters.endpoint_resolutions >= moves
        assert emulator.call_count("GetDataEndpoint", "live") >= moves + 1
        assert {r.reason for r in resets} <= {"cut", "connect failed", "ended mid-fragment"}


# -- 7/9: a server that hangs before its headers, a connection that goes silent --
def test_hang_before_headers_times_out_and_resumes(emu: Emulator) -> None:
    emu.faults.clear()
    emu.inject(Fault(hang_seconds=30), stream="done")
    with GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url, retry=FAST_RETRY,
                        read_timeout=1.0) as client:
        started = time.monotonic()
        got, resets, stream = read_all(client)
    emu.faults.clear()
    assert got == list(range(FRAMES)) and [r.reason for r in resets] == ["timed out"]
    assert time.monotonic() - started < 10 and stream.counters.endpoint_resolutions == 1


def test_stop_while_waiting_for_headers_returns_at_once_and_leaves_no_thread(emu: Emulator,
                                                                              client: GetMediaClient) -> None:
    emu.inject(Fault(hang_seconds=30), stream="done")
    stream = client.stream("done", start=StartSelector.earliest()).start()
    time.sleep(0.5)  # the request is out, waiting for headers
    started = time.monotonic()
    stream.stop(timeout=5)
    assert time.monotonic() - started < 2
    assert not any(t.name == "kvs-getmedia" for t in threading.enumerate()) and stream.error is None


def test_silent_connection_is_resumed_within_the_fragment_bound(emu: Emulator, client: GetMediaClient) -> None:
    """Defaults: once fragments of 0.2 s were seen, 2 s of silence (the floor) ends the connection."""
    starts = fragment_offsets(client)
    emu.inject(Fault(stall_after_bytes=starts[3] + 100, stall_seconds=30), stream="done")
    started = time.monotonic()
    got, resets, stream = read_all(client)
    elapsed = time.monotonic() - started
    assert got == list(range(FRAMES)) and [r.reason for r in resets] == ["silent"]
    assert 1.5 < elapsed < 8, elapsed
    assert stream.counters.silences == 1 and stream.counters.endpoint_resolutions == 1


def test_silence_bound_is_configurable(emu: Emulator, client: GetMediaClient) -> None:
    emu.inject(Fault(stall_after_bytes=500, stall_seconds=30), stream="done")
    started = time.monotonic()
    got, resets, _ = read_all(client, silence_timeout=0.5)
    assert got == list(range(FRAMES)) and [r.reason for r in resets] == ["silent"]
    assert time.monotonic() - started < 5


# -- 5: a response that ends cleanly inside a fragment --
@pytest.mark.parametrize("frame", [0, 5, 15, 59])
def test_clean_end_inside_a_fragment_is_resumed_without_follow(emu: Emulator, client: GetMediaClient,
                                                               frame: int) -> None:
    emu.inject(Fault(end_in_frame=frame), stream="done")
    got, resets, stream = read_all(client)
    assert got == list(range(FRAMES)) and [r.reason for r in resets] == ["ended mid-fragment"]
    assert stream.counters.early_ends == 1


def test_clean_end_at_a_fragment_boundary_still_ends_without_follow(emu: Emulator, client: GetMediaClient) -> None:
    emu.inject(Fault(end_after_fragments=2), stream="done")
    got, resets, _ = read_all(client)
    assert got == list(range(2 * PER_FRAGMENT)) and resets == []


# -- 4/8: hostile tags --
def test_tags_that_are_not_utf8_are_parse_errors_and_the_stream_goes_on(emu: Emulator,
                                                                        client: GetMediaClient) -> None:
    emu.inject(Fault(non_utf8_tags=True), stream="done")
    got, resets, stream = read_all(client)
    assert got == list(range(FRAMES)) and resets == []
    assert stream.counters.parse_errors == 2 * FRAMES // PER_FRAGMENT  # a bad name and a bad value each


@pytest.mark.parametrize("tag", ["AWS_KINESISVIDEO_FRAGMENT_NUMBER", "AWS_KINESISVIDEO_CONTINUATION_TOKEN",
                                 "AWS_KINESISVIDEO_SERVER_TIMESTAMP"])
def test_a_corrupt_byte_in_an_aws_tag_value_does_not_end_the_stream(emu: Emulator, client: GetMediaClient,
                                                                    tag: str) -> None:
    emu.inject(Fault(corrupt_tag=tag), stream="done")
    got, _, stream = read_all(client)
    assert got == list(range(FRAMES)) and stream.counters.parse_errors == FRAMES // PER_FRAGMENT


def test_over_4096_tags_keep_the_continuation_token(emu: Emulator, client: GetMediaClient) -> None:
    # 4200 user tags before each fragment's trailing AWS tags, in the same Tags element as the token.
    emu.inject(Fault(extra_tags=4200), stream="done")
    got, resets, stream = read_all(client)
    assert got == list(range(FRAMES)) and resets == []
    counters = stream.counters
    assert counters.parse_errors == (4200 - 4096) * FRAMES // PER_FRAGMENT  # each user tag over the limit
    assert counters.fragments == FRAMES // PER_FRAGMENT
    # The emulator's token is the fragment number: the resume point is the newest fragment's own token.
    assert stream.state.token is not None and stream.state.token == stream.state.last_complete


def test_over_4096_tags_then_a_cut_resumes_exactly_once(emu: Emulator, client: GetMediaClient) -> None:
    emu.inject(Fault(extra_tags=4200, close_in_frame=3 * PER_FRAGMENT + 4), stream="done")
    got, resets, stream = read_all(client)
    assert got == list(range(FRAMES)) and [r.reason for r in resets] == ["cut"]
    # The resume started after fragment 2 (from its token): fragment 3's first 4 frames were re-sent once.
    assert stream.counters.duplicates_skipped == 4
