"""The header phase of a request, bounded and checked: read_timeout bounds the whole wait for the response
headers, and a header block cut before its blank line is a cut connection, not a response.

urllib3 applies read_timeout to each socket read, so a server sending one header line every 2 s holds a
`read_timeout=5` request for as long as it likes; and http.client takes the end of the connection inside
the headers for their end, which makes a cut response look like a complete one with an empty body (a
clean end of a GetMedia stream). `HeaderDeadline` cuts the socket when the headers have not all come
within read_timeout (the request then fails with urllib3's ReadTimeoutError, counted and retried as a
timeout); `complete_headers_connection` gives a connection class whose responses raise
`TruncatedHeadersError` (a connection error, retried as a cut) for a header block cut short.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from typing import Any, Optional


class TruncatedHeadersError(http.client.HTTPException):
    """The connection ended inside the response's header block, before the blank line that ends it."""


class _LineWatch:
    """A response's file, noting the last line read (b"": the connection ended)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last_line: Optional[bytes] = None

    def readline(self, *args: Any) -> bytes:
        line: bytes = self.inner.readline(*args)
        self.last_line = line
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CompleteHeadersResponse(http.client.HTTPResponse):
    """http.client's response, raising TruncatedHeadersError where the header block ends with the
    connection instead of a blank line (http.client reads both as the end of the headers)."""

    def begin(self) -> None:
        watch = _LineWatch(self.fp)
        self.fp = watch  # type: ignore[assignment]  # only while the status line and headers are read
        try:
            super().begin()
        finally:
            self.fp = watch.inner
        if watch.last_line == b"":
            raise TruncatedHeadersError("the connection ended inside the response headers")


def complete_headers_connection(base: Any) -> Any:
    """`base` (a urllib3/botocore connection class) whose responses check their header block."""
    if getattr(base, "response_class", None) is not http.client.HTTPResponse:  # another's class: leave it
        return base

    class CompleteHeadersConnection(base):  # type: ignore[misc]
        response_class = CompleteHeadersResponse

    CompleteHeadersConnection.__name__ = base.__name__
    return CompleteHeadersConnection


class HeaderDeadline:
    """Shuts a connection's socket down if the request is still waiting for its headers after `seconds`
    (a timer thread for the request's duration). Use as a context manager around the request; `expired`
    says whether it fired (the request's error is then a timeout, whatever form it took)."""

    def __init__(self, conn: Any, seconds: Optional[float]) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._done = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire) if seconds and seconds > 0 else None
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.name = "kvs-header-deadline"

    def __enter__(self) -> HeaderDeadline:
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._done = True
        if self._timer is not None:
            self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
        sock = getattr(self._conn, "sock", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
