"""Counters of a GetMedia stream: updated by its reading thread, read as a consistent snapshot."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Optional


@dataclass(frozen=True)
class GetMediaCounters:
    bytes: int = 0  # response-body bytes read, over all connections
    fragments: int = 0  # distinct complete fragments
    frames: int = 0  # frames delivered (each once)
    resets: int = 0  # resumes after an end, a cut connection, an error fragment or a throttle
    parse_errors: int = 0  # malformed input reported by the parser (cut connections excluded)
    throttles: int = 0  # ClientLimitExceeded / ConnectionLimitExceeded answers
    connections: int = 0  # GetMedia calls that returned a body
    error_fragments: int = 0  # fragments carrying AWS_KINESISVIDEO_ERROR_CODE
    duplicates_skipped: int = 0  # frames a resume re-sent and that were not delivered again
    renewals: int = 0  # sessions renewed before the service's session lifetime ended them
    millis_behind_now: Optional[int] = None  # from the newest fragment's MILLIS_BEHIND_NOW tag


@dataclass
class CounterBox:
    """The live counters behind a lock; `add` and `set` from the reader, `snapshot` from anyone."""

    _value: GetMediaCounters = field(default_factory=GetMediaCounters)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **deltas: int) -> None:
        with self._lock:
            value = self._value
            self._value = replace(value, **{k: getattr(value, k) + d for k, d in deltas.items()})

    def set(self, **values: object) -> None:
        with self._lock:
            self._value = replace(self._value, **values)

    def snapshot(self) -> GetMediaCounters:
        with self._lock:
            return self._value
