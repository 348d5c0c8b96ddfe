"""`kvs-parser demo`: the whole pipeline on the embedded emulator, with nothing to configure.

A synthetic live camera inside the local KVS emulator -> real boto3 GetMedia over 127.0.0.1 -> the native
parser -> PyAV decoding to numpy. Shows a live status line, checks each picture's drawn frame index,
writes a few JPEG snapshots and a latency summary (JSON) to --out.

The first second shows high latency on purpose: a NOW start begins at the first frame of the latest
fragment, which is already up to one fragment (1 s here) old. Those frames arrive at once, and latency
falls to its steady milliseconds once they are decoded; the summary reports that catch-up time.

The frame index is drawn as a binary pattern: the picture is a 6 x 4 grid of blocks, read left to right
and top to bottom, each block one bit of the index (least significant first), white for 1 and black for
0. Frame 0 is therefore all black, frame 1 has only the top-left block white, frame 5 the first and
third: an all-black snapshot is frame 0, not a failure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List

import boto3

from .._recorders import LatencyRecorder, RateMeter
from ..camera import format_ms as ms
from ..decode import DecodeOptions, FrameDecoder
from ..emulator import Emulator, SyntheticCamera, read_index
from ..getmedia import GetMediaClient, StartSelector
from ..source import ProducerClock
from ._catch_up import CatchUp, CatchUpRecorder
from ._images import write_image
from .emulate import frame_size

STREAM = "demo-camera"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the pipeline on a synthetic camera in the local emulator",
                                   description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0, help="how long to stream (default 6)")
    parser.add_argument("--size", default="640x360", type=frame_size, metavar="WxH",
                        help="camera resolution WxH (default 640x360)")
    parser.add_argument("--fps", type=int, default=15, help="camera frame rate (default 15)")
    parser.add_argument("--snapshots", type=int, default=4, help="JPEG snapshots to write (default 4)")
    parser.add_argument("--out", type=Path, default=Path("kvs-demo-output"),
                        help="output directory (default: kvs-demo-output)")
    parser.set_defaults(func=run)


@dataclass
class DemoSummary:
    frames_received: int = 0
    frames_decoded: int = 0
    index_checked: int = 0
    index_mismatches: int = 0
    fps: float = 0.0
    # the LatencySummary fields: producer time of the frame -> decoded numpy picture
    latency_ms: Dict[str, Any] = field(default_factory=dict)
    # the CatchUp fields: how long the NOW start took to reach steady latency
    catch_up: Dict[str, Any] = field(default_factory=dict)
    connection_resets: int = 0
    parse_errors: int = 0
    decode_errors: int = 0
    snapshots: List[str] = field(default_factory=list)


def run(args: argparse.Namespace) -> int:
    width, height = args.size
    args.out.mkdir(parents=True, exist_ok=True)
    summary = DemoSummary()
    latency = LatencyRecorder(capacity=10_000)
    catch_up = CatchUpRecorder()
    rate = RateMeter(window_seconds=2.0)
    fragment_seconds = 1.0
    camera = SyntheticCamera(width=width, height=height, fps=args.fps, fragment_duration=fragment_seconds,
                             bitrate=800_000)
    session = boto3.Session(aws_access_key_id="demo", aws_secret_access_key="demo", region_name="us-west-2")
    decoder = FrameDecoder(DecodeOptions(pixel_format="rgb24"))
    clock = ProducerClock()  # the producer time of each picture
    status_start = "\r" if sys.stdout.isatty() else "\n"  # one live line on a terminal, lines in a log
    snapshot_every = max(1, int(args.seconds * args.fps) // max(1, args.snapshots))
    with Emulator() as emulator:
        emulator.add_live_stream(STREAM, camera)
        print(
            f"emulator on {emulator.endpoint_url}; streaming '{STREAM}' ({width}x{height} @ {args.fps} fps) "
            f"through boto3 GetMedia for {args.seconds:g} s"
        )
        print(
            f"latency starts high: a NOW start begins at the latest fragment's first frame, up to "
            f"{fragment_seconds:g} s old; it falls to milliseconds once those frames are decoded"
        )
        with GetMediaClient(session, endpoint_url=emulator.endpoint_url) as client:
            stream = client.stream(STREAM, start=StartSelector.now(), on_tracks=decoder.update_tracks)
            deadline = time.monotonic() + args.seconds
            next_status = time.monotonic() + 1.0
            with stream:
                for frame in stream.frames():
                    summary.frames_received += 1
                    clock.note(frame)
                    for picture in decoder.decode(frame):
                        summary.frames_decoded += 1
                        rate.mark()
                        produced = clock.producer_time_ms(picture)
                        if produced is not None:
                            behind_ms = time.time() * 1000 - produced
                            latency.record(behind_ms)
                            catch_up.record(behind_ms)
                        expected = round(picture.pts_ms * args.fps / 1000)
                        summary.index_checked += 1
                        try:
                            summary.index_mismatches += read_index(picture.image) != expected
                        except ValueError:
                            summary.index_mismatches += 1
                        if summary.frames_decoded % snapshot_every == 1 and len(summary.snapshots) < args.snapshots:
                            path = args.out / f"snapshot_{picture.pts_ms:08d}.jpg"
                            write_image(picture.image, path)
                            summary.snapshots.append(str(path))
                    if time.monotonic() >= next_status:
                        next_status += 1.0
                        stats = latency.summary()
                        sys.stdout.write(
                            f"{status_start}{STREAM}: {rate.rate():5.1f} fps  latency p50 {ms(stats.p50)}  "
                            f"p95 {ms(stats.p95)}  frames {summary.frames_decoded}    "
                        )
                        sys.stdout.flush()
                    if time.monotonic() >= deadline:
                        stream.stop()
                counters = stream.counters
    decoder.close()
    summary.fps = summary.frames_decoded / args.seconds
    summary.latency_ms = asdict(latency.summary())
    caught_up = catch_up.result()
    summary.catch_up = asdict(caught_up)
    summary.connection_resets = counters.resets
    summary.parse_errors = counters.parse_errors
    summary.decode_errors = decoder.stats.decode_errors
    (args.out / "latency_summary.json").write_text(json.dumps(asdict(summary), indent=1))
    stats = latency.summary()
    print(
        f"\ndecoded {summary.frames_decoded} frames ({summary.fps:.1f} fps); frame index drawn in the picture "
        f"matched for {summary.index_checked - summary.index_mismatches}/{summary.index_checked}"
    )
    print(
        f"latency, producer time -> decoded numpy frame: p50 {ms(stats.p50)}, p95 {ms(stats.p95)}, "
        f"p99 {ms(stats.p99)}, max {ms(stats.max)}"
    )
    print(catch_up_line(caught_up))
    print(f"wrote {len(summary.snapshots)} snapshots and latency_summary.json to {args.out}/")
    ok = summary.frames_decoded > 0 and summary.index_mismatches == 0 and len(summary.snapshots) > 0
    return 0 if ok else 1


def catch_up_line(caught_up: CatchUp) -> str:
    if caught_up.threshold_ms is None:
        return "catch-up: no latency measured"
    start = f"the first frame, the latest fragment's first, was {ms(caught_up.first_latency_ms)} behind the producer"
    if caught_up.seconds is None:
        return f"catch-up: latency never fell below {ms(caught_up.threshold_ms)}; {start}"
    return (
        f"catch-up: {caught_up.seconds:.2f} s until latency fell below {ms(caught_up.threshold_ms)} "
        f"({caught_up.frames} frames); {start}"
    )
