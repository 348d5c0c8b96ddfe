"""Places a fragmented-MP4 media segment on the stream's timeline.

PyAV muxes each fragment alone, so every media segment's `tfdt` (baseMediaDecodeTime) starts at 0 and an
HLS reader that treats the segments as one timeline sees time jump back at each one. Rewriting the 64-bit
`tfdt` in place (same size, so no offsets move) gives each segment its real start.
"""

from __future__ import annotations

from typing import Iterator, Tuple

_CONTAINERS = {b"moov", b"trak", b"mdia", b"moof", b"traf"}


def _walk(data: bytes, start: int, end: int) -> Iterator[Tuple[bytes, int, int]]:
    """(type, offset, size) of every box under [start, end), descending into container boxes."""
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if size < 8 or pos + size > end:
            raise ValueError(f"bad MP4 box {kind!r} at {pos}")
        yield kind, pos, size
        if kind in _CONTAINERS:
            yield from _walk(data, pos + 8, pos + size)
        pos += size


def timescale(init: bytes) -> int:
    """The first track's media timescale (mdhd) from an init segment."""
    for kind, pos, _ in _walk(init, 0, len(init)):
        if kind == b"mdhd":
            version = init[pos + 8]
            at = pos + 12 + (16 if version == 1 else 8)  # after version/flags and the two dates
            return int.from_bytes(init[at : at + 4], "big")
    raise ValueError("no mdhd box in the init segment")


def with_decode_time(init: bytes, media: bytes, start_ms: int) -> bytes:
    """`media` with every tfdt set to `start_ms`, in the init segment's timescale."""
    ticks = start_ms * timescale(init) // 1000
    out = bytearray(media)
    found = False
    for kind, pos, _ in _walk(media, 0, len(media)):
        if kind != b"tfdt":
            continue
        if media[pos + 8] != 1:
            raise ValueError("expected a version 1 (64-bit) tfdt, as FFmpeg writes")
        out[pos + 12 : pos + 20] = ticks.to_bytes(8, "big")
        found = True
    if not found:
        raise ValueError("no tfdt box in the media segment")
    return bytes(out)
