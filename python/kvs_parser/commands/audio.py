"""`kvs-parser audio SOURCE --track NAME --out x.wav`: audio tracks of a file, stdin or a live stream as WAV."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, List

from ..audio import AudioCollector, AudioTrack, read_audio, write_wav
from ..getmedia import GetMediaClient, StreamNotFoundError
from ._failures import UsageError
from ._options import add_aws_options, add_start_option


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audio", help="write audio tracks (e.g. Amazon Connect's) as WAV",
                                   description=__doc__)
    parser.add_argument("source", help="an MKV/GetMedia file, '-' for stdin, or a stream name")
    parser.add_argument("--track", action="append", default=[],
                        help="track name or number, repeatable (several: one channel group each) "
                             "(default: every audio track)")
    parser.add_argument("--out", required=True, help="the WAV file to write")
    add_aws_options(parser)
    add_start_option(parser, "earliest")
    parser.add_argument("--follow", action="store_true",
                        help="keep reading a live stream until interrupted (default: stop at the end of the data)")
    parser.set_defaults(func=run)


def _read(args: argparse.Namespace) -> List[AudioTrack]:
    if args.source == "-":
        return read_audio(sys.stdin.buffer, args.track)
    if os.path.exists(args.source):
        with open(args.source, "rb") as source:
            return read_audio(source, args.track)
    return _from_stream(args)


def _from_stream(args: argparse.Namespace) -> List[AudioTrack]:
    collector = AudioCollector(args.track)
    with GetMediaClient(region_name=args.region, endpoint_url=args.endpoint_url) as client:
        stream = client.stream(args.source, start=args.start, follow=args.follow, on_tracks=collector.on_tracks)
        try:
            for frame in stream.frames():
                collector.on_frame(frame)
        except KeyboardInterrupt:
            pass  # what arrived so far is still written
    return collector.result()


def run(args: argparse.Namespace) -> int:
    try:
        tracks = _read(args)
    except StreamNotFoundError:
        raise
    except LookupError as error:  # a --track name or number the source does not have
        raise UsageError(f"--track: {error}; `kvs-parser inspect` lists a file's tracks") from error
    if not tracks:
        print(f"kvs-parser audio: no matching audio track in {args.source!r}; `kvs-parser inspect` lists a file's "
              "tracks", file=sys.stderr)
        return 1
    frames = write_wav(args.out, tracks)
    names = ", ".join(t.name for t in tracks)
    print(f"{args.out}: {names}, {tracks[0].sample_rate} Hz, {frames / tracks[0].sample_rate:.2f} s", file=sys.stderr)
    return 0
