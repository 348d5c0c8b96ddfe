"""CheckpointedCamera without Ray: real boto3 against the emulator, real decoding, real SQLite and Redis.

A camera stopped or failing mid-fragment and started again from its checkpoint loses nothing, repeats at
most the fragment in flight, and marks those pictures redelivered.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import boto3
import pytest

from delivery_check import Delivery, check_deliveries
from kvs_parser.checkpoint import Checkpoint, CheckpointStore, SQLiteCheckpointStore, open_store
from kvs_parser.decode import DecodeOptions
from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.getmedia import GetMediaError, StreamNotFoundError
from kvs_parser.ray import CheckpointedCamera, HookError
from kvs_parser.ray._actor import PERMANENT_ERRORS
from kvs_parser.source import SourceFrame
from redis_server import RedisServer

pytestmark = pytest.mark.timeout(120)
FPS = 16
PER_FRAGMENT = 8  # 0.5 s fragments


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_live_stream("door", SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5))
        yield emulator


class Recorder:
    """The hook: records every picture; `fail_at(n)` makes it raise at the n-th picture of a fragment."""

    def __init__(self) -> None:
        self.log: List[Delivery] = []
        self.run = "run-0"
        self.fail_at_index: Optional[int] = None
        self.lock = threading.Lock()

    def __call__(self, camera_id: str, frame: SourceFrame) -> None:
        assert camera_id == "door" and frame.fragment_number is not None and frame.frame_index is not None
        if self.fail_at_index is not None and frame.frame_index == self.fail_at_index and len(self.log) > 20:
            self.fail_at_index = None
            raise RuntimeError("the hook failed")
        with self.lock:
            self.log.append(Delivery(read_index(frame.image), frame.fragment_number, frame.frame_index,
                                     frame.redelivered, self.run, time.monotonic()))

    def wait(self, condition: Callable[[List[Delivery]], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if condition(list(self.log)):
                    return
            time.sleep(0.02)
        raise AssertionError(f"condition not met within {timeout} s; {len(self.log)} frames delivered")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteCheckpointStore]:
    """The caller owns a store (a camera never closes it): closed here, or Python 3.13 reports the leak."""
    store = SQLiteCheckpointStore(tmp_path / "checkpoints.db")
    yield store
    store.close()


def camera(emu: Emulator, store: CheckpointStore, hook: Recorder, **options: object) -> CheckpointedCamera:
    return CheckpointedCamera("door", "door", store=store, hook=hook, session=session(), region="us-west-2",
                              endpoint_url=emu.endpoint_url, decode_options=DecodeOptions(pixel_format="rgb24"),
                              **options)


def mid_fragment(log: List[Delivery], after: int) -> bool:
    return len(log) >= after and log[-1].index in (2, 3, 4)


def test_a_stopped_camera_resumes_from_its_checkpoint_losing_nothing(emu: Emulator,
                                                                     sqlite_store: SQLiteCheckpointStore) -> None:
    store = sqlite_store
    hook = Recorder()
    first = camera(emu, store, hook).start()
    hook.wait(lambda log: mid_fragment(log, 3 * PER_FRAGMENT))
    first.stop()
    assert first.error is None and not first.running
    stopped_in = hook.log[-1].fragment
    progress = first.progress()
    assert progress.fragments_completed >= 2 and progress.resumed_after is None
    checkpoint = store.load("door")
    assert checkpoint is not None and checkpoint.in_flight == stopped_in
    assert checkpoint.fragment_number == progress.last_fragment and checkpoint.continuation_token
    time.sleep(1.2)  # the camera produces on: two more fragments wait in the stream

    hook.run = "run-1"
    second = camera(emu, store, hook).start()
    hook.wait(lambda log: sum(r.run == "run-1" for r in log) >= 4 * PER_FRAGMENT)
    second.stop()
    summary = check_deliveries(hook.log)
    assert second.progress().resumed_after == checkpoint.fragment_number
    # The in-flight fragment came again, all of it marked; its already-delivered pictures were the repeats.
    assert summary.marked_fragments == (stopped_in,)
    delivered_before = sum(r.fragment == stopped_in and r.run == "run-0" for r in hook.log)
    assert summary.repeated == delivered_before > 0
    assert second.progress().frames_redelivered == PER_FRAGMENT
    assert summary.frames >= 7 * PER_FRAGMENT


def test_a_hook_failure_ends_the_camera_and_a_restart_redelivers_only_that_fragment(
        emu: Emulator, sqlite_store: SQLiteCheckpointStore) -> None:
    store = sqlite_store
    hook = Recorder()
    hook.fail_at_index = 5
    first = camera(emu, store, hook).start()
    first.join(30)
    assert isinstance(first.error, HookError) and "the hook failed" in str(first.error)
    hook.run = "run-1"
    second = camera(emu, store, hook).start()
    hook.wait(lambda log: sum(r.run == "run-1" for r in log) >= 2 * PER_FRAGMENT)
    second.stop()
    summary = check_deliveries(hook.log)
    assert summary.repeated == 5 and len(summary.marked_fragments) == 1


def test_delivery_waits_through_a_redis_outage_and_loses_nothing(emu: Emulator) -> None:
    with RedisServer() as redis_server:
        store = open_store(redis_server.url)
        hook = Recorder()
        cam = camera(emu, store, hook, store_retry_delay=0.05, store_max_delay=0.2).start()
        hook.wait(lambda log: len(log) >= 2 * PER_FRAGMENT)
        redis_server.stop()
        outage_start = len(hook.log)
        time.sleep(1.5)
        # At most the fragment being delivered finishes (its end cannot be checkpointed): delivery waits.
        assert len(hook.log) - outage_start <= PER_FRAGMENT
        assert cam.running and cam.progress().checkpoint_errors > 0
        redis_server.start()
        hook.wait(lambda log: len(log) >= outage_start + 4 * PER_FRAGMENT)
        cam.stop()
        store.close()
    summary = check_deliveries(hook.log)
    assert summary.repeated == 0 and summary.marked_fragments == ()


def test_frame_index_is_the_position_in_the_fragment_whatever_is_sampled_out(
        emu: Emulator, sqlite_store: SQLiteCheckpointStore) -> None:
    store = sqlite_store
    hook = Recorder()
    cam = CheckpointedCamera("door", "door", store=store, hook=hook, session=session(), region="us-west-2",
                             endpoint_url=emu.endpoint_url,
                             decode_options=DecodeOptions(pixel_format="rgb24", fps_target=FPS / 4)).start()
    hook.wait(lambda log: len(log) >= 8)
    cam.stop()
    # Fragment k holds frames 8k..8k+7; a quarter of them is kept, each with its position in the fragment.
    assert all(r.index == r.frame % PER_FRAGMENT for r in hook.log), hook.log
    assert len({r.index for r in hook.log}) > 1


def test_a_checkpoint_kvs_no_longer_has_stops_the_camera_with_a_typed_error(
        emu: Emulator, sqlite_store: SQLiteCheckpointStore) -> None:
    store = sqlite_store
    expired = "91343852333181432392682062607743920146159169391"  # before the stream's first fragment
    store.save(Checkpoint("door", expired, None, 1000))
    hook = Recorder()
    cam = camera(emu, store, hook).start()
    cam.join(30)
    assert isinstance(cam.error, GetMediaError) and not cam.running and hook.log == []
    assert isinstance(cam.error, PERMANENT_ERRORS)  # under Ray: reported, not restarted in a loop
    assert store.load("door") == Checkpoint("door", expired, None, 1000, updated_ms=store.load("door").updated_ms)


def test_a_missing_stream_is_a_typed_error_not_a_retry_loop(emu: Emulator,
                                                           sqlite_store: SQLiteCheckpointStore) -> None:
    cam = CheckpointedCamera("ghost", "no-such-stream", store=sqlite_store,
                             session=session(), region="us-west-2", endpoint_url=emu.endpoint_url).start()
    cam.join(20)
    assert isinstance(cam.error, StreamNotFoundError)
