"""Cameras as actors on a real local Ray cluster (a head and two worker nodes, all on 127.0.0.1), reading
emulator cameras with real boto3, checkpointed in a real redis-server.

Killing the node that holds most cameras: every camera delivers again within 15 s, no frame is lost, and
only the fragments in flight come again, marked. Every camera's metrics are on one endpoint. A config
change adds and removes cameras without restarting the others; `kvs-parser run --ray` does the same.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from prometheus_client import CollectorRegistry

from delivery_check import Delivery, check_deliveries
from kvs_parser.camera import CameraState
from kvs_parser.config import AppConfig, parse_config
from kvs_parser.emulator import Emulator, SyntheticCamera
from kvs_parser.metrics import MetricsServer
from kvs_parser.web import StatusServer
from redis_server import RedisServer, free_port, require

try:  # the [ray] extra; its absence skips (fails under CI) in the cluster fixture
    import ray
    from ray.cluster_utils import Cluster

    from kvs_parser.ray import FleetMetricsCollector, RayFleet
except ImportError:
    ray = None

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

TESTS = Path(__file__).resolve().parent
CAMERAS = 8
FPS = 16
PER_FRAGMENT = 8  # 0.5 s fragments
RECOVERY_LIMIT_S = 15.0
OBJECT_STORE = 80 * 1024 * 1024
# Node loss is noticed after 3 missed health checks 0.5 s apart (Ray's default: 5 x 3 s).
FAST_FAILURE_DETECTION = {"health_check_period_ms": 500, "health_check_failure_threshold": 3,
                          "health_check_initial_delay_ms": 0}
NODE = {"object_store_memory": OBJECT_STORE, "node_ip_address": "127.0.0.1"}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with RedisServer() as server:
        yield server.url


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        for i in range(CAMERAS + 2):
            emu.add_live_stream(f"stream-{i}", SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5))
        yield emu


@pytest.fixture(scope="module")
def delivery_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ray") / "deliveries.jsonl"


@pytest.fixture(scope="module")
def frame_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where frame_record_hook (the same-frames test's hook) writes, as the actors see it."""
    return tmp_path_factory.mktemp("ray-frames") / "frames.jsonl"


@pytest.fixture(scope="module")
def cluster(delivery_log: Path, frame_log: Path) -> Iterator[Any]:
    """Head (no CPUs: it holds no camera) plus two worker nodes with room for every camera each, so that
    either can take the other's cameras; loopback only, no dashboard, small object stores."""
    require(ray is not None, "ray is not installed (pip install 'kvs-parser-py[ray]')")
    from ray._private import ray_constants

    patch = pytest.MonkeyPatch()
    # Nodes, workers and the driver all on 127.0.0.1 (Ray otherwise picks the host's outward address).
    patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    patch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)
    # The actors import the test hook (ray_hook.py) and write where the test reads.
    patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
    patch.setenv("KVS_RAY_TEST_LOG", str(delivery_log))
    patch.setenv("FRAME_RECORD_LOG", str(frame_log))
    patch.setenv("FRAME_RECORD_HOST", "ray")
    started = time.monotonic()
    test_cluster = Cluster(initialize_head=True, head_node_args={
        **NODE, "num_cpus": 0, "include_dashboard": False, "_system_config": FAST_FAILURE_DETECTION})
    try:
        for _ in range(2):
            test_cluster.add_node(**NODE, num_cpus=2)
        ray.init(address=test_cluster.address, namespace="kvs-parser-test", logging_level="WARNING")
        test_cluster.wait_for_nodes()
        print(f"ray cluster of 3 nodes up in {time.monotonic() - started:.1f} s")
        yield test_cluster
    finally:
        ray.shutdown()
        test_cluster.shutdown()
        patch.undo()


def config(emulator: Emulator, cameras: List[int]) -> AppConfig:
    """Delivery `complete`: a hook slowed by the busy machine holds the reading back instead of losing pictures
    (the default, `live`, would drop the oldest and count them)."""
    complete = {"getmedia": {"delivery": "complete"}}
    return parse_config({
        "endpoint_url": emulator.endpoint_url, "region": "us-west-2", "output": {"pixel_format": "rgb24"},
        "cameras": [{"id": f"cam-{i}", "kvs_stream_name": f"stream-{i}", "playback": complete} for i in cameras],
    })


@dataclass(frozen=True)
class Placement:
    node: str  # the start of the node's id, as the status says it
    pid: int


def read_log(path: Path) -> Dict[str, List[Dict[str, Any]]]:
    by_camera: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    if path.exists():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            by_camera[record["camera"]].append(record)
    return by_camera


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def deliveries(records: List[Dict[str, Any]]) -> List[Delivery]:
    return [Delivery(r["frame"], r["fragment"], r["index"], r["redelivered"], str(r["pid"]), r["time"])
            for r in records]


def placements(fleet: Any) -> Dict[str, Placement]:
    """Where each answering camera's actor runs, from its status (``where``: "node <id prefix> pid <pid>")."""
    out = {}
    for status in fleet.statuses(timeout=10):
        match = re.fullmatch(r"node (\S+) pid (\d+)", status.where)
        if match is not None:
            out[status.camera_id] = Placement(match.group(1), int(match.group(2)))
    return out


def delivering(fleet: Any) -> bool:
    return all(status.frames_delivered > 0 and status.state is CameraState.RUNNING for status in fleet.statuses())


def on(node_id: str, placement: Placement) -> bool:
    return node_id.startswith(placement.node)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def sample(text: str, name: str, camera: str) -> float:
    prefix = f'{name}{{camera="{camera}"}} '
    line = next((line for line in text.splitlines() if line.startswith(prefix)), None)
    assert line is not None, f"{prefix!r} not in the metrics"
    return float(line.split()[-1])


def test_a_camera_decoding_with_nvdec_asks_ray_for_a_gpu_share() -> None:
    require(ray is not None, "ray is not installed (pip install 'kvs-parser-py[ray]')")
    from kvs_parser.ray import camera_resources

    app = parse_config({"cameras": [{"id": "cpu", "kvs_stream_name": "a"},
                                    {"id": "gpu", "kvs_stream_name": "b", "output": {"decode_backend": "nvdec"}}]})
    assert camera_resources(app, app.camera("cpu"), 0.1, 0.25) == {"num_cpus": 0.1, "num_gpus": 0.0}
    assert camera_resources(app, app.camera("gpu"), 0.1, 0.25) == {"num_cpus": 0.1, "num_gpus": 0.25}


def test_run_ray_without_a_checkpoint_store_is_a_usage_error(tmp_path: Path) -> None:
    cameras = tmp_path / "cameras.yaml"
    cameras.write_text("cameras:\n  - {id: door, kvs_stream_name: door}\n")
    env = {name: value for name, value in os.environ.items() if name != "KVS_PARSER_CHECKPOINT"}
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(cameras), "--ray"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and "--ray needs a checkpoint store: --checkpoint" in result.stderr, result.stderr


def test_killing_a_node_moves_its_cameras_losing_nothing(cluster: Any, emulator: Emulator, redis_url: str,
                                                         delivery_log: Path) -> None:
    ids = [f"cam-{i}" for i in range(CAMERAS)]
    fleet = RayFleet(config(emulator, list(range(CAMERAS))), checkpoint_url=redis_url, hook="ray_hook:record",
                     cpus_per_camera=0.25).start()
    registry = CollectorRegistry()
    registry.register(FleetMetricsCollector(fleet))
    try:
        placed = time.monotonic()
        wait_for(lambda: all(len(read_log(delivery_log)[c]) >= 3 * PER_FRAGMENT for c in ids), 90,
                 "every camera delivering")
        print(f"8 cameras delivering {time.monotonic() - placed:.1f} s after placement")
        where = placements(fleet)
        assert sorted(where) == ids, where
        nodes = [node.node_id for node in cluster.worker_nodes]
        busiest = max(nodes, key=lambda node: sum(on(node, p) for p in where.values()))
        moved = sorted(c for c, placement in where.items() if on(busiest, placement))
        assert moved and all(sum(on(node, p) for node in nodes) == 1 for p in where.values()), (nodes, where)
        victim = next(n for n in cluster.worker_nodes if n.node_id == busiest)
        before = {c: {r["pid"] for r in records} for c, records in read_log(delivery_log).items()}

        killed_at = time.time()
        cluster.remove_node(victim)

        def delivering_again() -> bool:
            log = read_log(delivery_log)
            return all(any(r["time"] > killed_at and (c not in moved or r["pid"] not in before[c]) for r in log[c])
                       for c in ids)

        wait_for(delivering_again, 60, "every camera delivering again after the node loss")
        log = read_log(delivery_log)
        recovery = {c: min(r["time"] for r in log[c] if r["time"] > killed_at and r["pid"] not in before[c]) - killed_at
                    for c in moved}
        gaps = {c: min(r["time"] for r in log[c] if r["time"] > killed_at) - killed_at for c in ids}
        after = placements(fleet)
        assert all(c in after and not on(busiest, after[c]) for c in moved), (busiest, after)
        print(f"node lost with {len(moved)} cameras {moved}; delivering again after (s): "
              + ", ".join(f"{c}={s:.1f}" for c, s in sorted(recovery.items())))
        assert all(seconds < RECOVERY_LIMIT_S for seconds in gaps.values()), gaps

        # Let every camera deliver a few more fragments, then check the whole log.
        counts = {c: len(log[c]) for c in ids}
        wait_for(lambda: all(len(read_log(delivery_log)[c]) >= counts[c] + 3 * PER_FRAGMENT for c in ids), 60,
                 "three more fragments per camera")
        metrics = MetricsServer(registry).start()
        try:
            text = scrape(metrics.url)
        finally:
            metrics.stop()
        statuses = {status.camera_id: status for status in fleet.statuses(timeout=10)}
    finally:
        fleet.stop()

    log = read_log(delivery_log)
    for camera in ids:
        summary = check_deliveries(deliveries(log[camera]))
        if camera in moved:
            assert summary.runs == 2 and len(summary.marked_fragments) <= 1, (camera, summary)
            assert summary.repeated <= PER_FRAGMENT
        else:
            assert summary.runs == 1 and summary.repeated == 0 and not summary.marked_fragments, (camera, summary)
        assert sample(text, "kvs_getmedia_frames_read_total", camera) > 0
        assert sample(text, "kvs_checkpoint_saves_total", camera) > 0
        assert sample(text, "kvs_ray_camera_up", camera) == 1.0
        assert statuses[camera].last_fragment is not None and statuses[camera].error is None, statuses[camera]
        assert statuses[camera].frames_dropped == 0, statuses[camera]
        if camera in moved:  # the restarted actor resumed after its checkpoint, and says how many it redelivered
            assert statuses[camera].resumed_after is not None, statuses[camera]
    redelivered = sum(r["redelivered"] for c in moved for r in log[c])
    assert sum(sample(text, "kvs_frames_redelivered_total", c) for c in moved) == redelivered
    assert sum(statuses[c].frames_redelivered for c in moved) == redelivered, statuses
    print(f"0 frames lost; {redelivered} frames redelivered (marked) across {len(moved)} moved cameras")


def test_a_config_change_adds_and_removes_cameras_without_restarting_the_others(
        cluster: Any, emulator: Emulator, redis_url: str, delivery_log: Path) -> None:
    fleet = RayFleet(config(emulator, [0, 1, 2]), checkpoint_url=redis_url, hook="ray_hook:record",
                     cpus_per_camera=0.25).start()
    try:
        wait_for(lambda: delivering(fleet), 90, "three cameras delivering")
        pids = {c: p.pid for c, p in placements(fleet).items()}
        assert sorted(pids) == ["cam-0", "cam-1", "cam-2"], pids
        change = fleet.apply(config(emulator, [0, 1, 8]))
        assert (change.added, change.removed, change.replaced) == (["cam-8"], ["cam-2"], [])
        wait_for(lambda: delivering(fleet), 60, "the added camera delivering")
        assert [status.camera_id for status in fleet.statuses()] == ["cam-0", "cam-1", "cam-8"]
        placed = placements(fleet)
        assert {c: placed[c].pid for c in ("cam-0", "cam-1")} == {c: pids[c] for c in ("cam-0", "cam-1")}
        with pytest.raises(ValueError):
            ray.get_actor("camera:cam-2", namespace=fleet.namespace)

        # An actor process dying (here SIGKILL) is restarted by Ray in place, from its checkpoint.
        killed_at = time.time()
        os.kill(pids["cam-0"], signal.SIGKILL)
        wait_for(lambda: any(r["pid"] != pids["cam-0"] and r["time"] > killed_at
                             for r in read_log(delivery_log)["cam-0"]), 60, "cam-0 delivering after its actor died")
        back = min(r["time"] for r in read_log(delivery_log)["cam-0"] if r["time"] > killed_at) - killed_at
        print(f"actor of cam-0 killed: delivering again after {back:.1f} s")
        assert back < RECOVERY_LIMIT_S
        count = len(read_log(delivery_log)["cam-0"])
        wait_for(lambda: len(read_log(delivery_log)["cam-0"]) >= count + 2 * PER_FRAGMENT, 30, "cam-0 delivering on")
    finally:
        fleet.stop()
    # cam-0's whole log, through the previous test's node loss, this restart and the stops in between.
    summary = check_deliveries(deliveries(read_log(delivery_log)["cam-0"]))
    assert summary.runs >= 3


def test_a_node_added_to_the_cluster_takes_cameras_added_after_it(
        cluster: Any, emulator: Emulator, redis_url: str) -> None:
    """The node-loss test left one worker node: cameras 5 and 6 go there; then a node joins, three cameras
    are added, and the fleet's SPREAD placement puts at least one of them on the new node."""
    fleet = RayFleet(config(emulator, [5, 6]), checkpoint_url=redis_url, hook="ray_hook:record",
                     cpus_per_camera=0.25).start()
    try:
        wait_for(lambda: delivering(fleet), 90, "two cameras delivering")
        old_nodes = {p.node for p in placements(fleet).values()}
        cpus_before = ray.cluster_resources().get("CPU", 0)
        joined = cluster.add_node(**NODE, num_cpus=2)
        cluster.wait_for_nodes()
        assert not any(joined.node_id.startswith(node) for node in old_nodes)
        # The scheduler learns of the node's CPUs a moment after it registers.
        wait_for(lambda: ray.available_resources().get("CPU", 0) >= cpus_before + 2 - 0.5, 30, "the node's CPUs seen")
        change = fleet.apply(config(emulator, [5, 6, 7, 8, 9]))
        assert change.added == ["cam-7", "cam-8", "cam-9"] and not change.removed and not change.replaced
        wait_for(lambda: delivering(fleet), 90, "the added cameras delivering")
        where = {c: p.node for c, p in placements(fleet).items()}
    finally:
        fleet.stop()
    print(f"placements after a node joined: {where}")
    assert {where["cam-5"], where["cam-6"]} == old_nodes, "cameras already running were not moved"
    assert any(joined.node_id.startswith(where[c]) for c in ("cam-7", "cam-8", "cam-9")), (joined.node_id, where)


def test_run_ray_command_serves_every_camera_and_follows_the_config_file(
        cluster: Any, emulator: Emulator, redis_url: str, delivery_log: Path, tmp_path: Path) -> None:
    cameras = tmp_path / "cameras.yaml"

    def write(ids: List[int]) -> None:
        lines = "\n".join(f"  - {{id: cli-{i}, kvs_stream_name: stream-{i}}}" for i in ids)
        cameras.write_text(f"endpoint_url: {emulator.endpoint_url}\nregion: us-west-2\n"
                           f"output: {{pixel_format: rgb24}}\ncameras:\n{lines}\n")

    write([3, 4])
    port = free_port()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    command = [sys.executable, "-m", "kvs_parser", "run", "--config", str(cameras), "--ray", cluster.address,
               "--checkpoint", redis_url, "--hook", "ray_hook:record", "--cpus-per-camera", "0.25",
               "--metrics-port", str(port), "--duration", "60", "--status-interval", "0.5"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        wait_for(lambda: all(read_log(delivery_log)[c] for c in ("cli-3", "cli-4")), 90, "cli cameras delivering")
        time.sleep(0.1)
        write([3, 4, 9])
        wait_for(lambda: read_log(delivery_log)["cli-9"], 60, "the camera added to the file delivering")
        text = scrape(f"http://127.0.0.1:{port}/metrics")
        for camera in ("cli-3", "cli-4", "cli-9"):
            assert sample(text, "kvs_getmedia_frames_read_total", camera) > 0
    finally:
        asked = time.monotonic()
        process.send_signal(signal.SIGINT)  # Ctrl-C
        output, _ = process.communicate(timeout=60)
        took = time.monotonic() - asked
    assert took < 10, f"{took:.1f} s from Ctrl-C to the end of the run (three actors stopped together)"
    assert "config changed: added ['cli-9'], removed [], replaced []" in output, output
    assert process.returncode == 0, output
    pids = {r["pid"] for r in read_log(delivery_log)["cli-3"]}
    assert len(pids) == 1  # the change did not restart the camera already running


def test_an_actor_gives_each_picture_the_same_fields_as_a_frame_source(
        cluster: Any, redis_url: str, frame_log: Path, tmp_path: Path) -> None:
    import boto3

    from kvs_parser.emulator import read_index
    from kvs_parser.source import KVSGetMediaFrameSource
    from same_frames import FIELDS, FRAMES, add_finished_camera, by_index, camera_config, read_records

    with Emulator() as emu:
        add_finished_camera(emu)
        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")
        reference = {}
        with KVSGetMediaFrameSource("cam", "finished", start_selector="EARLIEST", session=session,
                                    endpoint_url=emu.endpoint_url, pixel_format="rgb24", follow=False,
                                    delivery="complete") as source:
            for frame in source:
                reference[read_index(frame.image)] = {f: getattr(frame, f) for f in FIELDS}
        fleet = RayFleet(parse_config(camera_config(emu.endpoint_url)), checkpoint_url=redis_url,
                         hook="frame_record_hook:record", cpus_per_camera=0.25,
                         namespace="kvs-parser-test").start()
        try:
            wait_for(lambda: len({r["index"] for r in read_records(frame_log)}) >= FRAMES, 90, "every picture")
            with StatusServer(fleet.registry, fleet) as server:  # the status page of a Ray fleet
                page = json.loads(scrape(server.url + "api/cameras"))
                with urllib.request.urlopen(server.url + "cameras/cam/latest.jpg", timeout=10) as response:
                    thumbnail = response.read()
                metrics = scrape(server.url + "metrics")
        finally:
            fleet.stop()
    assert [c["camera_id"] for c in page["cameras"]] == ["cam"] and page["cameras"][0]["frames_delivered"] >= FRAMES
    assert thumbnail[:2] == b"\xff\xd8" and 'kvs_ray_camera_up{camera="cam"} 1.0' in metrics
    pictures = by_index(read_records(frame_log))  # also checks each latency_ms against the hook's clock
    assert sorted(reference) == sorted(pictures) == list(range(FRAMES))
    for index, fields in reference.items():
        assert {f: pictures[index][f] for f in FIELDS} == fields, index


def test_a_camera_whose_actor_cannot_start_says_why_and_one_waiting_for_resources_says_for_what(
        cluster: Any, emulator: Emulator, redis_url: str, tmp_path: Path) -> None:
    broken = RayFleet(config(emulator, [5]), checkpoint_url=redis_url, hook="no_such_module:on_frame",
                      cpus_per_camera=0.25, namespace="kvs-parser-test").start()
    waiting = RayFleet(config(emulator, [6]), checkpoint_url=redis_url, cpus_per_camera=64,
                       namespace="kvs-parser-test").start()
    try:
        wait_for(lambda: broken.statuses()[0].state is CameraState.FAILED, 60, "the broken camera reported")
        failed = broken.statuses()[0]
        assert "its actor cannot start" in (failed.error or "") and "no_such_module" in (failed.error or "")
        assert len((failed.error or "").splitlines()) == 1 and not broken.running
        pending = waiting.statuses()[0]
        assert pending.state is CameraState.PENDING and "needs 64 CPU" in (pending.error or ""), pending
    finally:
        broken.stop()
        waiting.stop()


def test_run_ray_exits_non_zero_when_no_camera_can_run(cluster: Any, emulator: Emulator, redis_url: str,
                                                       tmp_path: Path) -> None:
    cameras = tmp_path / "cameras.yaml"
    cameras.write_text(f"endpoint_url: {emulator.endpoint_url}\nregion: us-west-2\n"
                       "cameras:\n  - {id: broken-7, kvs_stream_name: stream-7}\n")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(cameras), "--ray",
                             cluster.address, "--checkpoint", redis_url, "--hook", "no_such_module:on_frame",
                             "--cpus-per-camera", "0.25", "--duration", "60", "--status-interval", "0.5"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "broken-7: its actor cannot start: ModuleNotFoundError" in result.stderr, result.stderr
    assert "FAILED" in result.stdout
