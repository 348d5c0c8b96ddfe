"""Fleet faults that must be said, not suffered: a hook that cannot reach the workers, a frame larger than
the ring's slots, a worker killed while holding a ring's lock."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from kvs_parser.camera import CameraState
from kvs_parser.config import parse_config
from kvs_parser.emulator import Emulator, SyntheticCamera
from kvs_parser.fleet import Fleet, FrameRing

pytestmark = pytest.mark.timeout(120)
SHM = Path("/dev/shm")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_live_stream("north", SyntheticCamera(width=96, height=64, fps=15, fragment_duration=0.5))
        yield emulator


def config(endpoint_url: str) -> Any:
    return parse_config({"endpoint_url": endpoint_url, "region": "us-west-2",
                         "cameras": [{"id": "north", "kvs_stream_name": "north"}]})


def test_a_hook_that_cannot_be_pickled_is_said_at_once_and_leaves_nothing(emu: Emulator) -> None:
    before = set(SHM.glob(f"kvsf{os.getpid()}-*"))
    with pytest.raises(TypeError, match="cannot be sent to the worker processes"):
        Fleet(config(emu.endpoint_url), workers=1, hook=lambda camera_id, frame: None, share_frames=True)
    assert set(SHM.glob(f"kvsf{os.getpid()}-*")) == before


def test_a_frame_larger_than_a_ring_slot_stops_its_camera_with_the_cause(emu: Emulator,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with Fleet(config(emu.endpoint_url), workers=1, share_frames=True, max_frame_bytes=1000,
               status_interval=0.2, restart_delay=0.2) as fleet:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and fleet.running:
            time.sleep(0.1)
        status = fleet.statuses()[0]
        failures = fleet.failures()
    assert status.state is CameraState.FAILED and "does not fit" in (status.error or ""), status
    assert failures and "max_frame_bytes" in failures[0] and fleet.restarts == 0


def hold_the_lock_and_die(spec: Any) -> None:
    spec.lock.acquire()
    os._exit(9)  # killed mid-write: the lock is never released


def test_stop_is_bounded_when_a_writer_died_holding_the_ring_lock() -> None:
    context = multiprocessing.get_context("spawn")
    ring = FrameRing.create("cam", f"kvstest-{os.getpid()}-held", 2, 64, "drop_oldest", context)
    try:
        holder = context.Process(target=hold_the_lock_and_die, args=(ring.spec,))
        holder.start()
        holder.join(30)
        assert holder.exitcode == 9
        started = time.monotonic()
        ring.mark_closed()
        assert time.monotonic() - started < 3
    finally:
        ring.close()
