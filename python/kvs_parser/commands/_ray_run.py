"""`kvs-parser run --ray [ADDRESS]`: the cameras of a cameras.yaml as actors on a Ray cluster.

The run connects only to a cluster that exists (the address given, or with `auto` one already running on
this machine: it never starts a local instance by accident), places the actors, and re-reads the
cameras.yaml when it changes (cameras added, removed or changed move alone; an edit that does not
validate is reported and ignored).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import Any, Optional

from ..config import AppConfig, load_config
from ._failures import UsageError

CONNECT_CHECK_SECONDS = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Ray cluster (pip install 'kvs-parser-py[ray]'; see docs/ray.md)")
    group.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                       help="run each camera as a Ray actor on the cluster at ADDRESS (host:port of its GCS), or "
                            "'auto': the cluster already running on this machine (default: auto)")
    group.add_argument("--cpus-per-camera", type=float, default=0.5, help="Ray CPUs per camera (default 0.5)")
    group.add_argument("--gpus-per-camera", type=float, default=0.25,
                       help="Ray GPUs per camera decoding with nvdec (default 0.25)")
    group.add_argument("--max-restarts", type=int, default=-1,
                       help="restarts of a camera's actor after failures (default -1: always)")


CLUSTER_FILE = Path("/tmp/ray/ray_current_cluster")  # where `ray start` records the running cluster


def _running_cluster() -> Optional[str]:
    """The address `auto` would join: $RAY_ADDRESS, else the cluster `ray start` recorded here."""
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    try:
        return CLUSTER_FILE.read_text().strip() or None
    except OSError:
        return None


def _reachable(address: str) -> None:
    """An unreachable cluster is one line and exit 2, not minutes of Ray retrying (nor a local instance
    started by accident)."""
    given = address
    if address == "auto":
        found = _running_cluster()
        if found is None:
            raise UsageError("--ray auto: no Ray cluster is running on this machine; start one (ray start --head) "
                             "or give its address, --ray HOST:PORT")
        address = found
    bare = address[len("ray://"):] if address.startswith("ray://") else address
    host, _, port = bare.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--ray {given}: give HOST:PORT of the cluster's head (or auto)")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_CHECK_SECONDS):
            pass
    except OSError as error:
        what = "no Ray cluster is running on this machine (the last one, at " + address + ", is gone)" \
            if given == "auto" else "cannot reach the Ray cluster"
        raise UsageError(f"--ray {given}: {what} ({error})") from error


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
        except Exception as error:  # any failure to validate: reported, the fleet keeps running
            print(f"kvs-parser run: {self.path} changed but is not valid; keeping the running cameras:\n"
                  f"{type(error).__name__}: {str(error)[:2000]}", file=sys.stderr)
            return None


def ray_host(args: argparse.Namespace, config: AppConfig, checkpoint: Optional[str]) -> Any:
    """A RayFleet for `run`, with `tick()` applying cameras.yaml edits."""
    if not checkpoint:
        raise UsageError("--ray needs a checkpoint store: --checkpoint redis://HOST:PORT/DB (or sqlite:///PATH on "
                         "one machine), --checkpoint-file, or $KVS_PARSER_CHECKPOINT")
    try:
        from ..ray import RayFleet
    except ImportError as error:
        raise UsageError(f"--ray needs Ray: pip install 'kvs-parser-py[ray]' ({error})") from error
    _reachable(args.ray)
    return RayFleet(config, checkpoint_url=checkpoint, hook=args.hook, on_hook_error=args.on_hook_error,
                    address=args.ray, cpus_per_camera=args.cpus_per_camera, gpus_per_camera=args.gpus_per_camera,
                    max_restarts=args.max_restarts, config_source=_ConfigWatcher(args.config).changed)
