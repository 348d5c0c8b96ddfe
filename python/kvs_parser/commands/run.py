"""`kvs-parser run`: every camera of a cameras.yaml at once, live status, metrics, a per-frame hook.

Each camera is a ``kvs_parser.camera.Camera``, whichever host runs it: threads of this process
(``--workers 0``), worker processes (the default), or Ray actors (``--ray``). One status loop prints every
host's cameras until Ctrl-C, SIGTERM, --duration or the end of every camera.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, List, Optional, Protocol

from .._stop_flag import StopFlag
from ..camera import CameraHost, HookErrorPolicy, load_hook, status_line
from ..config import AppConfig, load_config
from ..source import source_from_config
from ..web import StatusServer
from ._failures import UsageError

CHECKPOINT_ENV = "KVS_PARSER_CHECKPOINT"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="read every camera of a cameras.yaml concurrently",
                                   description=__doc__)
    parser.add_argument("--config", required=True, help="the cameras.yaml to read")
    parser.add_argument("--metrics-port", type=int,
                        help="serve the status page (/), Prometheus /metrics, /api/cameras, /healthz and /readyz on "
                             "METRICS_HOST:PORT (default: no server)")
    parser.add_argument("--metrics-host", default="127.0.0.1",
                        help="address that server binds (0.0.0.0 in a pod; default 127.0.0.1)")
    parser.add_argument("--hook", metavar="MODULE:FUNCTION",
                        help="called with (camera_id, SourceFrame) for each frame; MODULE may be a .py file in the "
                             "current directory (default: no hook)")
    parser.add_argument("--on-hook-error", choices=[p.value for p in HookErrorPolicy], default="stop",
                        help="when the hook raises: stop that camera, or log and continue with the next frame")
    parser.add_argument("--checkpoint", metavar="URL",
                        help="checkpoint store every camera resumes from: sqlite:///path.db (one machine) or "
                             "redis://[user:password@]host:port/db, rediss:// for TLS (a cluster); default: "
                             f"${CHECKPOINT_ENV}, else the cameras.yaml's checkpoint, else none (each start "
                             "follows the start selector)")
    parser.add_argument("--checkpoint-file", metavar="PATH",
                        help="read the checkpoint URL from this file (e.g. a mounted secret), so that a password "
                             "never appears on the command line (default: none)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument("--status-interval", type=float, default=1.0, help="seconds between status lines")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes the cameras are shared over (default: one per core; 0: all cameras "
                             "in this process, on threads)")
    from ._ray_run import add_arguments as add_ray_arguments

    add_ray_arguments(parser)
    parser.set_defaults(func=run)


class Host(CameraHost, Protocol):
    """What the status loop and the status page need of the threads, the worker processes or the Ray actors."""

    registry: Any

    def start(self) -> Any: ...

    def stop(self) -> None: ...

    @property
    def running(self) -> bool: ...

    def failures(self) -> List[str]: ...


def checkpoint_url(args: argparse.Namespace, config: AppConfig) -> Optional[str]:
    if args.checkpoint and args.checkpoint_file:
        raise UsageError("give --checkpoint or --checkpoint-file, not both")
    if args.checkpoint_file:
        with open(args.checkpoint_file, encoding="utf-8") as file:
            text = file.read().strip()
        if not text:
            raise UsageError(f"--checkpoint-file {args.checkpoint_file} is empty")
        return text
    return args.checkpoint or os.environ.get(CHECKPOINT_ENV) or config.checkpoint


def _stop_on_signals(stop: StopFlag) -> Callable[[], None]:
    """SIGINT and SIGTERM set `stop` (a StopFlag: an Event set from a handler can deadlock the main thread);
    returns a function restoring the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def _host(args: argparse.Namespace, config: AppConfig, checkpoint: Optional[str]) -> Host:
    if getattr(args, "ray", None) is not None:
        from ._ray_run import ray_host

        ray_fleet: Host = ray_host(args, config, checkpoint)
        return ray_fleet
    if args.hook:
        try:
            load_hook(args.hook)  # its errors here, in one line, before any camera starts
        except (ValueError, ImportError, AttributeError) as error:
            raise UsageError(f"--hook {args.hook}: {type(error).__name__}: {error}") from error
    if args.workers == 0:
        from ..camera._threads import CameraThreads

        return CameraThreads(config, args.config, hook=args.hook, on_hook_error=args.on_hook_error,
                             checkpoint=checkpoint)
    from ..camera._build import build_all
    from ..fleet import Fleet

    build_all(config, args.config, lambda camera: source_from_config(config, camera))  # its typed errors, here
    return Fleet(config, args.workers, hook=args.hook, on_hook_error=args.on_hook_error, checkpoint=checkpoint,
                 status_interval=args.status_interval, metrics_port=None)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    host = _host(args, config, checkpoint_url(args, config))
    server = StatusServer(host.registry, host, port=args.metrics_port, bind=args.metrics_host) \
        if args.metrics_port is not None else None
    tick: Callable[[], Optional[str]] = getattr(host, "tick", lambda: None)  # Ray: re-reads the cameras.yaml
    tty = sys.stdout.isatty()
    lines = 0
    with StopFlag() as stop:
        restore: Callable[[], None] = lambda: None  # noqa: E731
        try:
            host.start()
            restore = _stop_on_signals(stop)  # after the start: ray.init() installs its own SIGTERM handler
            print(f"{len(config.cameras)} cameras on {_describe(host)}", file=sys.stderr)
            if server is not None:
                server.start()
                print(f"status page on {server.url}, metrics on {server.url}metrics", flush=True)
            deadline = None if args.duration is None else time.monotonic() + args.duration
            while not stop.is_set():
                wait = args.status_interval if deadline is None else min(args.status_interval,
                                                                         deadline - time.monotonic())
                if stop.wait(max(0.0, wait)) or (deadline is not None and time.monotonic() >= deadline):
                    break
                said = tick()
                if said:
                    print(said, flush=True)
                text = [status_line(status) for status in host.statuses()]
                if tty and text:  # redraw the block of lines in place: clear each, then back to the first
                    sys.stdout.write("".join(f"\x1b[2K{line}\n" for line in text) + f"\x1b[{len(text)}F")
                else:
                    sys.stdout.write("".join(f"{line}\n" for line in text))
                lines = len(text)
                sys.stdout.flush()
                if not host.running:
                    break  # every camera ended or failed
        finally:
            final, failures = host.statuses(), host.failures()
            host.stop()
            if server is not None:
                server.stop()
            restore()
    if tty:
        sys.stdout.write("\n" * lines)
    for status in final:
        print(status_line(status))
    failures += [failure for failure in host.failures() if failure not in failures]  # workers report at their end
    for failure in failures:
        print(f"kvs-parser run: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _describe(host: Host) -> str:
    pids = getattr(host, "worker_pids", None)
    if pids is not None:
        return f"{len(pids())} worker processes"
    return "Ray actors" if hasattr(host, "apply") else "threads of this process"
