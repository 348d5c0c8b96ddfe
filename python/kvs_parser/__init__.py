"""kvs_parser: Amazon Kinesis Video Streams GetMedia to frames, on a native streaming Matroska core."""

from ._kvsparser import (
    FragmentMetadata,
    FragmentStart,
    Frame,
    ParserLimits,
    Tag,
    TrackInfo,
)
from ._kvsparser import StreamParser as KVSStreamParser
from ._version import __version__
from .errors import (
    KVSError,
    LimitExceededError,
    NonRetryableError,
    ParseError,
    ParserClosedError,
    TruncatedStreamError,
)
from .iterators import iter_chunks, iter_fragments, iter_frames

__all__ = [
    "FragmentMetadata",
    "FragmentStart",
    "Frame",
    "KVSError",
    "KVSStreamParser",
    "LimitExceededError",
    "NonRetryableError",
    "ParseError",
    "ParserClosedError",
    "ParserLimits",
    "Tag",
    "TrackInfo",
    "TruncatedStreamError",
    "__version__",
    "iter_chunks",
    "iter_fragments",
    "iter_frames",
]
