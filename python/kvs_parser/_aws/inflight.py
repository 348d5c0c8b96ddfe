"""Requests in flight per thread, so another thread can cut one that waits for its response headers.

botocore gives no handle on the connection of a call in progress: a server that accepted the
connection and never answers would hold the caller until read_timeout. The clients' urllib3 pools are
swapped for subclasses that note the connection each thread is using, and `abort(thread)` shuts its
socket down (the call then fails at once with a connection error). The same pools bound the header
phase by read_timeout and check the header block (`header_phase`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any, Dict, Optional, Sequence

from urllib3.exceptions import ReadTimeoutError

from .header_phase import HeaderDeadline, complete_headers_connection


class InFlightRequests:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_thread: Dict[int, Any] = {}  # thread ident -> urllib3 connection in use
        self._pools: Dict[type, type] = {}

    def install(self, client: Any) -> Any:
        """Tracks every request of a boto3 client (call before its first request); returns the client."""
        http_session = getattr(getattr(client, "_endpoint", None), "http_session", None)
        classes = getattr(http_session, "_pool_classes_by_scheme", None)
        if isinstance(classes, dict):  # shared with its pool managers: pools made from now on are ours
            for scheme, pool in list(classes.items()):
                classes[scheme] = self._tracking(pool)
        return client

    def _tracking(self, base: type) -> type:
        with self._lock:
            if base in self._pools or getattr(base, "_tracked_by", None) is self:
                return self._pools.get(base, base)
        registry = self

        class TrackingPool(base):  # type: ignore[misc]
            _tracked_by = registry
            ConnectionCls = complete_headers_connection(getattr(base, "ConnectionCls", None))

            def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
                registry._enter(conn)
                seconds = _read_timeout(self, kwargs.get("timeout"))
                deadline = HeaderDeadline(conn, seconds)
                try:
                    with deadline:
                        response = super()._make_request(conn, *args, **kwargs)
                except BaseException as error:
                    if deadline.expired:
                        raise _header_timeout(self, args, seconds) from error
                    raise
                finally:
                    registry._leave()
                if deadline.expired:  # it fired as the headers came in: the socket is already shut
                    response.close()
                    raise _header_timeout(self, args, seconds)
                return response

        with self._lock:
            return self._pools.setdefault(base, TrackingPool)

    def _enter(self, conn: Any) -> None:
        with self._lock:
            self._by_thread[threading.get_ident()] = conn

    def _leave(self) -> None:
        with self._lock:
            self._by_thread.pop(threading.get_ident(), None)

    def abort(self, thread_id: int) -> bool:
        """Cuts the request `thread_id` is waiting on, if any; True if there was one with a socket."""
        with self._lock:
            conn = self._by_thread.get(thread_id)
        sock = getattr(conn, "sock", None)
        if not isinstance(sock, socket.socket):
            return False
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        return True


def _read_timeout(pool: Any, timeout: Any) -> Optional[float]:
    """The read timeout in seconds a request of `pool` runs under (its own `timeout` or the pool's)."""
    try:
        seconds = pool._get_timeout(timeout if timeout is not None else pool.timeout).read_timeout
    except (AttributeError, TypeError, ValueError):
        return None
    return float(seconds) if isinstance(seconds, (int, float)) and seconds > 0 else None


def _header_timeout(pool: Any, args: Sequence[Any], seconds: Optional[float]) -> ReadTimeoutError:
    url = str(args[1]) if len(args) > 1 else ""
    return ReadTimeoutError(pool, url, f"no complete response headers within read_timeout ({seconds} s)")
