"""Client-side pacing of KVS calls, so many readers in one process stay under the per-stream TPS limits.

KVS counts calls per stream and operation over a rolling second (GetMedia: 5 TPS per stream) and answers
the surplus with ClientLimitExceededException. A token bucket with a burst allowance can still put six
calls into one rolling second, so the pacer keeps the same rolling window the service does: a call waits
until fewer than `rate` calls of its (operation, stream) lie in the last `period` (plus a safety margin
for the network). It waits in botocore's before-send hook, so the time it records is the time the request
leaves, not the time some caller meant to make it (a new client's first call spends a while building itself).
One pacer belongs to a GetMediaClient; pass it to other clients to share it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, Optional, Tuple

DEFAULT_RATES = {"GetMedia": 5.0, "GetDataEndpoint": 5.0}


@dataclass
class RequestPacer:
    """Rolling-window limiter per (operation, stream); thread-safe, blocking in `acquire`."""

    rates: Dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))  # calls per period
    period: float = 1.0  # seconds of the service's window
    margin: float = 0.25  # extra seconds: a request may reach the service later than an earlier one
    clock: Callable[[], float] = time.monotonic
    waited: float = 0.0  # total seconds callers spent waiting (for tests and metrics)
    _calls: Dict[Tuple[str, str], Deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def delay(self, operation: str, stream: str) -> float:
        """Seconds until a call may go out now; 0 records the call (the caller must then make it)."""
        rate = self.rates.get(operation)
        if rate is None:
            return 0.0
        now = self.clock()
        window = self.period + self.margin
        with self._lock:
            calls = self._calls.setdefault((operation, stream), deque())
            while calls and now - calls[0] >= window:
                calls.popleft()
            if len(calls) < max(1, int(rate)):
                calls.append(now)
                return 0.0
            return calls[0] + window - now

    def install(self, client: Any) -> Any:
        """Paces every call of a boto3 client (kinesisvideo or kinesis-video-media); returns the client."""
        client.meta.events.register("before-send", self._before_send)
        return client

    def _before_send(self, request: Any, event_name: str = "", **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        if operation in self.rates:
            self.acquire(operation, _stream_key(request.body))

    def acquire(self, operation: str, stream: str, stop: Optional[threading.Event] = None) -> bool:
        """Waits for a slot and takes it; False if `stop` was set while waiting."""
        while True:
            wait = self.delay(operation, stream)
            if wait <= 0:
                return True
            with self._lock:
                self.waited += wait
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                time.sleep(wait)


def _stream_key(body: Any) -> str:
    """StreamName or StreamARN of a KVS rest-json request body ("" when it names none)."""
    try:
        fields = json.loads(body or b"{}")
    except ValueError:
        return ""
    return str(fields.get("StreamName") or fields.get("StreamARN") or "") if isinstance(fields, dict) else ""
