"""The `kvs-parser` command: a thin dispatcher over one module per subcommand.

Each module in `kvs_parser.commands` exposes `register(subparsers)`, which adds its subparser and sets
`func(args) -> int` as its default, so a subcommand lives in one file and this one stays short.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from ._version import __version__

# Subcommand modules, in the order `--help` lists them.
COMMAND_MODULES = ("demo", "inspect", "emulate", "run", "frames", "audio", "pipe")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kvs-parser", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"kvs_parser.commands.{name}").register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
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
