"""`kvs-parser run --ray [ADDRESS]`: the cameras of a cameras.yaml as actors on a Ray cluster.

The driver places the actors, serves every camera's metrics on one /metrics, prints a status line per
camera, and re-reads the cameras.yaml when it changes (cameras added, removed or changed move alone).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from prometheus_client import CollectorRegistry

from .._stop_flag import StopFlag
from ..config import AppConfig, ConfigError, load_config
from ..metrics import MetricsServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Ray cluster (pip install 'kvs-parser-py[ray]'; see docs/ray.md)")
    group.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                       help="run each camera as a Ray actor on the cluster at ADDRESS (default: auto)")
    group.add_argument("--checkpoint", metavar="URL",
                       help="checkpoint store, redis://host:port/db (cluster) or sqlite:///path.db (one machine);"
                            " required with --ray (default: none)")
    group.add_argument("--cpus-per-camera", type=float, default=0.5, help="Ray CPUs per camera (default 0.5)")
    group.add_argument("--gpus-per-camera", type=float, default=0.25,
                       help="Ray GPUs per camera decoding with nvdec (default 0.25)")
    group.add_argument("--metrics-host", default="127.0.0.1",
                       help="address --metrics-port binds with --ray (0.0.0.0 in a pod; default 127.0.0.1)")
    group.add_argument("--max-restarts", type=int, default=-1,
                       help="restarts of a camera's actor after failures (default -1: always)")


def _status(camera_id: str, progress: Optional[Dict[str, Any]]) -> str:
    if progress is None:
        return f"{camera_id:<16} (not answering: restarting or its node is down)"
    state = "running" if progress["running"] else f"stopped: {progress['error']}"
    return (f"{camera_id:<16} delivered={progress['frames_delivered']} redelivered={progress['frames_redelivered']}"
            f" fragments={progress['fragments_completed']} last={progress['last_fragment']} {state}")


class _ConfigWatcher:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._mtime = self._stat()

    def _stat(self) -> Optional[float]:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def changed(self) -> Optional[AppConfig]:
        mtime = self._stat()
        if mtime is None or mtime == self._mtime:
            return None
        self._mtime = mtime
        try:
            return load_config(self.path)
        except ConfigError as error:
            print(f"kvs-parser run: {self.path} changed but is not valid; keeping the running cameras:\n{error}",
                  file=sys.stderr)
            return None


def run_on_ray(args: argparse.Namespace, config: AppConfig, stop: StopFlag,
               stop_on_signals: Callable[[], Callable[[], None]]) -> int:
    """Runs until `stop` is set (by the handlers `stop_on_signals` installs, after Ray's own) or --duration."""
    if not args.checkpoint:
        print("kvs-parser run: --ray needs --checkpoint redis://HOST:PORT/DB (or sqlite:///PATH on one machine)",
              file=sys.stderr)
        return 2
    try:
        from ..ray import FleetMetricsCollector, RayFleet
    except ImportError as error:
        print(f"kvs-parser run: --ray needs Ray: pip install 'kvs-parser-py[ray]' ({error})", file=sys.stderr)
        return 2
    fleet = RayFleet(config, checkpoint_url=args.checkpoint, hook=args.hook, address=args.ray,
                     cpus_per_camera=args.cpus_per_camera, gpus_per_camera=args.gpus_per_camera,
                     max_restarts=args.max_restarts)
    registry = CollectorRegistry()
    registry.register(FleetMetricsCollector(fleet))
    server = None
    if args.metrics_port is not None:
        server = MetricsServer(registry, port=args.metrics_port, host=args.metrics_host)
    watcher = _ConfigWatcher(args.config)
    restore_signals: Callable[[], None] = lambda: None  # noqa: E731
    try:
        fleet.start()
        restore_signals = stop_on_signals()
        if server is not None:
            server.start()
            print(f"metrics on {server.url}", flush=True)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while not stop.is_set():
            wait = args.status_interval if deadline is None else min(args.status_interval, deadline - time.monotonic())
            if stop.wait(max(0.0, wait)) or (deadline is not None and time.monotonic() >= deadline):
                break
            new_config = watcher.changed()
            if new_config is not None:
                change = fleet.apply(new_config)
                print(f"config changed: added {change.added}, removed {change.removed}, replaced {change.replaced}",
                      flush=True)
            progress = fleet.progress(timeout=min(2.0, args.status_interval))
            print("\n".join(_status(camera_id, p) for camera_id, p in progress.items()), flush=True)
    finally:
        progress = fleet.progress(timeout=2.0)
        fleet.stop()
        if server is not None:
            server.stop()
        restore_signals()
    for camera_id, p in progress.items():
        print(_status(camera_id, p))
    return 0
