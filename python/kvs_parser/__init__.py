"""kvs_parser: Amazon Kinesis Video Streams GetMedia to frames, on a native streaming Matroska core."""

from ._kvsparser import (
    BlockHeader,
    ContentEncoding,
    FragmentMetadata,
    FragmentStart,
    KVSStreamParser,
    ParsedFrame,
    ParserLimits,
    Tag,
    TrackInfo,
)
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
    "BlockHeader",
    "ContentEncoding",
    "FragmentMetadata",
    "FragmentStart",
    "KVSError",
    "KVSStreamParser",
    "LimitExceededError",
    "NonRetryableError",
    "ParseError",
    "ParsedFrame",
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
