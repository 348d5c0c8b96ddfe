"""Options several commands share, spelled and explained the same way everywhere."""

from __future__ import annotations

import argparse

from ..getmedia import StartSelector

START_HELP = ("where to start reading: now | earliest | fragment:NUMBER | producer:TIME | server:TIME "
              "(TIME: epoch seconds or ISO 8601, UTC when no zone is given)")


def start_selector(text: str) -> StartSelector:
    """argparse type for --start: a usage error (exit 2) with the accepted spellings."""
    try:
        return StartSelector.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_start_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--start", default=start_selector(default), type=start_selector, metavar="WHERE",
                        help=f"{START_HELP} (default: {default})")


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region of the stream (default: AWS_REGION / AWS_DEFAULT_REGION or "
                                         "the profile's region)")
    parser.add_argument("--endpoint-url", metavar="URL",
                        help="a Kinesis Video Streams endpoint instead of AWS, e.g. the http:// URL `kvs-parser "
                             "emulate` prints; on 127.0.0.1 no credentials are needed (default: AWS)")
