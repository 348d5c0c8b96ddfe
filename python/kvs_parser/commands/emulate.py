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
    parser.add_argument("--live", action="append", default=[], metavar="NAME[=FILE]",
                        help="a live stream (repeatable): NAME=FILE replays your recording as a camera (looping, "
                             "paced at its frame rate, fresh timestamps per fragment); NAME alone is a synthetic "
                             "test-pattern camera")
    parser.add_argument("--size", default="320x240", help="live camera WxH")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--bitrate", type=int, default=300_000)
    parser.add_argument("--fragment-duration", type=float, default=2.0,
                        help="seconds per fragment (a replayed file is cut at its first keyframe after this)")
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
        for spec in args.live:
            name, _, path = spec.partition("=")
            if path:
                emu.add_replay_stream(name, path, min_fragment_ms=round(args.fragment_duration * 1000))
            else:
                emu.add_live_stream(name, SyntheticCamera(width, height, args.fps, args.bitrate,
                                                          args.fragment_duration, args.codec))
        print(f"KVS emulator at {emu.endpoint_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0
