"""`kvs-parser emulate`: run the local KVS endpoint until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import threading

from ..emulator import Emulator, Limits, SyntheticCamera


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("emulate", help="serve a local Kinesis Video Streams endpoint for boto3")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: let the OS choose")
    parser.add_argument("--stream", action="append", default=[], metavar="NAME=FILE",
                        help="a stream made of a media file cut into fragments (repeatable)")
    parser.add_argument("--live", action="append", default=[], metavar="NAME",
                        help="a live synthetic-camera stream (repeatable)")
    parser.add_argument("--size", default="320x240", help="live camera WxH")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--bitrate", type=int, default=300_000)
    parser.add_argument("--fragment-duration", type=float, default=2.0)
    parser.add_argument("--codec", choices=["h264", "hevc"], default="h264")
    parser.add_argument("--session-lifetime", type=float, default=45 * 60.0)
    parser.add_argument("--max-connections", type=int, default=3)
    parser.add_argument("--tps", type=float, default=5.0)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    width, height = (int(v) for v in args.size.lower().split("x"))
    limits = Limits(args.max_connections, args.tps, args.session_lifetime)
    with Emulator(args.host, args.port, limits=limits) as emu:
        for spec in args.stream:
            name, _, path = spec.partition("=")
            emu.add_file_stream(name, path)
        for name in args.live:
            emu.add_live_stream(name, SyntheticCamera(width, height, args.fps, args.bitrate,
                                                      args.fragment_duration, args.codec))
        print(f"KVS emulator at {emu.endpoint_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0
