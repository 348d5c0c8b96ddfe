"""Exponential backoff with jitter and a bound on consecutive attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: Optional[int] = 8  # consecutive reconnects without progress; None: no bound
    base_delay: float = 0.05  # seconds before the first retry (doubling after each failed one)
    max_delay: float = 5.0
    jitter: float = 0.5  # fraction of each delay drawn at random, so clients do not retry in step


@dataclass
class Backoff:
    """Consecutive failures of one stream; `reset` after progress."""

    policy: RetryPolicy
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self) -> Optional[float]:
        """Seconds to wait before the next attempt, or None when the attempts are used up."""
        policy = self.policy
        if policy.max_attempts is not None and self.failures >= policy.max_attempts:
            return None
        growth: int = 2**self.failures  # int ** int is typed Any (a negative exponent gives a float)
        delay = min(policy.max_delay, policy.base_delay * growth)
        self.failures += 1
        return delay * (1 - policy.jitter) + delay * policy.jitter * self.rng.random()

    def reset(self) -> None:
        self.failures = 0
