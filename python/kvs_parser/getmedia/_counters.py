"""Counters of a GetMedia stream: updated by its reading thread, read as a consistent snapshot."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Optional


@dataclass(frozen=True)
class GetMediaCounters:
    bytes: int = 0  # response-body bytes read, over all connections
    fragments: int = 0  # distinct complete fragments
    frames: int = 0  # frames delivered (each once)
    resets: int = 0  # reconnects, for any reason (the per-class counts below add up to at most this)
    parse_errors: int = 0  # malformed input reported by the parser (cut connections excluded)
    throttles: int = 0  # ClientLimitExceeded / ConnectionLimitExceeded / other throttling answers
    server_errors: int = 0  # 5xx answers (InternalFailure, ServiceUnavailable, ...)
    connect_failures: int = 0  # connections refused, reset or timed out before a response
    endpoint_errors: int = 0  # InvalidEndpointException: the stream is served elsewhere now
    cuts: int = 0  # responses cut inside the body
    silences: int = 0  # responses silent past the silence bound (half-open connections)
    early_ends: int = 0  # responses that ended cleanly inside a fragment
    endpoint_resolutions: int = 0  # data endpoints dropped to be resolved again (GetDataEndpoint)
    connections: int = 0  # GetMedia calls that returned a body
    error_fragments: int = 0  # fragments carrying AWS_KINESISVIDEO_ERROR_CODE
    duplicates_skipped: int = 0  # frames a resume re-sent and that were not delivered again
    renewals: int = 0  # sessions renewed before the service's session lifetime ended them
    millis_behind_now: Optional[int] = None  # from the newest fragment's MILLIS_BEHIND_NOW tag


# Reset reason -> the counter of its class.
_COUNTER_OF = {"throttled": "throttles", "server error": "server_errors", "connect failed": "connect_failures",
               "timed out": "connect_failures", "endpoint error": "endpoint_errors", "cut": "cuts",
               "silent": "silences", "ended mid-fragment": "early_ends"}


def count_reset(reason: str) -> Dict[str, int]:
    """The counter increments for one reconnect of this reason (for CounterBox.add)."""
    name = _COUNTER_OF.get(reason)
    return {name: 1} if name else {}


@dataclass
class CounterBox:
    """The live counters behind a lock; `add` and `set` from the reader, `snapshot` from anyone."""

    _value: GetMediaCounters = field(default_factory=GetMediaCounters)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **deltas: int) -> None:
        with self._lock:
            value = self._value
            self._value = replace(value, **{k: getattr(value, k) + d for k, d in deltas.items()})

    def set(self, **values: Any) -> None:  # field names and their values, as dataclasses.replace takes them
        with self._lock:
            self._value = replace(self._value, **values)

    def snapshot(self) -> GetMediaCounters:
        with self._lock:
            return self._value
