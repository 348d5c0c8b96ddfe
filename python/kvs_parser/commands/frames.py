"""`kvs-parser frames STREAM --out DIR`: save decoded frames of a KVS stream as JPEG or PNG files."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Optional

from ..emulator import Emulator, SyntheticCamera
from ..source import FrameTimeout, KVSGetMediaFrameSource, SourceEnded, SourceFrame
from ..source._factory import session_for
from ._images import write_image

START_CHOICES = ("NOW", "EARLIEST")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("frames", help="save decoded frames of a stream as JPEG/PNG files")
    parser.add_argument("stream", metavar="STREAM", help="KVS stream name")
    parser.add_argument("--out", type=Path, required=True, help="directory for the images")
    every = parser.add_mutually_exclusive_group()
    every.add_argument("--every", type=int, default=1, help="save every Nth decoded frame (default 1)")
    every.add_argument("--interval", type=float, help="save at most one frame per this many seconds of video")
    parser.add_argument("--format", choices=("jpg", "png"), default="jpg", help="image format (default jpg)")
    parser.add_argument("--max", type=int, help="stop after saving this many images")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--endpoint-url", help="kinesisvideo endpoint instead of AWS (e.g. an emulator)")
    parser.add_argument("--region", help="AWS region")
    parser.add_argument("--start", default="NOW", type=str.upper, choices=START_CHOICES, help="where to start")
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
        args.max = 10  # a demo run should end by itself
    args.out.mkdir(parents=True, exist_ok=True)
    selector = _Selector(args.every, args.interval)
    saved = 0
    deadline = None if args.duration is None else time.monotonic() + args.duration
    with _endpoint(args) as endpoint_url:
        region = args.region or ("us-west-2" if endpoint_url else None)
        source = KVSGetMediaFrameSource(
            args.stream, args.stream, region=region, start_selector=args.start,
            session=session_for(endpoint_url, region), endpoint_url=endpoint_url, pixel_format="rgb24",
            queue_policy="block",  # a file per frame may be slower than the stream: lose none
        )
        with source:
            while (args.max is None or saved < args.max) and (deadline is None or time.monotonic() < deadline):
                try:
                    frame = source.read(timeout=1.0)
                except FrameTimeout:
                    continue
                except SourceEnded:
                    break
                if selector.keep(frame):
                    path = args.out / f"{args.stream}_{frame.pts_ms:012d}.{args.format}"
                    write_image(frame.image, path, frame.pixel_format)
                    saved += 1
                    _progress(saved, path)
    print(f"\nsaved {saved} {args.format} files to {args.out}/")
    return 0 if saved else 1


def _progress(saved: int, path: Any) -> None:
    start = "\r" if sys.stdout.isatty() else ""
    end = "" if sys.stdout.isatty() else "\n"
    sys.stdout.write(f"{start}{saved} saved, last {path}{end}")
    sys.stdout.flush()
