"""In-process recorders behind get_metrics() and status lines: recent latency percentiles and event rates.

Plain Python (no prometheus_client), so frame sources keep them without the ``[app]`` extra.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Optional


@dataclass(frozen=True)
class LatencySummary:
    count: int
    p50: Optional[float]
    p95: Optional[float]
    p99: Optional[float]
    max: Optional[float]


def _percentile(ordered: list[float], fraction: float) -> float:
    # Nearest rank: always a value that was actually observed.
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class LatencyRecorder:
    """The most recent ``capacity`` latency samples (a ring), summarised as percentiles on demand.

    Memory is bounded whatever the uptime; percentiles describe the recent past, which is what a status
    line or ``get_metrics()`` should show. Thread-safe: the reader thread records, anyone summarises.
    """

    capacity: int = 1000
    total: int = field(default=0, init=False)
    _samples: Deque[float] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"capacity must be >= 1, not {self.capacity}")
        self._samples = deque(maxlen=self.capacity)

    def record(self, latency_ms: float) -> None:
        with self._lock:
            self._samples.append(float(latency_ms))
            self.total += 1

    def summary(self) -> LatencySummary:
        with self._lock:
            ordered = sorted(self._samples)
        if not ordered:
            return LatencySummary(0, None, None, None, None)
        return LatencySummary(
            len(ordered),
            _percentile(ordered, 0.50),
            _percentile(ordered, 0.95),
            _percentile(ordered, 0.99),
            ordered[-1],
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._samples)


@dataclass
class RateMeter:
    """Events per second over the last ``window_seconds`` (e.g. delivered fps), bounded like the recorder."""

    window_seconds: float = 5.0
    capacity: int = 10_000
    _times: Deque[float] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.window_seconds <= 0:
            raise ValueError(f"window_seconds must be > 0, not {self.window_seconds}")
        self._times = deque(maxlen=self.capacity)

    def mark(self, now: Optional[float] = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._times.append(now)
            # Marks older than the window are dropped here too, not only when rate() is read: otherwise a
            # meter nobody reads keeps up to `capacity` marks (~0.3 MB, seen growing in bench/soak.py).
            while self._times[0] < now - self.window_seconds:
                self._times.popleft()

    def rate(self, now: Optional[float] = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._times and self._times[0] < now - self.window_seconds:
                self._times.popleft()
            if len(self._times) < 2:
                return 0.0
            # Intervals since the oldest mark, up to now: a stream that started 1 s ago is not
            # under-reported, and one that stalled decays instead of showing its last rate.
            return (len(self._times) - 1) / max(now - self._times[0], 1e-9)
