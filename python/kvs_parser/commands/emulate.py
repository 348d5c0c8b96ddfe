"""`kvs-parser emulate`: run the local KVS endpoint until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import threading
from typing import List, Tuple

import av

from ..emulator import Emulator, Limits, SyntheticCamera
from ._failures import UsageError

# The port local AWS emulators listen on (LocalStack, moto's server mode): `--endpoint-url
# http://127.0.0.1:4566` works with whichever one is running.
DEFAULT_PORT = 4566


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("emulate", help="serve a local Kinesis Video Streams endpoint for boto3",
                                   description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="port to listen on; 0 lets the OS choose a free one")
    parser.add_argument("--stream", action="append", default=[], metavar="NAME=FILE",
                        help="a stream made of a media file cut into fragments (repeatable) (default: none)")
    parser.add_argument("--live", action="append", default=[], metavar="NAME[=FILE]",
                        help="a live stream (repeatable): NAME=FILE replays your recording as a camera (looping, "
                             "paced at its frame rate, fresh timestamps per fragment); NAME alone is a synthetic "
                             "test-pattern camera (default: none)")
    parser.add_argument("--size", default="320x240", type=frame_size, metavar="WxH",
                        help="picture size of the --live cameras")
    parser.add_argument("--fps", type=int, default=30, help="frame rate of the --live cameras")
    parser.add_argument("--bitrate", type=int, default=300_000, help="bits per second of the --live cameras")
    parser.add_argument("--fragment-duration", type=float, default=2.0, metavar="SECONDS",
                        help="length of each KVS fragment of the --live cameras (a replayed file is cut at its "
                             "first keyframe after this)")
    parser.add_argument("--codec", choices=["h264", "hevc"], default="h264", help="codec of the --live cameras")
    parser.add_argument("--session-lifetime", type=float, default=45 * 60.0, metavar="SECONDS",
                        help="GetMedia responses end after this long, as KVS ends them after about 45 minutes")
    parser.add_argument("--max-connections", type=int, default=3,
                        help="concurrent GetMedia connections per stream before ConnectionLimitExceeded, as KVS")
    parser.add_argument("--tps", type=float, default=5.0,
                        help="calls per second per stream and API before ClientLimitExceeded, as KVS")
    parser.set_defaults(func=run)


def frame_size(text: str) -> Tuple[int, int]:
    """argparse type for WxH."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 320x240, not {text!r}")
    return int(width), int(height)


def _file_streams(specs: List[str], option: str = "--stream") -> List[Tuple[str, str]]:
    """NAME=FILE pairs, checked before the server starts."""
    pairs = []
    for spec in specs:
        name, _, path = spec.partition("=")
        if not name or not path:
            raise UsageError(f"{option} {spec!r}: expected NAME=FILE")
        if not os.path.isfile(path):
            raise UsageError(f"{option} {spec!r}: no such file {path!r}")
        pairs.append((name, path))
    return pairs


def _started(host: str, port: int, limits: Limits) -> Emulator:
    """The emulator listening on host:port; a port already taken is a usage error naming the way out."""
    try:
        return Emulator(host, port, limits=limits).start()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise UsageError(f"port {port} on {host} is already in use (another emulator?): stop it, or choose "
                         "another port with --port N (--port 0 picks a free one)") from None


def run(args: argparse.Namespace) -> int:
    width, height = args.size
    files = _file_streams(args.stream)
    replays = _file_streams([spec for spec in args.live if "=" in spec], "--live")
    cameras = [spec for spec in args.live if "=" not in spec]
    limits = Limits(args.max_connections, args.tps, args.session_lifetime)
    with contextlib.closing(_started(args.host, args.port, limits)) as emu:
        for name, path in files:
            try:
                emu.add_file_stream(name, path)
            except (ValueError, av.error.FFmpegError) as error:
                raise UsageError(f"--stream {name}={path}: cannot cut it into fragments: {error}") from error
        for name, path in replays:
            try:
                emu.add_replay_stream(name, path, min_fragment_ms=round(args.fragment_duration * 1000))
            except (ValueError, av.error.FFmpegError) as error:
                raise UsageError(f"--live {name}={path}: cannot replay it: {error}") from error
        for name in cameras:
            emu.add_live_stream(name, SyntheticCamera(width, height, args.fps, args.bitrate,
                                                      args.fragment_duration, args.codec))
        print(f"KVS emulator at {emu.endpoint_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0
