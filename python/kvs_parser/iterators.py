"""Pull-style access to the parser: iterate frames or fragments of a byte source."""

from __future__ import annotations

from collections import deque
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Optional, Union

from ._kvsparser import FragmentMetadata, KVSStreamParser, ParsedFrame, ParserLimits

ByteSource = Union[bytes, bytearray, memoryview, Iterable[bytes], Any]

DEFAULT_CHUNK_SIZE = 64 * 1024


def iter_chunks(source: ByteSource, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
    """Chunks of `source`: a bytes-like object, a readable (file, socket file, HTTP body) or an iterable
    of bytes. Readables are read with `read1` when they have it, so bytes come out as they arrive instead
    of when `chunk_size` of them have."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield source  # type: ignore[misc]
        return
    read = getattr(source, "read1", None) or getattr(source, "read", None)
    if read is not None:
        while True:
            chunk = read(chunk_size)
            if not chunk:
                return
            yield chunk
    else:
        yield from source


def _iter_events(
    source: ByteSource,
    kind: str,
    chunk_size: int,
    limits: Optional[ParserLimits],
    on_error: Optional[Callable[[Exception], None]],
    tracks: Optional[Iterable[int]] = None,
) -> Iterator[Any]:
    ready: deque[Any] = deque()
    parser = KVSStreamParser(limits=limits, on_error=on_error, tracks=tracks)
    parser.set_callback(kind, ready.append)
    for step in _steps(parser, source, chunk_size):
        failure: Optional[BaseException] = None
        try:
            step()
        except Exception as error:  # what was parsed before the error is still handed out, then it is raised
            failure = error
        while ready:
            yield ready.popleft()
        if failure is not None:
            raise failure


def _steps(parser: KVSStreamParser, source: ByteSource, chunk_size: int) -> Iterator[Callable[[], None]]:
    """parse() for each chunk, then close(): each run by _iter_events between handing out events."""
    for chunk in iter_chunks(source, chunk_size):
        yield partial(parser.parse, chunk)
    yield parser.close


def iter_frames(
    source: ByteSource,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    limits: Optional[ParserLimits] = None,
    on_error: Optional[Callable[[Exception], None]] = None,
    tracks: Optional[Iterable[int]] = None,
) -> Iterator[ParsedFrame]:
    """Yield each frame of `source` as soon as it is complete. Without `on_error`, a parse error is
    raised after the frames parsed before it have been yielded. With `tracks`, only those tracks'
    frames are read; the others are skipped unread."""
    return _iter_events(source, "frame", chunk_size, limits, on_error, tracks)


def iter_fragments(
    source: ByteSource,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    limits: Optional[ParserLimits] = None,
    on_error: Optional[Callable[[Exception], None]] = None,
) -> Iterator[FragmentMetadata]:
    """Yield each fragment's metadata (KVS tags, all tags, tracks, frame count) when the fragment ends."""
    return _iter_events(source, "fragment_end", chunk_size, limits, on_error)
