"""The GetMedia client with real boto3 against the emulator over 127.0.0.1: every StartSelector, endpoint
caching, throttling, fatal errors, stop() from another thread, counters, credentials and sessions."""

from __future__ import annotations

import json
import threading
import time
from typing import Callable, Iterator, List

import boto3
import botocore.serialize
import botocore.session
import pytest

from finished_stream import FPS, FRAMES, PER_FRAGMENT, camera, fault_free_client, finished_stream_emulator
from kvs_parser import ParsedFrame
from kvs_parser.emulator import Emulator, Fault, index_from_timecode
from kvs_parser.errors import KVSError
from kvs_parser.getmedia import (
    GetMediaClient,
    GetMediaStream,
    InvalidArgumentError,
    NotAuthorizedError,
    Reset,
    RetriesExhaustedError,
    RetryPolicy,
    StartSelector,
    StreamNotFoundError,
)

pytestmark = pytest.mark.timeout(60)
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)
KEYS = {"aws_access_key_id": "good", "aws_secret_access_key": "x", "region_name": "us-west-2"}


def indices(frames: Iterator) -> List[int]:
    return [index_from_timecode(frame.pts_ms, FPS) for frame in frames]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with finished_stream_emulator(allowed_access_keys={"good"}) as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[GetMediaClient]:
    with fault_free_client(emu, FAST_RETRY, KEYS) as c:
        yield c


def sent_start_timestamp_ms(selector: StartSelector) -> int:
    """The StartTimestamp this botocore puts on the wire for `selector`, in ms."""
    operation = botocore.session.get_session().get_service_model("kinesis-video-media").operation_model("GetMedia")
    request = botocore.serialize.create_serializer("rest-json").serialize_to_request(
        {"StreamName": "x", "StartSelector": selector.to_api()}, operation
    )
    return round(json.loads(request["body"])["StartSelector"]["StartTimestamp"] * 1000)


def fragment_starts(emu: Emulator) -> List[int]:
    return [round(f.start_timecode * FPS / 1000) for f in emu.stream("done").snapshot()]


def test_earliest_reads_everything_once(client: GetMediaClient) -> None:
    stream = client.stream("done", start=StartSelector.earliest(), follow=False)
    assert indices(stream.frames()) == list(range(FRAMES))
    counters = stream.counters
    assert (counters.frames, counters.fragments, counters.resets) == (FRAMES, FRAMES // PER_FRAGMENT, 0)
    assert counters.bytes > 0 and counters.millis_behind_now is not None and counters.parse_errors == 0


def test_now_starts_at_the_newest_fragment(client: GetMediaClient) -> None:
    assert indices(client.stream("done", follow=False).frames()) == list(range(FRAMES - PER_FRAGMENT, FRAMES))


@pytest.mark.parametrize("kind", ["FRAGMENT_NUMBER", "CONTINUATION_TOKEN", "SERVER_TIMESTAMP",
                                  "PRODUCER_TIMESTAMP"])
def test_selectors_pick_their_fragment(emu: Emulator, client: GetMediaClient, kind: str) -> None:
    fragments = emu.stream("done").snapshot()
    selector = {
        "FRAGMENT_NUMBER": StartSelector.after_fragment(str(fragments[1].number)),  # starts after it
        "CONTINUATION_TOKEN": StartSelector.continuation(str(fragments[1].number)),
        "SERVER_TIMESTAMP": StartSelector.server_timestamp(fragments[2].server_ms / 1000),
        "PRODUCER_TIMESTAMP": StartSelector.producer_timestamp(fragments[2].producer_ms / 1000),
    }[kind]
    got = indices(client.stream("done", start=selector, follow=False).frames())
    if kind.endswith("TIMESTAMP"):  # older botocore sends StartTimestamp in whole seconds, newer exactly
        at = sent_start_timestamp_ms(selector)
        start = (lambda f: f.server_ms) if kind == "SERVER_TIMESTAMP" else (lambda f: f.producer_ms)
        first = next(i for i, f in enumerate(fragments) if start(f) + f.duration_ms > at)
    else:
        first = 2
    assert got == list(range(fragment_starts(emu)[first], FRAMES))


def test_stream_arn_and_one_endpoint_lookup_per_stream(emu: Emulator, client: GetMediaClient) -> None:
    arn = emu.stream("done").arn
    before = emu.call_count("GetDataEndpoint", "done")
    for _ in range(3):
        stream = client.stream(stream_arn=arn, start=StartSelector.earliest(), follow=False)
        assert len(indices(stream.frames())) == FRAMES
    assert emu.call_count("GetDataEndpoint", "done") == before + 1


def test_credentials_from_the_environment(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "good"), ("AWS_SECRET_ACCESS_KEY", "x")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    with GetMediaClient(region_name="us-west-2", endpoint_url=emu.endpoint_url) as client:
        stream = client.stream("done", start=StartSelector.earliest(), follow=False)
        assert len(indices(stream.frames())) == FRAMES


@pytest.mark.parametrize("code", ["ClientLimitExceededException", "ConnectionLimitExceededException"])
def test_throttling_is_retried(emu: Emulator, client: GetMediaClient, code: str) -> None:
    emu.inject(Fault(error=code), stream="done", times=2)
    resets: List[Reset] = []
    stream = client.stream("done", start=StartSelector.earliest(), follow=False, on_reset=resets.append)
    assert indices(stream.frames()) == list(range(FRAMES))
    assert stream.counters.throttles == 2 and [r.reason for r in resets] == ["throttled"] * 2
    assert resets[1].delay >= 0 and resets[1].attempt == 2


def test_endless_throttling_gives_up(emu: Emulator, client: GetMediaClient) -> None:
    emu.throttle("done", times=None)
    with pytest.raises(RetriesExhaustedError) as raised:
        list(client.stream("done", follow=False).frames())
    assert isinstance(raised.value, KVSError)


def fails_fast(make_stream: Callable[[], GetMediaStream], expected: type) -> None:
    # Fatal means no retry at all: not one reconnect is counted (a wall-clock bound alone is flaky on a
    # loaded machine and would also pass a quick retry).
    started = time.monotonic()
    stream = make_stream()
    with pytest.raises(expected) as raised:
        list(stream.frames())
    assert stream.counters.resets == 0, stream.counters
    assert time.monotonic() - started < 10.0
    assert isinstance(raised.value, KVSError) and raised.value.code


def test_missing_stream_fails_fast(client: GetMediaClient) -> None:
    fails_fast(lambda: client.stream("nope"), StreamNotFoundError)


def test_bad_credentials_fail_fast(emu: Emulator) -> None:
    session = boto3.Session(**{**KEYS, "aws_access_key_id": "bad"})
    with GetMediaClient(session, endpoint_url=emu.endpoint_url) as client:
        fails_fast(lambda: client.stream("done"), NotAuthorizedError)


def test_bad_argument_fails_fast(client: GetMediaClient) -> None:
    fails_fast(lambda: client.stream("done", start=StartSelector.after_fragment("abc")), InvalidArgumentError)


def test_fatal_error_from_getmedia_itself(emu: Emulator, client: GetMediaClient) -> None:
    emu.inject(Fault(error="NotAuthorizedException"), stream="done")
    fails_fast(lambda: client.stream("done"), NotAuthorizedError)


def test_a_stream_that_keeps_ending_empty_ends_quietly(emu: Emulator, client: GetMediaClient) -> None:
    last = str(emu.stream("done").snapshot()[-1].number)
    stream = client.stream("done", start=StartSelector.after_fragment(last), keep_polling=False)
    assert list(stream.frames()) == []
    assert stream.counters.resets == FAST_RETRY.max_attempts


def test_stop_from_another_thread_ends_iteration(emu: Emulator, client: GetMediaClient) -> None:
    emu.add_live_stream("live-stop", camera(fps=10, fragment_duration=1.0))
    stream = client.stream("live-stop")
    got: List[int] = []
    threading.Timer(0.8, stream.stop).start()
    started = time.monotonic()
    for frame in stream.frames():
        got.append(index_from_timecode(frame.pts_ms, 10))
    assert time.monotonic() - started < 2.0 and got == list(range(got[0], got[0] + len(got)))
    emu.remove_stream("live-stop")


def test_callback_api_in_a_background_thread(emu: Emulator, client: GetMediaClient) -> None:
    emu.add_live_stream("live-cb", camera(fps=20, fragment_duration=0.25))
    frames: List[int] = []
    fragments: List[str] = []
    seen = threading.Event()

    def on_frame(frame: ParsedFrame) -> None:
        frames.append(index_from_timecode(frame.pts_ms, 20))
        if len(frames) >= 12:
            seen.set()

    with client.stream("live-cb", on_frame=on_frame, on_fragment=lambda f: fragments.append(f.fragment_number),
                       start=StartSelector.earliest()) as stream:
        stream.start()
        assert seen.wait(10)
    assert not any(t.name == "kvs-getmedia" and t.is_alive() for t in threading.enumerate())
    assert stream.error is None and frames == list(range(len(frames))) and len(fragments) >= 2
    assert len(set(fragments)) == len(fragments)
    emu.remove_stream("live-cb")
