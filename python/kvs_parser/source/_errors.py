"""What a frame source raises besides the typed GetMedia errors it passes on."""

from __future__ import annotations

from ..errors import KVSError


class SourceError(KVSError):
    """Base of the frame sources' own errors."""


class FrameTimeout(SourceError, TimeoutError):
    """read() waited its timeout and no frame came."""


class SourceEnded(SourceError, EOFError):
    """The source was stopped, or its stream ended, and every queued frame has been read."""


class SourceNotStarted(SourceError, RuntimeError):
    """read() before start()."""
