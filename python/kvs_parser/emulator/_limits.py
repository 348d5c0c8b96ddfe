"""GetMedia's per-stream limits: concurrent connections and calls per second, plus session lifetime."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, Optional, Tuple

from ._errors import AwsError


@dataclass(frozen=True)
class Limits:
    getmedia_connections_per_stream: int = 3
    getmedia_tps_per_stream: float = 5.0
    session_lifetime: float = 45 * 60.0  # seconds after which a GetMedia response ends
    getdataendpoint_tps_per_stream: Optional[float] = None  # None: GetDataEndpoint is not limited
    getmedia_idle_end: Optional[float] = None  # end a GetMedia response after this long with no new fragment


@dataclass
class LimitTracker:
    limits: Limits
    _open: Dict[str, int] = field(default_factory=dict)
    _calls: Dict[Tuple[str, str], Deque[float]] = field(default_factory=dict)
    rejected: Dict[Tuple[str, str], int] = field(default_factory=dict)  # (operation, stream) -> throttles
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _admit_rate(self, operation: str, stream: str, rate: Optional[float]) -> None:
        """Counts a call in its rolling second or raises the throttle; call with the lock held."""
        if rate is None:
            return
        now = time.monotonic()
        calls = self._calls.setdefault((operation, stream), deque())
        while calls and now - calls[0] >= 1.0:
            calls.popleft()
        if len(calls) >= rate:
            key = (operation, stream)
            self.rejected[key] = self.rejected.get(key, 0) + 1
            raise AwsError("ClientLimitExceededException", f"{operation} TPS limit exceeded for the stream")
        calls.append(now)

    def admit_endpoint_call(self, stream: str) -> None:
        """Admits a GetDataEndpoint call or raises the throttle."""
        with self._lock:
            self._admit_rate("GetDataEndpoint", stream, self.limits.getdataendpoint_tps_per_stream)

    def throttled(self, operation: str, stream: str) -> int:
        with self._lock:
            return self.rejected.get((operation, stream), 0)

    def acquire(self, stream: str) -> None:
        """Admits a GetMedia call or raises the error KVS answers with; pair with `release`."""
        with self._lock:
            self._admit_rate("GetMedia", stream, self.limits.getmedia_tps_per_stream)
            if self._open.get(stream, 0) >= self.limits.getmedia_connections_per_stream:
                raise AwsError("ConnectionLimitExceededException", "too many GetMedia connections")
            self._open[stream] = self._open.get(stream, 0) + 1

    def release(self, stream: str) -> None:
        with self._lock:
            self._open[stream] = max(0, self._open.get(stream, 0) - 1)

    def open_connections(self, stream: str) -> int:
        with self._lock:
            return self._open.get(stream, 0)
