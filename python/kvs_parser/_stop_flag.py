"""StopFlag: a stop request that a signal handler may set.

threading.Event.set() takes the event's lock. Called from a signal handler while the main thread is inside
Event.wait() holding that same lock (between entering `with cond:` and waiting), it waits for itself
forever: a SIGTERM right after `kvs-parser run` printed a status line hung the process. StopFlag.set()
takes no lock: it stores a flag and writes one byte to a socket pair that wait() selects on, so a waiter
wakes at once and a set() just before the select() is not missed.
"""

from __future__ import annotations

import contextlib
import select
import socket
from typing import Optional


class StopFlag:
    """is_set() / set() / wait() as threading.Event, safe to set from a signal handler or any thread.
    Once set it stays set. close() (or `with`) releases its two sockets."""

    def __init__(self) -> None:
        self._requested = False
        # Sockets rather than os.pipe(): select() takes sockets on every platform.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_writer.setblocking(False)

    def set(self) -> None:
        self._requested = True
        # Full buffer: a byte is already there to wake the waiters. Closed: nobody is waiting any more.
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"!")

    def is_set(self) -> bool:
        return self._requested

    def wait(self, timeout: Optional[float] = None) -> bool:
        """True once set; False after `timeout` seconds (None: no limit) without a stop."""
        if not self._requested:
            with contextlib.suppress(OSError, ValueError):  # closed by another thread: report the flag
                select.select([self._wake_reader], [], [], timeout)
        return self._requested

    def close(self) -> None:
        self._wake_reader.close()
        self._wake_writer.close()

    def __enter__(self) -> StopFlag:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
