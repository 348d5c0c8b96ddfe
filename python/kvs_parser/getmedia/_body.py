"""Reading a GetMedia response body as its bytes arrive, and cutting it from another thread.

botocore's StreamingBody.read(n) (like urllib3's read(n)) blocks until n bytes have come, so at a low
bitrate a frame would wait for later frames to fill the read. read1 returns whatever has arrived (at
least one byte), still decoding the chunked transfer encoding, so latency does not depend on n.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any, Callable, Optional


def raw_response(body: Any) -> Any:
    """The urllib3 response under a botocore StreamingBody (the body itself if it is not one)."""
    return getattr(body, "_raw_stream", body)


def reader(body: Any) -> Callable[[int], bytes]:
    """A read(n) that returns the bytes available now (blocking only while there are none); b"" at end."""
    raw = raw_response(body)
    if hasattr(raw, "read1"):  # urllib3 >= 2
        return lambda n: raw.read1(n, decode_content=False)
    fp = getattr(raw, "_fp", None)  # urllib3 1.26: the http.client response, whose read1 de-chunks
    if fp is not None and hasattr(fp, "read1"):
        read1: Callable[[int], bytes] = fp.read1
        return read1
    read: Callable[[int], bytes] = getattr(body, "read1", None) or body.read
    return read


def _socket(body: Any) -> Optional[socket.socket]:
    raw = raw_response(body)
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    with contextlib.suppress(AttributeError):  # http.client response -> BufferedReader -> SocketIO
        sock = raw._fp.fp.raw._sock
        if isinstance(sock, socket.socket):
            return sock
    return None


def interrupt(body: Any) -> None:
    """Wakes a read blocked on `body` in another thread (it then ends or raises). Does not close it."""
    sock = _socket(body)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def set_timeout(body: Any, seconds: float) -> None:
    """Bounds each later read of `body` (a read that waits longer raises a timeout)."""
    sock = _socket(body)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(seconds)


def close(body: Any) -> None:
    """Closes the response and its connection (a half-read body cannot go back to the pool)."""
    with contextlib.suppress(Exception):
        body.close()
