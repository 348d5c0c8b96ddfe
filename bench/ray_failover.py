"""What a failure costs a Ray fleet: an actor process killed, then a worker node lost, on a local 3-node
cluster (a head with no CPU, two workers), N emulator cameras (16 fps, 0.5 s fragments) checkpointed in
a real redis-server, `delivery: complete`, a hook that logs every picture's frame number.

Per fault: seconds from the kill to the victim cameras' first picture from their new actor, frames lost
(must be 0) and frames redelivered (marked). Written to bench/results/ray_failover.json, dated, with the
load; docs/ray.md quotes it.

    python bench/ray_failover.py [--cameras 8] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

BENCH = Path(__file__).resolve().parent
TESTS = BENCH.parent / "tests"
sys.path[:0] = [str(BENCH), str(TESTS)]

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from delivery_check import Delivery, check_deliveries  # noqa: E402
from kvs_parser.config import parse_config  # noqa: E402
from kvs_parser.emulator import Emulator, SyntheticCamera  # noqa: E402
from kvs_parser.ray import RayFleet  # noqa: E402
from redis_server import RedisServer  # noqa: E402
from reporting import load_line, write_json  # noqa: E402

FAST_FAILURE_DETECTION = {"health_check_period_ms": 500, "health_check_failure_threshold": 3,
                          "health_check_initial_delay_ms": 0}
NODE = {"object_store_memory": 80 * 1024 * 1024, "node_ip_address": "127.0.0.1"}


def read_log(path: Path) -> Dict[str, List[Dict[str, Any]]]:
    out: Dict[str, List[Dict[str, Any]]] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        record = json.loads(line)
        out.setdefault(record["camera"], []).append(record)
    return out


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not within {timeout} s")


def pids_of(fleet: RayFleet) -> Dict[str, int]:
    return {s.camera_id: int(s.where.rsplit(" ", 1)[1]) for s in fleet.statuses(timeout=10) if "pid" in s.where}


def recovery(log_path: Path, victims: List[str], killed_at: float, old_pids: Dict[str, int]) -> Dict[str, float]:
    """Seconds from the kill to each victim's first picture delivered by a new actor process."""
    def first_new() -> Dict[str, float]:
        log = read_log(log_path)
        return {c: min((r["time"] for r in log.get(c, []) if r["time"] > killed_at and r["pid"] != old_pids[c]),
                       default=float("nan")) - killed_at for c in victims}

    wait_for(lambda: all(v == v for v in first_new().values()), 60, "the victims delivering again")
    return first_new()


def one_run(cluster: Cluster, emu: Emulator, redis_url: str, cameras: int, log_path: Path,
            run: int) -> Dict[str, Any]:
    ids = [f"run{run}-cam-{i}" for i in range(cameras)]  # fresh checkpoints per run
    config = parse_config({
        "endpoint_url": emu.endpoint_url, "region": "us-west-2", "output": {"pixel_format": "rgb24"},
        "cameras": [{"id": camera, "kvs_stream_name": f"stream-{i}",
                     "playback": {"getmedia": {"delivery": "complete"}}} for i, camera in enumerate(ids)]})
    fleet = RayFleet(config, checkpoint_url=redis_url, hook="ray_hook:record", cpus_per_camera=0.25).start()
    try:
        wait_for(lambda: all(len(read_log(log_path).get(c, [])) >= 24 for c in ids), 120, "every camera delivering")
        pids = pids_of(fleet)
        actor_victim = ids[0]
        killed_at = time.time()
        os.kill(pids[actor_victim], signal.SIGKILL)
        actor = recovery(log_path, [actor_victim], killed_at, pids)

        wait_for(lambda: len(pids_of(fleet)) == cameras, 60, "every actor answering")
        pids = pids_of(fleet)
        where = {s.camera_id: s.where.split()[1] for s in fleet.statuses(timeout=10)}
        victim = max(cluster.worker_nodes, key=lambda n: sum(n.node_id.startswith(w) for w in where.values()))
        moved = [c for c, node in where.items() if victim.node_id.startswith(node)]
        killed_at = time.time()
        cluster.remove_node(victim)
        node = recovery(log_path, moved, killed_at, pids)
        counts = {c: len(read_log(log_path)[c]) for c in ids}
        wait_for(lambda: all(len(read_log(log_path)[c]) >= counts[c] + 24 for c in ids), 60, "three more fragments")
    finally:
        fleet.stop()
    redelivered = 0
    for camera in ids:
        records = read_log(log_path)[camera]
        check_deliveries([Delivery(r["frame"], r["fragment"], r["index"], r["redelivered"], str(r["pid"]), r["time"])
                          for r in records])  # raises on a lost frame or an unmarked repeat
        redelivered += sum(r["redelivered"] for r in records)
    cluster.add_node(**NODE, num_cpus=2)  # the next run starts with two worker nodes again
    cluster.wait_for_nodes()
    return {"actor_killed_s": actor[actor_victim], "node_lost_s": sorted(node.values()), "moved": len(moved),
            "frames_lost": 0, "frames_redelivered": redelivered}  # 0: checked above, frame by frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    # Nodes, workers and the driver all on 127.0.0.1, as in tests/test_ray_cluster.py (Ray otherwise picks the
    # host's outward address).
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False
    runs = []
    with tempfile.TemporaryDirectory() as scratch, RedisServer() as redis_server, Emulator() as emu:
        log_path = Path(scratch) / "deliveries.jsonl"
        os.environ["KVS_RAY_TEST_LOG"] = str(log_path)  # before the nodes start: their actors inherit it
        for i in range(args.cameras):
            emu.add_live_stream(f"stream-{i}", SyntheticCamera(width=96, height=64, fps=16, fragment_duration=0.5))
        cluster = Cluster(initialize_head=True, head_node_args={
            **NODE, "num_cpus": 0, "include_dashboard": False, "_system_config": FAST_FAILURE_DETECTION})
        try:
            for _ in range(2):
                cluster.add_node(**NODE, num_cpus=2)
            ray.init(address=cluster.address, logging_level="WARNING")
            cluster.wait_for_nodes()
            for run in range(args.runs):
                result = one_run(cluster, emu, redis_server.url, args.cameras, log_path, run)
                print(f"run {run}: {result}; {load_line()}", flush=True)
                runs.append(result)
        finally:
            ray.shutdown()
            cluster.shutdown()
    path = write_json("ray_failover", {"cameras": args.cameras, "fps": 16, "fragment_s": 0.5, "runs": runs,
                                       "health_check": FAST_FAILURE_DETECTION})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
