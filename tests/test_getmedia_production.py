"""GetMedia in production against the emulator over 127.0.0.1: session renewal before the service's
session lifetime, following the live edge through a producer pause, client-side TPS pacing shared by many
readers, GetMediaForFragmentList's _SIDE_/_EXCEPTION_ tags, and per-frame producer time."""

from __future__ import annotations

import threading
from typing import Iterator, List

import boto3
import pytest

from kvs_parser import iter_fragments
from kvs_parser._aws.pacing import RequestPacer
from kvs_parser.emulator import Emulator, Fault, Limits, SyntheticCamera, index_from_timecode
from kvs_parser.getmedia import GetMediaClient, Reset, RetryPolicy, StartSelector

pytestmark = pytest.mark.timeout(60)
FPS = 50
KEYS = {"aws_access_key_id": "k", "aws_secret_access_key": "s", "region_name": "us-west-2"}


def camera(**overrides: object) -> SyntheticCamera:
    settings = {"width": 64, "height": 48, "fps": FPS, "fragment_duration": 0.2, **overrides}
    return SyntheticCamera(**settings)  # type: ignore[arg-type]


def read_indices(frames: Iterator, count: int) -> List[int]:
    got: List[int] = []
    for frame in frames:
        got.append(index_from_timecode(frame.pts_ms, FPS))
        if len(got) >= count:
            break
    return got


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    limits = Limits(session_lifetime=1.5, getmedia_idle_end=0.3, getmedia_tps_per_stream=5,
                    getdataendpoint_tps_per_stream=5, getmedia_connections_per_stream=10)
    with Emulator(limits=limits) as emulator:
        emulator.add_live_stream("done", camera(max_frames=20))
        assert emulator.stream("done").wait_closed(20)
        yield emulator


def client_for(emu: Emulator, **options: object) -> GetMediaClient:
    retry = RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.2)
    return GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url,
                          **{"retry": retry, **options})  # type: ignore[arg-type]


def test_sessions_renew_at_fragment_boundaries_without_loss_or_repeat(emu: Emulator) -> None:
    emu.add_live_stream("renew", camera())
    resets: List[Reset] = []
    with client_for(emu) as client, client.stream("renew", start=StartSelector.earliest(), session_lifetime=1.5,
                                                  renew_before=0.6, on_reset=resets.append) as stream:
        got = read_indices(stream.frames(), 5 * FPS)  # 5 s: about five renewals at 0.9 s
        counters = stream.counters
    emu.remove_stream("renew")
    assert got == list(range(len(got)))
    assert counters.renewals >= 3 and counters.duplicates_skipped == 0
    assert [r.reason for r in resets] == ["renew"] * counters.renewals  # the service never had to end one
    # Each renewal resolved the data endpoint again.
    assert emu.call_count("GetDataEndpoint", "renew") == counters.renewals + 1
    assert emu.limit_tracker.throttled("GetMedia", "renew") == 0


def test_sessions_the_service_ends_are_resumed_exactly_once(emu: Emulator) -> None:
    emu.add_live_stream("expire", camera())
    resets: List[Reset] = []
    with client_for(emu) as client, client.stream("expire", start=StartSelector.earliest(), session_lifetime=None,
                                                  on_reset=resets.append) as stream:
        got = read_indices(stream.frames(), 4 * FPS)
        counters = stream.counters
    emu.remove_stream("expire")
    assert got == list(range(len(got)))
    # The emulator's session lifetime ends a response, mostly inside the fragment being produced.
    reasons = [r.reason for r in resets]
    # (>= 1: on a loaded machine the first response starts late and carries a longer backlog.)
    assert counters.renewals == 0 and reasons.count("end") + reasons.count("ended mid-fragment") >= 1
    assert counters.early_ends == reasons.count("ended mid-fragment")


def test_following_the_live_edge_through_a_producer_pause(emu: Emulator) -> None:
    # 20 frames, 1.5 s of silence, 20 more: the service ends idle responses after 0.3 s.
    emu.add_live_stream("pausing", camera(max_frames=40, pauses=((2, 1.5),)))
    resets: List[Reset] = []
    with client_for(emu, retry=RetryPolicy(max_attempts=2, base_delay=0.05, max_delay=0.2)) as client:
        with client.stream("pausing", start=StartSelector.earliest(), on_reset=resets.append) as stream:
            got = read_indices(stream.frames(), 40)
        # With keep_polling off the same stream gives up during the pause: what keep_polling is for.
        emu.add_live_stream("pausing-2", camera(max_frames=40, pauses=((2, 1.5),)))
        with client.stream("pausing-2", start=StartSelector.earliest(), keep_polling=False) as quitter:
            partial = read_indices(quitter.frames(), 40)
    assert got == list(range(40))
    assert [r.reason for r in resets].count("end") >= 3
    assert all(r.selector.kind == "CONTINUATION_TOKEN" for r in resets)
    assert partial == list(range(20))


def test_pacing_keeps_many_readers_under_the_tps_limits(emu: Emulator) -> None:
    emu.add_live_stream("done-2", camera(max_frames=20))
    assert emu.stream("done-2").wait_closed(20)
    # Stricter than the service (2 calls per 3 s window per stream and operation), so that the 8 calls per
    # stream and operation must wait even when a loaded machine spreads them over several seconds.
    shared = RequestPacer(rates={"GetMedia": 2.0, "GetDataEndpoint": 2.0}, period=3.0)
    results: List[List[int]] = []
    throttles: List[int] = []
    lock = threading.Lock()

    def reader(name: str) -> None:
        for _ in range(4):  # a new client each time: a GetDataEndpoint and a GetMedia call each
            with client_for(emu, pacer=shared) as client:
                stream = client.stream(name, start=StartSelector.earliest(), follow=False)
                got = [index_from_timecode(f.pts_ms, FPS) for f in stream.frames()]
            with lock:
                results.append(got)
                throttles.append(stream.counters.throttles)

    threads = [threading.Thread(target=reader, args=(name,)) for name in ("done", "done", "done-2", "done-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(50)
    assert results == [list(range(20))] * 16 and throttles == [0] * 16
    for operation in ("GetMedia", "GetDataEndpoint"):
        for name in ("done", "done-2"):
            assert emu.limit_tracker.throttled(operation, name) == 0
    assert shared.waited > 0  # 8 calls per stream and operation cannot fit in a 3 s window unpaced


def test_the_emulator_throttles_unpaced_callers(emu: Emulator) -> None:
    """The control for the test above: the same burst without pacing is throttled."""
    control = boto3.client("kinesisvideo", endpoint_url=emu.endpoint_url, **KEYS)
    errors = 0
    for _ in range(8):
        try:
            control.get_data_endpoint(StreamName="done", APIName="GET_MEDIA")
        except control.exceptions.ClientLimitExceededException:
            errors += 1
    assert errors >= 3


def test_fragment_list_tags_use_side_and_exception_spellings(emu: Emulator) -> None:
    archived = boto3.client("kinesis-video-archived-media", endpoint_url=emu.endpoint_url, **KEYS)
    listed = archived.list_fragments(StreamName="done")["Fragments"]
    numbers = [f["FragmentNumber"] for f in listed]
    payload = archived.get_media_for_fragment_list(StreamName="done", Fragments=numbers)["Payload"].read()
    fragments = list(iter_fragments(payload))
    assert [f.fragment_number for f in fragments] == numbers
    for fragment, entry in zip(fragments, listed):
        tags = fragment.tags_dict()
        assert "AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP" in tags and "AWS_KINESISVIDEO_SERVER_TIMESTAMP" not in tags
        assert fragment.server_timestamp_ms == round(entry["ServerTimestamp"].timestamp() * 1000)
        assert fragment.producer_timestamp_ms == round(entry["ProducerTimestamp"].timestamp() * 1000)
    emu.inject(Fault(error_fragment_after=1), operation="GetMediaForFragmentList", stream="done")
    payload = archived.get_media_for_fragment_list(StreamName="done", Fragments=numbers)["Payload"].read()
    error = list(iter_fragments(payload))[-1]
    assert "AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE" in error.tags_dict()
    assert error.is_error and error.error_id == 4000 and error.error_message == "Requested fragment is not found"


def test_per_frame_producer_time_end_to_end(emu: Emulator) -> None:
    emu.add_live_stream("clock", camera(max_frames=30))
    assert emu.stream("clock").wait_closed(20)
    produced = {str(f.number): f for f in emu.stream("clock").snapshot()}
    with client_for(emu) as client:
        frames = list(client.stream("clock", start=StartSelector.earliest(), follow=False).frames())
    assert len(frames) == 30
    for frame in frames:
        fragment = produced[frame.fragment_number]
        assert frame.producer_time_ms == fragment.producer_ms + frame.pts_ms - fragment.start_timecode
    assert len({f.producer_time_ms for f in frames}) == 30
    emu.remove_stream("clock")
