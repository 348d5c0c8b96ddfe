"""GetMedia's per-stream limits: concurrent connections and calls per second, plus session lifetime."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict

from .errors import AwsError


@dataclass(frozen=True)
class Limits:
    getmedia_connections_per_stream: int = 3
    getmedia_tps_per_stream: float = 5.0
    session_lifetime: float = 45 * 60.0  # seconds after which a GetMedia response ends


@dataclass
class LimitTracker:
    limits: Limits
    _open: Dict[str, int] = field(default_factory=dict)
    _calls: Dict[str, Deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, stream: str) -> None:
        """Admits a GetMedia call or raises the error KVS answers with; pair with `release`."""
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(stream, deque())
            while calls and now - calls[0] >= 1.0:
                calls.popleft()
            if len(calls) >= self.limits.getmedia_tps_per_stream:
                raise AwsError("ClientLimitExceededException", "GetMedia TPS limit exceeded for the stream")
            calls.append(now)
            if self._open.get(stream, 0) >= self.limits.getmedia_connections_per_stream:
                raise AwsError("ConnectionLimitExceededException", "too many GetMedia connections")
            self._open[stream] = self._open.get(stream, 0) + 1

    def release(self, stream: str) -> None:
        with self._lock:
            self._open[stream] = max(0, self._open.get(stream, 0) - 1)

    def open_connections(self, stream: str) -> int:
        with self._lock:
            return self._open.get(stream, 0)
