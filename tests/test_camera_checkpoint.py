"""A checkpointed Camera (the unit every host runs): real boto3 against the emulator, real decoding, real
SQLite and Redis.

A camera stopped or failing mid-fragment and started again from its checkpoint loses nothing, repeats at
most the fragment in flight, and marks those pictures redelivered. Two runners of one camera never both
deliver: the one whose lease was taken stops with a typed error. A corrupt record stops the camera, typed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import boto3
import pytest

from delivery_check import Delivery, check_deliveries
from kvs_parser.camera import Camera, HookRunner
from kvs_parser.checkpoint import (
    CameraSupersededError,
    Checkpoint,
    CheckpointCorruptError,
    CheckpointStore,
    SQLiteCheckpointStore,
    open_store,
)
from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.errors import NonRetryableError
from kvs_parser.getmedia import GetMediaError, StreamNotFoundError
from kvs_parser.source import KVSGetMediaFrameSource, SourceFrame
from kvs_parser.source._fragments import FramePositions
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


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


class Recorder:
    """The hook: records every picture; `fail_at_index` makes it raise at that picture of a fragment."""

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

    def count(self, run: str) -> int:
        with self.lock:
            return sum(record.run == run for record in self.log)

    def wait(self, condition: Callable[[List[Delivery]], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if condition(list(self.log)):
                    return
            time.sleep(0.02)
        raise AssertionError(f"condition not met within {timeout} s; {len(self.log)} frames delivered")


def camera(emu: Emulator, store: CheckpointStore, hook: Recorder, stream: str = "door", **options: object) -> Camera:
    source = KVSGetMediaFrameSource("door", stream, session=session(), endpoint_url=emu.endpoint_url,
                                    pixel_format="rgb24", delivery="complete", checkpoint=store, **options)
    return Camera(source, HookRunner(hook, "recorder"))


def mid_fragment(log: List[Delivery], after: int) -> bool:
    return len(log) >= after and log[-1].index in (2, 3, 4)


def test_a_stopped_camera_resumes_from_its_checkpoint_losing_nothing(emu: Emulator, tmp_path: Path) -> None:
    store = SQLiteCheckpointStore(tmp_path / "checkpoints.db")
    hook = Recorder()
    first = camera(emu, store, hook).start()
    hook.wait(lambda log: mid_fragment(log, 3 * PER_FRAGMENT))
    first.stop()
    assert first.failure is None and not first.running
    stopped_in = hook.log[-1].fragment
    status = first.status()
    assert status.last_fragment is not None and status.resumed_after is None
    checkpoint = store.load("door")
    assert checkpoint is not None and checkpoint.in_flight == stopped_in and checkpoint.epoch == 1
    assert checkpoint.fragment_number == status.last_fragment and checkpoint.continuation_token
    time.sleep(1.2)  # the camera produces on: two more fragments wait in the stream

    hook.run = "run-1"
    second = camera(emu, store, hook).start()
    hook.wait(lambda log: sum(r.run == "run-1" for r in log) >= 4 * PER_FRAGMENT)
    second.stop()
    summary = check_deliveries(hook.log)
    assert second.status().resumed_after == checkpoint.fragment_number
    # The in-flight fragment came again, all of it marked; its already-delivered pictures were the repeats.
    assert summary.marked_fragments == (stopped_in,)
    delivered_before = sum(r.fragment == stopped_in and r.run == "run-0" for r in hook.log)
    assert summary.repeated == delivered_before > 0
    assert second.status().frames_redelivered == PER_FRAGMENT
    assert summary.frames >= 7 * PER_FRAGMENT
    store.close()


def test_a_hook_failure_stops_the_camera_and_a_restart_redelivers_only_that_fragment(emu: Emulator,
                                                                                     tmp_path: Path) -> None:
    store = SQLiteCheckpointStore(tmp_path / "checkpoints.db")
    hook = Recorder()
    hook.fail_at_index = 5
    first = camera(emu, store, hook).start()
    first.join(30)
    assert first.failure is not None and "the hook failed" in first.failure
    assert first.status().state.value == "failed"
    hook.run = "run-1"
    second = camera(emu, store, hook).start()
    hook.wait(lambda log: sum(r.run == "run-1" for r in log) >= 2 * PER_FRAGMENT)
    second.stop()
    summary = check_deliveries(hook.log)
    assert summary.repeated == 5 and len(summary.marked_fragments) == 1
    store.close()


def test_delivery_waits_through_a_redis_outage_and_loses_nothing(emu: Emulator) -> None:
    with RedisServer() as redis_server:
        store = open_store(redis_server.url)
        hook = Recorder()
        cam = camera(emu, store, hook).start()
        hook.wait(lambda log: len(log) >= 2 * PER_FRAGMENT)
        redis_server.stop()
        outage_start = len(hook.log)
        time.sleep(1.5)
        # At most the fragment being delivered finishes (its end cannot be checkpointed): delivery waits.
        assert len(hook.log) - outage_start <= PER_FRAGMENT
        assert cam.running
        redis_server.start()
        hook.wait(lambda log: len(log) >= outage_start + 4 * PER_FRAGMENT, timeout=60)
        cam.stop()
        store.close()
    summary = check_deliveries(hook.log)
    # The restarted server (no persistence) came back empty: the camera's next write recreated its record.
    assert summary.repeated == 0 and summary.marked_fragments == ()


def test_frame_index_is_the_position_in_the_fragment_whatever_is_sampled_out(emu: Emulator, tmp_path: Path) -> None:
    store = SQLiteCheckpointStore(tmp_path / "checkpoints.db")
    hook = Recorder()
    cam = camera(emu, store, hook, fps_target=FPS / 4).start()
    hook.wait(lambda log: len(log) >= 8)
    cam.stop()
    # Fragment k holds frames 8k..8k+7; a quarter of them is kept, each with its position in the fragment.
    assert all(r.index == r.frame % PER_FRAGMENT for r in hook.log), hook.log
    assert len({r.index for r in hook.log}) > 1
    store.close()


def test_a_checkpoint_kvs_no_longer_has_stops_the_camera_with_a_typed_error(emu: Emulator, tmp_path: Path) -> None:
    store = SQLiteCheckpointStore(tmp_path / "checkpoints.db")
    expired = "91343852333181432392682062607743920146159169391"  # before the stream's first fragment
    store.save(Checkpoint("door", expired, None, 1000))
    hook = Recorder()
    cam = camera(emu, store, hook).start()
    cam.join(30)
    assert isinstance(cam.source.error, GetMediaError) and not cam.running and hook.log == []
    assert isinstance(cam.source.error, NonRetryableError)  # under Ray: reported, not restarted in a loop
    kept = store.load("door")
    assert kept is not None and (kept.fragment_number, kept.producer_time_ms) == (expired, 1000)
    store.close()


def test_a_missing_stream_is_a_typed_error_not_a_retry_loop(emu: Emulator, tmp_path: Path) -> None:
    store = SQLiteCheckpointStore(tmp_path / "c.db")
    cam = camera(emu, store, Recorder(), stream="no-such-stream").start()
    cam.join(20)
    assert isinstance(cam.source.error, StreamNotFoundError) and "StreamNotFoundError" in (cam.failure or "")
    store.close()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_second_runner_takes_the_lease_and_the_first_stops_within_a_fragment(
        emu: Emulator, tmp_path: Path, kind: str, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}" if kind == "sqlite" else request.getfixturevalue("redis_server").url
    stores = [open_store(url), open_store(url)]  # two drivers: two connections, as two processes would have
    if kind == "redis":
        stores[0].delete("door")
    hook = Recorder()
    first = camera(emu, stores[0], hook).start()
    hook.wait(lambda log: len(log) >= 2 * PER_FRAGMENT)
    hook.run = "run-1"
    second = camera(emu, stores[1], hook).start()
    first.join(10)
    taken_over = time.monotonic()
    assert not first.running and isinstance(first.source.error, CameraSupersededError)
    assert "another runner" in (first.failure or "") and "took over" in (first.failure or "")
    hook.wait(lambda log: sum(r.run == "run-1" for r in log) >= 2 * PER_FRAGMENT)
    second.stop()
    with hook.lock:
        late = [r for r in hook.log if r.run == "run-0" and r.time > taken_over]
        second_started = min(r.time for r in hook.log if r.run == "run-1")
        overlap = [r for r in hook.log if r.run == "run-0" and r.time >= second_started]
    assert late == []  # once told, the first delivers nothing more
    assert len(overlap) <= PER_FRAGMENT  # ... and it is told within one fragment
    for store in stores:
        store.close()


def corrupt_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE checkpoints SET producer_time_ms = 'not a number' WHERE camera_id = 'door'")
    db.close()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_corrupt_checkpoint_stops_the_camera_with_a_typed_error_and_no_retry(
        emu: Emulator, tmp_path: Path, kind: str, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}" if kind == "sqlite" else request.getfixturevalue("redis_server").url
    store = open_store(url)
    store.save(Checkpoint("door", "91343852333181432392682062607743920146159169391", None, 1000))
    if kind == "sqlite":
        corrupt_sqlite(tmp_path / "c.db")
    else:
        import redis

        client = redis.Redis.from_url(url)
        client.hset("kvs-parser:checkpoint:door", "producer_time_ms", "not a number")
        client.close()
    cam = camera(emu, store, Recorder()).start()
    cam.join(20)
    assert isinstance(cam.source.error, CheckpointCorruptError) and not cam.running
    assert "corrupt" in (cam.failure or "") and "producer_time_ms" in (cam.failure or "")
    store.close()


class _Frame:
    def __init__(self, pts_ms: int) -> None:
        self.fragment_number, self.track_number, self.pts_ms = "7", 1, pts_ms


def test_frame_positions_stay_bounded_in_an_endless_fragment() -> None:
    positions = FramePositions()
    for pts in range(100_000):  # one fragment that never ends, its pictures never looked up (sampled out)
        positions.note(_Frame(pts))
    assert len(positions) <= 512
