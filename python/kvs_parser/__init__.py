"""kvs_parser: Amazon Kinesis Video Streams GetMedia to frames, on a native streaming Matroska core."""

from ._kvsparser import (
    ContentEncoding,
    FragmentMetadata,
    FragmentStart,
    Frame,
    FrameHeader,
    KVSStreamParser,
    ParserLimits,
    Tag,
    TrackInfo,
)
from ._version import __version__
from .errors import (
    KVSError,
    LimitExceededError,
    ParseError,
    ParserClosedError,
    TruncatedStreamError,
)
from .iterators import iter_chunks, iter_fragments, iter_frames

__all__ = [
    "ContentEncoding",
    "FragmentMetadata",
    "FragmentStart",
    "Frame",
    "FrameHeader",
    "KVSError",
    "KVSStreamParser",
    "LimitExceededError",
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
