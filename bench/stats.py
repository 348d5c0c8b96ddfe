"""Statistics of the benchmarks' measurements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Dist:
    """A latency distribution in milliseconds."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Dist:
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan)
        array = np.asarray(values, dtype=np.float64)
        p50, p95, p99 = np.percentile(array, [50, 95, 99])
        return cls(len(array), float(p50), float(p95), float(p99), float(array.max()), float(array.mean()))

    def row(self) -> str:
        return f"{self.p50:9.2f} {self.p95:9.2f} {self.p99:9.2f} {self.max:9.2f}"
