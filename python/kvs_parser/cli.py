"""The `kvs-parser` command: a thin dispatcher over one module per subcommand.

Each module in `kvs_parser.commands` exposes `register(subparsers)`, which adds its subparser and sets
`func(args) -> int` as its default, so a subcommand lives in one file and this one stays short. Only the
command being run (or asked for its --help) is imported: `kvs-parser --help` loads no PyAV, boto3 or
pydantic, and a command whose extra is missing does not break the others.

A command whose extra is not installed says so in one line (exit 2) before anything of it is imported
(`_extras.COMMAND_EXTRAS`). A failure is one line on stderr naming what failed and what to do
(`commands._failures`), exit code 2 for a usage or configuration mistake and 1 at runtime; `--debug` adds
the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
import traceback
from typing import Iterator, Optional, Sequence

from ._extras import command_needs
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

DESCRIPTION = """\
Watch Amazon Kinesis Video Streams live video as decoded frames, milliseconds behind the camera.
New here? `kvs-parser demo` runs the whole pipeline on a local emulator, with nothing to configure.
`kvs-parser COMMAND --help` explains each command."""

DEBUG_HELP = "on failure, print the traceback too"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default after its help, unless there is none to show or the help says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        nothing = default is None or default is False or default == [] or default is argparse.SUPPRESS
        shown = not nothing and not isinstance(action, argparse._VersionAction)
        if shown and "default" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def build_parser(argv: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The parser for `argv`: the command it names is registered by its module, the others by name only."""
    parser = argparse.ArgumentParser(prog="kvs-parser", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = chosen_command(argv)
    for name, summary in COMMANDS.items():
        if name == chosen:
            importlib.import_module(f"kvs_parser.commands.{name}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    for command in subparsers.choices.values():
        command.formatter_class = HelpFormatter
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser


def chosen_command(argv: Optional[Sequence[str]] = None) -> Optional[str]:
    """The command `argv` names (its first word that is not an option), if any."""
    args = sys.argv[1:] if argv is None else list(argv)
    return next((arg for arg in args if not arg.startswith("-")), None)


@contextlib.contextmanager
def _log_to_stderr() -> Iterator[None]:
    """The package's log lines (what a stream waits for, a camera's failure) on stderr, one line each,
    for the command's duration (the logger's settings are restored after it)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("kvs-parser: %(message)s"))
    package = logging.getLogger("kvs_parser")
    saved = package.level, package.propagate
    package.addHandler(handler)
    if package.level == logging.NOTSET:
        package.setLevel(logging.INFO)
    package.propagate = False  # a host application's root handlers would print each line twice
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(saved[0])
        package.propagate = saved[1]


def main(argv: Optional[Sequence[str]] = None) -> int:
    chosen = chosen_command(argv)
    needs = command_needs(chosen) if chosen in COMMANDS else None
    if needs is None:
        try:
            parser = build_parser(argv)
        except ImportError as error:  # a dependency COMMAND_EXTRAS does not list: still one line
            needs = str(error)
    if needs is not None:
        print(f"kvs-parser {chosen}: {needs}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        with _log_to_stderr():
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:
        from .commands._failures import describe  # only on failure: keeps `--help` light

        if args.debug:
            traceback.print_exc()
        message, code = describe(error)
        print(f"kvs-parser {args.command}: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
