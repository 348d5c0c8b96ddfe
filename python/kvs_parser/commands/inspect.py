"""`kvs-parser inspect FILE|-`: what a stream holds, like mkvinfo, or (--json) the Java goldens' schema."""

from __future__ import annotations

import argparse
import json
import sys
from typing import BinaryIO, TextIO

from .._kvsparser import FragmentMetadata, FragmentStart, KVSStreamParser, ParsedFrame, TrackInfo
from ..errors import ParseError
from ..iterators import iter_chunks
from ..report import golden_report
from ._printable import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("inspect", help="summarise the fragments, tracks and frames of a stream")
    parser.add_argument("file", help="an MKV / GetMedia capture, or - for standard input")
    parser.add_argument("--json", action="store_true", help="print the Java golden files' schema")
    parser.add_argument("--frames", action="store_true", help="list every frame (default: first 5 a fragment)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source: BinaryIO = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    with source:
        if args.json:
            json.dump(golden_report(source, args.file), sys.stdout, indent=1)
            sys.stdout.write("\n")
            return 0
        return Summary(sys.stdout, every_frame=args.frames).read(source)


class Summary:
    """Prints events as they come, so a live pipe shows fragments as soon as they end. Every line goes
    through `printable`: tag values, track names and tokens come from the stream, maybe a hostile one."""

    def __init__(self, out: TextIO, every_frame: bool) -> None:
        self.out = out
        self.every_frame = every_frame
        self.frames_in_fragment = 0
        self.errors = 0

    def read(self, source: BinaryIO) -> int:
        parser = KVSStreamParser(
            on_fragment_start=self.fragment_start,
            on_tracks=self.tracks,
            on_frame=self.frame,
            on_fragment_end=self.fragment_end,
            on_error=self.error,
        )
        for chunk in iter_chunks(source):
            parser.parse(chunk)
        parser.close()
        self._line(f"{parser.fragment_count} fragment(s), {parser.bytes_consumed} bytes, {self.errors} error(s)")
        return 1 if self.errors else 0

    def _line(self, text: str) -> None:
        self.out.write(printable(text) + "\n")

    def fragment_start(self, start: FragmentStart) -> None:
        self.frames_in_fragment = 0
        self._line(f"+ Segment #{start.index} at byte {start.offset}")

    def tracks(self, tracks: list[TrackInfo]) -> None:
        for track in tracks:
            self._line(f"|  + {track!r}")

    def frame(self, frame: ParsedFrame) -> None:
        self.frames_in_fragment += 1
        if self.every_frame or self.frames_in_fragment <= 5:
            self._line(f"|  + {frame!r}")
        elif self.frames_in_fragment == 6:
            self._line("|  + ... (--frames lists them all)")

    def fragment_end(self, fragment: FragmentMetadata) -> None:
        self._line(f"|  = {fragment!r}")
        for name, value in (
            ("millis_behind_now", fragment.millis_behind_now),
            ("continuation_token", fragment.continuation_token),
            ("error", fragment.error_code if fragment.is_error else None),
        ):
            if value is not None:
                self._line(f"|    {name}: {value}")

    def error(self, error: ParseError) -> None:
        self.errors += 1
        self._line(f"!  {error}")
