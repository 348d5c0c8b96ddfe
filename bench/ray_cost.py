"""What one camera costs as a Ray actor, next to the same cameras as threads of one process (the peer).

Both read N realistic 720p15 cameras (bench/content.py ContentCamera, emulator in its own process) with
kvs_parser.camera.Camera (the unit every host runs), full decode to bgr24, checkpoints in SQLite, no hook.
Measured over a steady window after a warm-up (start-up, imports and the first fragments excluded):
  - threads: CPU and RSS growth of this process / N (the interpreter's ~77 MB is not charged);
  - Ray: CPU and RSS of each actor process (the whole process: an actor is its own interpreter), plus
    Ray's own processes on the node (raylet, GCS, idle workers) once per node.

    python bench/ray_cost.py [--cameras 4] [--window 20] [--warmup 8]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator_process import EmulatorProcess
from kvs_parser.camera import Camera, CameraStatus
from kvs_parser.checkpoint import SQLiteCheckpointStore
from kvs_parser.config import AppConfig, parse_config
from reporting import load_line, write_json
from resource_usage import CpuClock, rss_mb


def app_config(url: str, cameras: int) -> AppConfig:
    return parse_config({"endpoint_url": url, "region": "us-west-2",
                         "cameras": [{"id": f"cam{i}", "kvs_stream_name": f"cam{i}"} for i in range(cameras)]})


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages (libraries mapped by every actor) divided among their users."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def delivered(statuses: List[CameraStatus]) -> int:
    return sum(status.frames_delivered for status in statuses)


def actor_pids(statuses: List[CameraStatus]) -> List[int]:
    """Each answering actor's process, from its status (``where``: "node <id> pid <pid>")."""
    matches = [re.search(r"\bpid (\d+)$", status.where) for status in statuses]
    return [int(match.group(1)) for match in matches if match is not None]


def threads_point(config: AppConfig, store_path: str, warmup: float, window: float) -> Dict[str, float]:
    before = rss_mb()
    store = SQLiteCheckpointStore(store_path)
    cameras = [Camera.from_config(config, c, checkpoint=store).start() for c in config.cameras]
    try:
        time.sleep(warmup)
        clock = CpuClock()
        cpu0, frames0, t0 = clock.seconds(), delivered([c.status() for c in cameras]), time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - t0
        cpu = clock.seconds() - cpu0
        frames = delivered([c.status() for c in cameras]) - frames0
        rss = rss_mb() - before
    finally:
        for camera in cameras:
            camera.stop()
        store.close()
    n = len(cameras)
    return {"fps_per_camera": frames / elapsed / n, "cpu_per_camera_pct": 100 * cpu / elapsed / n,
            "rss_per_camera_mb": rss / n}


def ray_point(config: AppConfig, store_path: str, warmup: float, window: float) -> Dict[str, float]:
    import ray

    from kvs_parser.ray import RayFleet

    n = len(config.cameras)
    ray.init(num_cpus=n, include_dashboard=False, object_store_memory=80 * 1024 * 1024, logging_level="WARNING")
    fleet = RayFleet(config, checkpoint_url=f"sqlite:///{store_path}", cpus_per_camera=1.0).start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all(status.frames_delivered > 0 for status in fleet.statuses()):
                break
            time.sleep(0.5)
        time.sleep(warmup)
        pids = actor_pids(fleet.statuses())
        assert len(pids) == n, f"{len(pids)} of {n} actors answered"
        node = ray._private.worker._global_node
        ray_pids = [info.process.pid for infos in node.all_processes.values() for info in infos]
        clocks = [CpuClock(pid) for pid in pids]
        ray_clocks = [CpuClock(pid) for pid in ray_pids]
        cpu0 = [c.seconds() for c in clocks]
        ray_cpu0 = [c.seconds() for c in ray_clocks]
        frames0, t0 = delivered(fleet.statuses()), time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - t0
        frames = delivered(fleet.statuses()) - frames0
        cpu = sum(c.seconds() - c0 for c, c0 in zip(clocks, cpu0))
        ray_cpu = sum(c.seconds() - c0 for c, c0 in zip(ray_clocks, ray_cpu0))
        rss = [rss_mb(pid) for pid in pids]
        pss = [pss_mb(pid) for pid in pids]
        ray_rss = sum(rss_mb(pid) for pid in ray_pids)
    finally:
        fleet.stop()
        ray.shutdown()
    return {"fps_per_camera": frames / elapsed / n, "cpu_per_camera_pct": 100 * cpu / elapsed / n,
            "rss_per_camera_mb": sum(rss) / n, "pss_per_camera_mb": sum(pss) / n,
            "ray_node_cpu_pct": 100 * ray_cpu / elapsed, "ray_node_rss_mb": ray_rss}


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=8.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with EmulatorProcess(streams=args.cameras) as emulator, tempfile.TemporaryDirectory() as scratch:
        config = app_config(emulator.url, args.cameras)
        print(f"{args.cameras} cameras 1280x720 15 fps full decode; {load_line()}", flush=True)
        peer = threads_point(config, f"{scratch}/threads.db", args.warmup, args.window)
        print(f"threads of one process: {peer['fps_per_camera']:.2f} fps/camera, "
              f"{peer['cpu_per_camera_pct']:.1f} % of a core/camera, {peer['rss_per_camera_mb']:.1f} MB/camera",
              flush=True)
        ours = ray_point(config, f"{scratch}/ray.db", args.warmup, args.window)
        print(f"Ray actor per camera:   {ours['fps_per_camera']:.2f} fps/camera, "
              f"{ours['cpu_per_camera_pct']:.1f} % of a core/camera, {ours['rss_per_camera_mb']:.1f} MB RSS "
              f"({ours['pss_per_camera_mb']:.1f} MB PSS)/camera (whole actor process); "
              f"Ray's node processes: {ours['ray_node_cpu_pct']:.1f} % of a core, "
              f"{ours['ray_node_rss_mb']:.0f} MB; {load_line()}", flush=True)
    path = write_json("ray_cost", {"cameras": args.cameras, "window_s": args.window, "warmup_s": args.warmup,
                                   "content": "realistic 1280x720 15 fps H.264 High, 2 s fragments",
                                   "threads": peer, "ray": ours})
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
