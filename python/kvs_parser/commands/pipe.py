"""`kvs-parser pipe STREAM`: a live stream to stdout as continuous Matroska or raw Annex B, for
`| ffplay -`, `| mpv -`, `| gst-launch-1.0 fdsrc ! matroskademux ! ...`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Iterator, Union

from ..getmedia import GetMediaClient
from ..iterators import iter_chunks
from ..pipe import AnnexBWriter, LiveMkvWriter
from ._options import add_aws_options, add_start_option


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("pipe", help="write a live stream to stdout as MKV or Annex B", description=__doc__)
    parser.add_argument("stream", help="stream name (or an MKV/GetMedia file, '-' for stdin)")
    parser.add_argument("--format", choices=("mkv", "annexb"), default="mkv",
                        help="mkv: one continuous Matroska stream; annexb: raw H.264/H.265 NAL units")
    parser.add_argument("--track", type=int, help="video track number for annexb (default: the first video track)")
    add_aws_options(parser)
    add_start_option(parser, "now")
    parser.add_argument("--max-frames", type=int, help="stop after this many frames (default: run until stopped)")
    parser.set_defaults(func=run)


def _file_frames(path: str, writer: Union[LiveMkvWriter, AnnexBWriter]) -> Iterator[Any]:
    from .._kvsparser import KVSStreamParser, ParsedFrame

    ready: list[ParsedFrame] = []
    parser = KVSStreamParser(on_frame=ready.append, on_tracks=writer.tracks)
    with (open(path, "rb") if path != "-" else os.fdopen(os.dup(0), "rb")) as source:
        for chunk in iter_chunks(source):
            parser.parse(chunk)
            yield from ready
            ready.clear()
    parser.close()
    yield from ready


def run(args: argparse.Namespace) -> int:
    out = sys.stdout.buffer
    writer: Union[LiveMkvWriter, AnnexBWriter] = LiveMkvWriter(out) if args.format == "mkv" else AnnexBWriter(
        out, args.track)
    if args.stream == "-" or os.path.exists(args.stream):
        frames = _file_frames(args.stream, writer)
        for count, frame in enumerate(frames, 1):
            writer.frame(frame)
            if args.max_frames is not None and count >= args.max_frames:
                break
        return 0
    # Retries are bounded (RetryPolicy's default) and each one is logged on stderr; at the live edge the
    # stream keeps polling for new data, which is logged too.
    with GetMediaClient(region_name=args.region, endpoint_url=args.endpoint_url) as client, \
            client.stream(args.stream, start=args.start, on_tracks=writer.tracks) as stream:
        for count, frame in enumerate(stream.frames(), 1):
            writer.frame(frame)
            if args.max_frames is not None and count >= args.max_frames:
                break
    return 0
