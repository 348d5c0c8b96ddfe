"""The `kvs-parser` command: a thin dispatcher over one module per subcommand.

Each module in `kvs_parser.commands` exposes `register(subparsers)`, which adds its subparser and sets
`func(args) -> int` as its default, so a subcommand lives in one file and this one stays short. Only the
command being run (or asked for its --help) is imported: `kvs-parser --help` loads no PyAV, boto3 or
pydantic, and a command whose extra is missing does not break the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from ._version import __version__

# Subcommands in the order `--help` lists them, with the one line it shows for each.
COMMANDS = {
    "demo": "run the pipeline on a synthetic camera in the local emulator",
    "inspect": "summarise the fragments, tracks and frames of a stream",
    "emulate": "serve a local Kinesis Video Streams endpoint for boto3",
    "run": "read every camera of a cameras.yaml concurrently",
    "frames": "save decoded frames of a stream as JPEG/PNG files",
    "audio": "write audio tracks (e.g. Amazon Connect's) as WAV",
    "pipe": "write a live stream to stdout as MKV or Annex B",
}


def build_parser(argv: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The parser for `argv`: the command it names is registered by its module, the others by name only."""
    parser = argparse.ArgumentParser(prog="kvs-parser", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    args = sys.argv[1:] if argv is None else list(argv)
    chosen = next((arg for arg in args if not arg.startswith("-")), None)
    for name, summary in COMMANDS.items():
        if name == chosen:
            importlib.import_module(f"kvs_parser.commands.{name}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
