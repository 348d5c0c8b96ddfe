"""Fleet: worker processes, shared-memory rings, restarts that lose no frame, clean stops."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List

import numpy as np
import pytest

from delivery_check import Delivery, check_deliveries
from kvs_parser.camera import CameraState
from kvs_parser.config import parse_config
from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.fleet import Fleet, FrameRing, RingClosed, RingFrame, shard

pytestmark = pytest.mark.timeout(180)
SHM = Path("/dev/shm")


def ring(capacity: int, policy: str, name: str) -> FrameRing:
    return FrameRing.create("cam", name, capacity, 64 * 48 * 3, policy, multiprocessing.get_context("spawn"))


def picture(value: int) -> np.ndarray:
    return np.full((48, 64, 3), value, dtype=np.uint8)


def meta(pts: int, fragment: str = "1") -> dict:
    return {"pts_ms": pts, "keyframe": pts == 0, "track_number": 1, "producer_time_ms": 1000 + pts,
            "producer_timestamp_ms": 1000, "server_timestamp_ms": None, "decoded_time_ms": 5.0,
            "fragment_number": fragment, "pixel_format": "bgr24"}


def test_ring_hands_out_views_in_order_and_applies_its_policy() -> None:
    name = f"kvstest-{os.getpid()}-a"
    writer = ring(3, "drop_oldest", name)
    reader = FrameRing.attach(writer.spec)
    try:
        for i in range(5):
            assert writer.put(picture(i), meta(i * 100))
        assert writer.stats() == {"put": 5, "got": 0, "dropped": 2, "size": 3}
        frames = []
        for _ in range(3):
            frame = reader.read(timeout=1)
            assert frame is not None
            assert frame.image.base is not None and not frame.image.flags.owndata  # a view, not a copy
            frames.append((int(frame.image[0, 0, 0]), frame.pts_ms, frame.fragment_number, frame.server_timestamp_ms))
        assert frames == [(2, 200, "1", None), (3, 300, "1", None), (4, 400, "1", None)]
        assert reader.read(timeout=0.05) is None
        writer.mark_closed()
        with pytest.raises(RingClosed):
            reader.read(timeout=1)
    finally:
        reader.close()
        writer.close()
    assert not (SHM / name).exists()


def test_drop_newest_and_block_keep_what_is_queued() -> None:
    for policy in ("drop_newest", "block"):
        name = f"kvstest-{os.getpid()}-{policy}"
        writer = ring(2, policy, name)
        try:
            assert writer.put(picture(1), meta(1)) and writer.put(picture(2), meta(2))
            started = time.monotonic()
            assert not writer.put(picture(3), meta(3), timeout=0.2)
            waited = time.monotonic() - started
            assert (waited >= 0.15) if policy == "block" else (waited < 0.15)
            values = [int(writer.read(timeout=1).image[0, 0, 0]) for _ in range(2)]  # type: ignore[union-attr]
            assert values == [1, 2]
        finally:
            writer.close()


def test_a_view_stays_valid_until_the_next_read() -> None:
    writer = ring(1, "drop_oldest", f"kvstest-{os.getpid()}-held")
    try:
        writer.put(picture(7), meta(0))
        held = writer.read(timeout=1)
        assert held is not None
        for i in range(10):  # the writer never touches the held slot
            writer.put(picture(20 + i), meta(i + 1))
        assert int(held.image[0, 0, 0]) == 7
        latest = writer.read(timeout=1)
        assert latest is not None and int(latest.image[0, 0, 0]) == 29
    finally:
        writer.close()


def test_shard_spreads_cameras_round_robin() -> None:
    assert shard(["a", "b", "c", "d", "e"], 2) == [["a", "c", "e"], ["b", "d"]]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        for name in ("north", "south"):
            emulator.add_live_stream(name, SyntheticCamera(width=96, height=64, fps=15, fragment_duration=0.5))
        yield emulator


def fleet_config(endpoint_url: str) -> dict:
    queue = {"frame_queue": {"policy": "block", "max_size": 60}}
    return {"endpoint_url": endpoint_url, "region": "us-west-2",
            "cameras": [{"id": "north", "kvs_stream_name": "north", "playback": {"getmedia": queue}},
                        {"id": "south", "kvs_stream_name": "south", "playback": {"getmedia": queue}}]}


FRAMES_PER_FRAGMENT = 8  # 0.5 s fragments at 15 fps


def read_frames(fleet: Fleet, camera: str, count: int, seconds: float) -> List[RingFrame]:
    """Up to `count` frames of `camera`, each copied out of the ring (a view lasts only until the next read)."""
    frames: List[RingFrame] = []
    deadline = time.monotonic() + seconds
    while len(frames) < count and time.monotonic() < deadline:
        frame = fleet.read(camera, timeout=0.5)
        if frame is not None:
            frames.append(dataclasses.replace(frame, image=frame.image.copy()))
    return frames


def delivery_log(before: List[RingFrame], after: List[RingFrame]) -> List[Delivery]:
    """The frames in the order the consumer got them. Frames the killed worker had queued in the ring come
    after the kill too, so the restarted worker's run begins at its first picture marked redelivered (if the
    kill fell between two fragments, nothing is in flight and the runs cannot be told apart: none is marked)."""
    log, run = [], "first"
    for position, frame in enumerate(before + after):
        if frame.redelivered and position >= len(before):
            run = "restarted"
        assert frame.fragment_number and frame.frame_index is not None, frame
        log.append(Delivery(read_index(frame.image), frame.fragment_number, frame.frame_index, frame.redelivered, run))
    return log


def test_a_killed_worker_resumes_from_the_checkpoint_redelivering_only_its_fragment_in_flight(
        emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    config = parse_config(fleet_config(emu.endpoint_url))
    with Fleet(config, workers=2, share_frames=True, ring_frames=30, ring_policy="block", metrics_port=0,
               restart_delay=0.2, status_interval=0.2) as fleet:
        before = {camera: read_frames(fleet, camera, 15, 60) for camera in ("north", "south")}
        victim = fleet.worker_of("north")
        pid = fleet.worker_pids()[victim]
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        after: Dict[str, List[RingFrame]] = {camera: [] for camera in ("north", "south")}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and min(len(v) for v in after.values()) < 40 + FRAMES_PER_FRAGMENT:
            for camera in after:  # read both, so neither ring blocks its worker
                after[camera] += read_frames(fleet, camera, 1, 0.5)
        assert fleet.restarts == 1 and fleet.worker_pids()[victim] != pid

        def marked() -> Dict[str, int]:
            return {camera: sum(f.redelivered for f in before[camera] + after[camera]) for camera in after}

        def reported() -> Dict[str, int]:
            return {s.camera_id: s.frames_redelivered for s in fleet.statuses()}

        deadline = time.monotonic() + 10  # the restarted worker reports every 0.2 s
        while reported() != marked() and time.monotonic() < deadline:
            for camera in after:  # keep the rings moving, every frame read going into the log
                after[camera] += read_frames(fleet, camera, 1, 0.1)
        statuses = {status.camera_id: status for status in fleet.statuses()}
        with urllib.request.urlopen(fleet.metrics_url, timeout=5) as response:
            text = response.read().decode()
        root = fleet.metrics_url.removesuffix("metrics")  # the status page's server: the same as `run`'s
        with urllib.request.urlopen(root + "api/cameras", timeout=5) as response:
            listed = {camera["camera_id"]: camera for camera in json.loads(response.read())["cameras"]}
        with urllib.request.urlopen(root + "cameras/north/latest.jpg", timeout=5) as response:
            thumbnail = response.read()
    assert set(listed) == {"north", "south"} and listed["north"]["where"] == f"worker {victim}", listed
    assert thumbnail[:3] == b"\xff\xd8\xff"  # a JPEG of north's last picture, asked of its worker
    for camera in ("north", "south"):
        summary = check_deliveries(delivery_log(before[camera], after[camera]))  # nothing lost, repeats marked
        print(f"{camera}: {summary.frames} frames, {summary.repeated} repeated, marked {summary.marked_fragments}")
        assert summary.frames >= 55, (camera, summary)
        if camera == "north":  # only the fragment in flight at the kill comes again, every picture of it marked
            assert len(summary.marked_fragments) <= 1 and summary.repeated <= marked()[camera] <= FRAMES_PER_FRAGMENT
        else:  # its worker was not touched
            assert summary.runs == 1 and summary.repeated == 0 and not summary.marked_fragments, (camera, summary)
    assert {c: s.frames_redelivered for c, s in statuses.items()} == marked(), statuses  # what the workers counted
    assert statuses["north"].where == f"worker {victim}" and statuses["north"].resumed_after is not None
    assert statuses["south"].resumed_after is None
    assert 'kvs_getmedia_frames_read_total{camera="north"}' in text
    assert 'kvs_getmedia_frames_read_total{camera="south"}' in text
    assert "kvs_fleet_worker_restarts_total 1.0" in text
    for camera, count in marked().items():
        assert f'kvs_frames_redelivered_total{{camera="{camera}"}} {float(count)}' in text, text
    assert not list(SHM.glob(f"kvsf{os.getpid()}-*")), "shared memory left behind"


def descendants(pid: int) -> List[int]:
    """Every process below `pid` (workers are children of the fork server, itself a child of the run)."""
    parents: Dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may not reap the orphans it inherits)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_leave_no_process_or_shared_memory(emu: Emulator, tmp_path: Path, how: str) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text(f"endpoint_url: {emu.endpoint_url}\nregion: us-west-2\ncameras:\n"
                      "  - {id: north, kvs_stream_name: north}\n  - {id: south, kvs_stream_name: south}\n")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    process = subprocess.Popen([sys.executable, "-m", "kvs_parser", "run", "--config", str(config), "--workers", "2",
                                "--status-interval", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, start_new_session=True)
    try:
        assert process.stdout is not None
        process.stdout.readline()  # a status line: the workers are up
        workers = descendants(process.pid)
        assert len(workers) >= 3, workers  # the fork server and two workers at least
        if how == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
        else:
            process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 0, stdout + stderr
    assert "north:" in stdout and "south:" in stdout
    deadline = time.monotonic() + 15  # the fork server and resource tracker end when they see the run's EOF
    while [pid for pid in workers if running(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if running(pid)], "a process outlived the run"
    assert not list(SHM.glob(f"kvsf{process.pid}-*")), "shared memory left behind"


def test_one_consumer_reads_every_camera_and_sees_their_status(emu: Emulator,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    config = parse_config(fleet_config(emu.endpoint_url))
    seen: Dict[str, int] = {"north": 0, "south": 0}
    with Fleet(config, workers=1, share_frames=True, status_interval=0.2) as fleet:
        deadline = time.monotonic() + 60
        for camera, frame in fleet.frames():
            assert frame.image.shape == (64, 96, 3) and frame.pixel_format == "bgr24"
            assert frame.fragment_number and frame.producer_time_ms
            seen[camera] += 1
            if min(seen.values()) >= 10 or time.monotonic() > deadline:
                break
        while (not all(s.frames_delivered > 0 for s in fleet.statuses())) and time.monotonic() < deadline:
            time.sleep(0.1)
        statuses = fleet.statuses()
    assert min(seen.values()) >= 10, seen
    assert [s.camera_id for s in statuses] == ["north", "south"]
    for status in statuses:
        assert status.frames_delivered > 0 and status.state is CameraState.RUNNING, status
        assert status.where == "worker 0" and status.error is None, status


def test_a_frame_held_past_close_stays_readable_and_nothing_is_left() -> None:
    name = f"kvstest-{os.getpid()}-late"
    writer = ring(1, "drop_oldest", name)
    writer.put(picture(9), meta(0))
    held = writer.read(timeout=1)
    assert held is not None
    writer.close()  # as Fleet.stop() does while the consumer still holds its last frame
    assert not (SHM / name).exists()
    assert int(held.image[0, 0, 0]) == 9 and int(held.image.sum()) == 9 * held.image.size  # mapped, not freed
