"""How long a live start takes to reach steady latency ("catch-up"), for the demo's summary.

A NOW start begins at the first frame of the latest fragment, which is already up to one fragment
duration old: the first pictures arrive together, hundreds of milliseconds behind the producer, and the
latency falls to its steady level once that backlog is decoded. The catch-up time is the wall time from
the first decoded picture until the latency first falls below a threshold: ``factor`` x the steady p50
(the median of the later half of the samples), but never below ``floor_ms``.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class CatchUp:
    first_latency_ms: Optional[float]  # the first decoded picture's latency
    steady_p50_ms: Optional[float]  # median latency of the later half of the samples
    threshold_ms: Optional[float]  # max(floor_ms, factor x steady_p50_ms)
    seconds: Optional[float]  # first picture -> first picture below the threshold; None: never (yet)
    frames: Optional[int]  # pictures decoded before that one


@dataclass
class CatchUpRecorder:
    """Keeps the first ``capacity`` (time, latency) samples: catch-up happens at the start, so memory stays
    bounded however long the stream runs."""

    capacity: int = 5000
    floor_ms: float = 100.0
    factor: float = 2.0
    _samples: List[Tuple[float, float]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.capacity < 2:
            raise ValueError(f"capacity must be >= 2, not {self.capacity}")

    def record(self, latency_ms: float, now: Optional[float] = None) -> None:
        if len(self._samples) < self.capacity:
            self._samples.append((time.monotonic() if now is None else now, float(latency_ms)))

    def result(self) -> CatchUp:
        if not self._samples:
            return CatchUp(None, None, None, None, None)
        latencies = [latency for _, latency in self._samples]
        steady = statistics.median(latencies[len(latencies) // 2:])
        threshold = max(self.floor_ms, self.factor * steady)
        started = self._samples[0][0]
        for index, (when, latency) in enumerate(self._samples):
            if latency < threshold:
                return CatchUp(latencies[0], steady, threshold, when - started, index)
        return CatchUp(latencies[0], steady, threshold, None, None)
