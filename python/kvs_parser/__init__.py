"""kvs_parser: Amazon Kinesis Video Streams GetMedia to frames, on a native streaming Matroska core."""

from ._version import __version__

__all__ = ["__version__"]
