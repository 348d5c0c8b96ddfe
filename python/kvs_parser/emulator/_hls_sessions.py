"""HLS streaming sessions: what GetHLSStreamingSessionURL made, by SessionToken, and the segments remuxed
for them (kept apart from the handlers in _hls, so the service state can hold them)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Tuple

from ._errors import AwsError
from ._store import Fragment


@dataclass
class HlsSession:
    stream: str
    mode: str  # LIVE, LIVE_REPLAY, ON_DEMAND
    container: str  # FRAGMENTED_MP4 or MPEG_TS
    selector: Dict[str, Any]
    max_results: int
    display_timestamps: bool = False  # DisplayFragmentTimestamp=ALWAYS: EXT-X-PROGRAM-DATE-TIME per segment

    @property
    def producer_time(self) -> bool:
        """PRODUCER_TIMESTAMP selects, dates and (in fMP4, as KVS does) timestamps by producer time."""
        return self.selector.get("FragmentSelectorType") == "PRODUCER_TIMESTAMP"

    def fragment_time_ms(self, fragment: Fragment) -> int:
        return fragment.producer_ms if self.producer_time else fragment.server_ms


@dataclass
class HlsSessions:
    sessions: Dict[str, HlsSession] = field(default_factory=dict)
    segments: Dict[Tuple[str, int, str, int], Any] = field(default_factory=dict)  # remuxed once, served often
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, session: HlsSession) -> str:
        token = uuid.uuid4().hex
        with self.lock:
            self.sessions[token] = session
        return token

    def get(self, token: str) -> HlsSession:
        with self.lock:
            session = self.sessions.get(token)
        if session is None:
            raise AwsError("ResourceNotFoundException", "unknown or expired SessionToken", 404)
        return session
