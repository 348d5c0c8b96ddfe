"""`kvs-parser run`: every camera of a cameras.yaml at once, live status, metrics, a per-frame hook.

Each camera has its frame source (reader thread) and a consumer thread that calls the hook; the main
thread prints the status and waits for Ctrl-C, SIGTERM or --duration, then stops everything.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any, Callable, List, Optional

from prometheus_client import CollectorRegistry

from .._stop_flag import StopFlag
from ..config import load_config
from ..metrics import KVSMetrics, MetricsServer
from ..source import FrameSource, FrameTimeout, SourceEnded
from ._camera_sources import sources_from_config
from ._failures import UsageError, describe
from ._hooks import HookErrorPolicy, HookRunner, load_hook
from ._status import status_line

__all__ = ["consume", "load_hook", "register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="read every camera of a cameras.yaml concurrently",
                                   description=__doc__)
    parser.add_argument("--config", required=True, help="the cameras.yaml to read")
    parser.add_argument("--metrics-port", type=int,
                        help="serve Prometheus /metrics on 127.0.0.1:PORT (default: no metrics server)")
    parser.add_argument("--hook", metavar="MODULE:FUNCTION",
                        help="called with (camera_id, SourceFrame) for each frame; MODULE may be a .py file in the "
                             "current directory (default: no hook)")
    parser.add_argument("--on-hook-error", choices=[p.value for p in HookErrorPolicy], default="stop",
                        help="when the hook raises: stop that camera, or log and continue with the next frame")
    parser.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument("--status-interval", type=float, default=1.0, help="seconds between status lines")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes the cameras are shared over (default: one per core; 0: all cameras "
                             "in this process, on threads)")
    from ._ray_run import add_arguments as add_ray_arguments

    add_ray_arguments(parser)
    parser.set_defaults(func=run)


def consume(source: FrameSource, hook: Optional[HookRunner], stop: StopFlag, failures: List[str]) -> None:
    """Reads one camera until stop; a raising hook is reported at once and its policy applied."""
    while not stop.is_set():
        try:
            frame = source.read(timeout=0.5)
        except FrameTimeout:
            continue
        except SourceEnded:
            return
        except Exception as error:  # the stream's fatal error: shown by the status, camera stops
            failures.append(f"{source.camera_id}: {describe(error)[0]}")
            return
        if hook is not None and not hook.call(source.camera_id, frame):
            failures.append(f"{source.camera_id}: {hook.failure(source.camera_id)}")
            source.stop(timeout=0)  # its reader stops decoding too
            return


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


def _run_on_ray(args: argparse.Namespace, config: Any) -> int:
    from ._ray_run import run_on_ray

    with StopFlag() as stop:
        # Installed once Ray is initialised: ray.init() installs its own SIGTERM handler.
        return run_on_ray(args, config, stop, lambda: _stop_on_signals(stop))


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if getattr(args, "ray", None) is not None:
        return _run_on_ray(args, config)
    try:
        hook_function = load_hook(args.hook) if args.hook else None
    except (ValueError, ImportError, AttributeError) as error:
        raise UsageError(f"--hook {args.hook}: {type(error).__name__}: {error}") from error
    if args.workers != 0:
        from ..fleet._cli import run_fleet

        sources_from_config(config, args.config, KVSMetrics(CollectorRegistry()))  # its typed errors, here
        with StopFlag() as stop:
            restore = _stop_on_signals(stop)
            try:
                return run_fleet(config, args.workers, args.hook, args.on_hook_error, args.metrics_port,
                                 args.duration, args.status_interval, stop)
            finally:
                restore()
    registry = CollectorRegistry()
    metrics = KVSMetrics(registry)
    hook = None if hook_function is None else HookRunner(hook_function, args.hook, args.on_hook_error, metrics)
    sources = sources_from_config(config, args.config, metrics)
    server = MetricsServer(registry, port=args.metrics_port) if args.metrics_port is not None else None
    stop = StopFlag()
    restore = _stop_on_signals(stop)
    failures: List[str] = []
    consumers = [threading.Thread(target=consume, args=(s, hook, stop, failures), name=f"kvs-run-{s.camera_id}")
                 for s in sources]
    tty = sys.stdout.isatty()
    try:
        if server is not None:
            server.start()
            print(f"metrics on {server.url}", flush=True)
        for source in sources:
            source.start()
        for consumer in consumers:
            consumer.start()
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while not stop.is_set():
            wait = args.status_interval if deadline is None else min(args.status_interval, deadline - time.monotonic())
            if stop.wait(max(0.0, wait)) or (deadline is not None and time.monotonic() >= deadline):
                break
            lines = [_status(source, hook) for source in sources]
            if tty:  # redraw the block of lines in place: clear each, then back to the first
                sys.stdout.write("".join(f"\x1b[2K{line}\n" for line in lines) + f"\x1b[{len(lines)}F")
            else:
                sys.stdout.write("".join(f"{line}\n" for line in lines))
            sys.stdout.flush()
            if all(not consumer.is_alive() for consumer in consumers):
                break  # every camera ended or failed
    finally:
        stop.set()
        for source in sources:
            source.stop()
        for consumer in consumers:
            if consumer.ident is not None:
                consumer.join(5)
        if server is not None:
            server.stop()
        restore()
        stop.close()
    if tty:
        sys.stdout.write("\n" * len(sources))
    for source in sources:
        print(_status(source, hook))
    for failure in failures:
        print(f"kvs-parser run: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _status(source: FrameSource, hook: Optional[HookRunner]) -> str:
    return status_line(source.get_metrics()) + ("" if hook is None else hook.status(source.camera_id))
