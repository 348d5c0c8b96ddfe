"""`kvs-parser frames STREAM --out DIR`: save decoded frames of a KVS stream as JPEG or PNG files."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Optional

from ..emulator import Emulator, SyntheticCamera
from ..source import FrameTimeout, KVSGetMediaFrameSource, SourceEnded, SourceFrame
from ._failures import UsageError
from ._images import free_path, write_image
from ._options import add_aws_options, add_start_option

EMULATE_DEFAULT_MAX = 10  # --emulate alone: a demonstration that ends by itself


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("frames", help="save decoded frames of a stream as JPEG/PNG files",
                                   description=__doc__)
    parser.add_argument("stream", metavar="STREAM", help="KVS stream name")
    parser.add_argument("--out", type=Path, required=True, help="directory for the images (created if missing)")
    every = parser.add_mutually_exclusive_group()
    every.add_argument("--every", type=int, default=1, help="save every Nth decoded frame")
    every.add_argument("--interval", type=float,
                       help="save at most one frame per this many seconds of video (default: use --every)")
    parser.add_argument("--format", choices=("jpg", "png"), default="jpg", help="image format")
    parser.add_argument("--max", type=int, help=f"stop after saving this many images (default: no limit; "
                                                f"{EMULATE_DEFAULT_MAX} with --emulate and no --duration)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds (default: no limit)")
    add_aws_options(parser)
    add_start_option(parser, "now")
    parser.add_argument("--follow", action="store_true",
                        help="at the live edge, wait for new data for ever (default: end once the stream has "
                             "had no new data for the bounded retries, e.g. a finished stream)")
    parser.add_argument("--emulate", action="store_true",
                        help="start a local emulator with a synthetic camera named STREAM and read from it")
    parser.set_defaults(func=run)


@contextlib.contextmanager
def _endpoint(args: argparse.Namespace) -> Iterator[Optional[str]]:
    if not args.emulate:
        yield args.endpoint_url
        return
    with Emulator() as emulator:
        emulator.add_live_stream(args.stream, SyntheticCamera(width=320, height=240, fps=15))
        print(f"emulator on {emulator.endpoint_url} with a synthetic camera '{args.stream}'", flush=True)
        yield emulator.endpoint_url


class _Selector:
    """Which decoded frames to keep: every Nth, or one per interval of stream time."""

    def __init__(self, every: int, interval: Optional[float]) -> None:
        self.every, self.interval_ms = max(1, every), None if interval is None else interval * 1000
        self.count = 0
        self.next_pts: Optional[float] = None

    def keep(self, frame: SourceFrame) -> bool:
        self.count += 1
        if self.interval_ms is None:
            return (self.count - 1) % self.every == 0
        jumped_back = self.next_pts is not None and frame.pts_ms < self.next_pts - 2 * self.interval_ms
        if self.next_pts is None or frame.pts_ms >= self.next_pts or jumped_back:
            self.next_pts = frame.pts_ms + self.interval_ms
            return True
        return False


def run(args: argparse.Namespace) -> int:
    if args.max is None and args.duration is None and args.emulate:
        args.max = EMULATE_DEFAULT_MAX
        print(f"--emulate: stopping after {args.max} images (give --max or --duration to change)", file=sys.stderr)
    if args.every < 1 or (args.interval is not None and args.interval <= 0):
        raise UsageError("--every must be >= 1 and --interval > 0")
    args.out.mkdir(parents=True, exist_ok=True)
    selector = _Selector(args.every, args.interval)
    saved = 0
    deadline = None if args.duration is None else time.monotonic() + args.duration
    with _endpoint(args) as endpoint_url:
        source = KVSGetMediaFrameSource(
            args.stream, args.stream, region=args.region, start_selector=args.start,
            endpoint_url=endpoint_url, pixel_format="rgb24", keep_polling=args.follow,
            queue_policy="block",  # a file per frame may be slower than the stream: lose none
        )
        # The source's failure is raised by read() below and reported once by the command.
        source_log = logging.getLogger("kvs_parser.source")
        with source, _quiet(source_log):
            while (args.max is None or saved < args.max) and (deadline is None or time.monotonic() < deadline):
                try:
                    frame = source.read(timeout=1.0)
                except FrameTimeout:
                    continue
                except SourceEnded:
                    break
                if selector.keep(frame):
                    path = free_path(args.out, f"{args.stream}_{frame.pts_ms:012d}", args.format)
                    write_image(frame.image, path, frame.pixel_format, overwrite=False)
                    saved += 1
                    _progress(saved, path)
    print(f"\nsaved {saved} {args.format} files to {args.out}/")
    if not saved:
        print(f"kvs-parser frames: no frame of {args.stream!r} arrived; the stream had no data from --start on "
              "(try --start earliest)", file=sys.stderr)
    return 0 if saved else 1


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Raises `logger` above ERROR for the block (its error lines would repeat the command's own)."""
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _progress(saved: int, path: Any) -> None:
    start = "\r" if sys.stdout.isatty() else ""
    end = "" if sys.stdout.isatty() else "\n"
    sys.stdout.write(f"{start}{saved} saved, last {path}{end}")
    sys.stdout.flush()
