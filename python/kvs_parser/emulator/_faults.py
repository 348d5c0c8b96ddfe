"""Fault injection: which call gets which fault, and the byte-level effects on a streamed body."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass(frozen=True)
class Fault:
    """What goes wrong with one call. Byte offsets count response-body bytes (chunk framing excluded)."""

    error: Optional[str] = None  # answer with this AWS error code, e.g. "ClientLimitExceededException"
    status: Optional[int] = None  # ...and this HTTP status (default: the code's own, 500 for InternalFailure)
    hang_seconds: float = 0.0  # accept the request, send nothing for this long, then drop the connection
    close_after_bytes: Optional[int] = None  # drop the connection after this many body bytes
    close_in_frame: Optional[int] = None  # drop it halfway through the n-th frame (0-based) of the response
    stall_after_bytes: Optional[int] = None  # pause once after this many bytes...
    stall_seconds: float = 0.0  # ...for this long
    trickle_bytes: Optional[int] = None  # write at most this many bytes per chunk...
    trickle_interval: float = 0.0  # ...sleeping this long between chunks
    corrupt_at_bytes: Optional[int] = None  # invert this body byte
    error_fragment_after: Optional[int] = None  # after this many fragments send an error fragment, then end
    error_fragment_code: int = 4000
    end_after_fragments: Optional[int] = None  # end the response cleanly after this many fragments
    end_in_frame: Optional[int] = None  # end the response cleanly just before the n-th frame (0-based)
    extra_tags: int = 0  # user SimpleTags added before each fragment's trailing AWS tags (one Tags element)
    non_utf8_tags: bool = False  # add a user tag whose name, and one whose value, is not valid UTF-8
    corrupt_tag: Optional[str] = None  # one byte of this tag's value (in every fragment) made 0xFF
    # Header-phase faults of a streamed response (GetMedia): the header lines (status line included) sent
    # this far apart, with this many filler lines added; or the connection dropped after this many lines.
    header_line_interval: float = 0.0
    header_filler_lines: int = 0
    cut_headers_after_lines: Optional[int] = None

    @property
    def spoils_headers(self) -> bool:
        return bool(self.header_line_interval or self.header_filler_lines) or self.cut_headers_after_lines is not None


@dataclass
class FaultRule:
    fault: Fault
    operation: str  # "GetMedia", "GetMediaForFragmentList", "ListFragments", "GetDataEndpoint", ...
    stream: Optional[str]  # None: any stream
    on_call: Optional[int]  # 1-based call number of (operation, stream); None: the next calls
    times: Optional[int]  # how many calls it applies to; None: all of them
    used: int = 0


@dataclass
class FaultPlan:
    """Rules plus per-(operation, stream) call counters; thread-safe. `fired` records when each fault
    took effect (time.perf_counter(), what), for measuring recovery."""

    rules: List[FaultRule] = field(default_factory=list)
    calls: Dict[Tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    fired: List[Tuple[float, str]] = field(default_factory=list)

    def note(self, what: str) -> None:
        with self.lock:
            self.fired.append((time.perf_counter(), what))
            del self.fired[:-10_000]  # bounded

    def add(self, rule: FaultRule) -> FaultRule:
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def on_call(self, operation: str, stream: str) -> Optional[Fault]:
        """Counts the call and returns the fault of the first rule it matches (one fault per call)."""
        with self.lock:
            key = (operation, stream)
            number = self.calls.get(key, 0) + 1
            self.calls[key] = number
            for rule in self.rules:
                if rule.operation != operation or rule.stream not in (None, stream):
                    continue
                if rule.times is not None and rule.used >= rule.times:
                    continue
                if rule.on_call is not None and rule.on_call != number:
                    continue
                rule.used += 1
                return rule.fault
        return None

    def call_count(self, operation: str, stream: str) -> int:
        with self.lock:
            return self.calls.get((operation, stream), 0)
