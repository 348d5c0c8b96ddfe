"""The service state: what the HTTP server and the request handlers use of an emulator.

Handlers take this small object rather than the Emulator, so that only the Emulator module knows the
Emulator class and no handler module imports back into it (tests/test_emulator_imports.py keeps the
module graph acyclic). The Emulator builds one and hands it to its server; the stream catalogue and the
writer are the Emulator's own methods, so a subclass that overrides them (ResizingEmulator.writer) is
what the handlers get.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set

from ..mkv import FragmentWriter
from ._errors import AwsError
from ._faults import FaultPlan
from ._hls_sessions import HlsSessions
from ._hooks import Hooks
from ._limits import Limits, LimitTracker
from ._store import Stream


@dataclass
class ServiceState:
    """The emulator's shared state and stream catalogue, as the server and each request handler see it."""

    limits: Limits
    limit_tracker: LimitTracker
    faults: FaultPlan
    hls: HlsSessions
    hooks: Hooks
    stopping: threading.Event  # set when the emulator closes: responses end, waits return
    allowed_access_keys: Optional[Set[str]]  # None: any signed request is accepted
    endpoint: Callable[[], str]  # the URL clients reach the emulator at (known once it listens)
    data_endpoint: Callable[[], str]  # what GetDataEndpoint answers (moves with move_data_endpoint)
    # The stream catalogue:
    stream: Callable[[str], Stream]  # by name; ResourceNotFoundException if there is none
    streams: Callable[[], List[Stream]]
    add_empty_stream: Callable[..., Stream]  # (name, media_type=...): CreateStream
    remove_stream: Callable[[str], None]  # DeleteStream
    writer: Callable[[Stream], FragmentWriter]  # how the stream's fragments are written

    @property
    def endpoint_url(self) -> str:
        return self.endpoint()

    @property
    def data_endpoint_url(self) -> str:
        return self.data_endpoint()

    def get_stream(self, body: Dict[str, Any]) -> Stream:
        """The stream a request names by StreamName or StreamARN."""
        name = body.get("StreamName")
        arn = body.get("StreamARN")
        if not name and not arn:
            raise AwsError("InvalidArgumentException", "StreamName or StreamARN is required")
        if name:
            return self.stream(name)
        match = next((s for s in self.streams() if s.arn == arn), None)
        if match is None:
            raise AwsError("ResourceNotFoundException", f"stream {arn} not found")
        return match

    def stream_key(self, body: Dict[str, Any], query: Dict[str, str]) -> str:
        """The stream name fault rules match against ('' when the call names none)."""
        if body.get("StreamName"):
            return str(body["StreamName"])
        if body.get("StreamARN"):
            return str(body["StreamARN"]).split("/")[1] if "/" in str(body["StreamARN"]) else ""
        session = self.hls.sessions.get(query.get("SessionToken", ""))
        return session.stream if session else ""

    def check_authorization(self, header: str, pattern: re.Pattern[str]) -> None:
        if not header.startswith("AWS4-HMAC-SHA256"):
            raise AwsError("NotAuthorizedException", "request is not signed")
        match = pattern.search(header)
        allowed = self.allowed_access_keys
        if allowed is not None and (match is None or match.group(1) not in allowed):
            raise AwsError("NotAuthorizedException", "unknown access key")
