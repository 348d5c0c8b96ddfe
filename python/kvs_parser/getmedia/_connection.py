"""One GetMedia response: its bytes fed to a fresh parser as they arrive, new frames handed out in order.

Each response starts with an EBML header, so every connection gets its own parser; what a cut
connection left half-parsed is dropped with it and re-sent (then skipped where delivered) on resume.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Iterator, Optional

from .._aws.errors import CONNECTION_ERRORS, TIMEOUTS
from .._kvsparser import KVSStreamParser, ParserLimits, TrackInfo
from ..errors import TruncatedStreamError
from . import _body as body_io
from ._counters import CounterBox
from ._resume import MILLIS_BEHIND_NOW_TAG, ResumeState
from ._silence import SilenceBound

END, CUT, ERROR_FRAGMENT, STOPPED, RENEW = "end", "cut", "error fragment", "stopped", "renew"
SILENT = "silent"  # no byte within the silence bound: a half-open connection (or a paused producer)
ENDED_MID_FRAGMENT = "ended mid-fragment"  # a clean end before the fragment's continuation token


@dataclass(frozen=True)
class TracksUpdate:
    """A fragment's Tracks, handed out before its frames (decoders need CodecPrivate first)."""

    tracks: list[TrackInfo]


@dataclass
class Connection:
    body: Any  # botocore StreamingBody of a GetMedia response
    state: ResumeState
    counters: CounterBox
    read_size: int = 64 * 1024
    limits: Optional[ParserLimits] = None
    outcome: str = END
    error: Optional[BaseException] = None  # what cut the connection, or the error fragment
    delivered: int = 0  # new frames and fragments handed out
    renew_at: Optional[float] = None  # time.monotonic() after which to end at the next fragment boundary
    silence: Optional[SilenceBound] = None  # bounds each read of the body (None: the client's read_timeout)
    _at_boundary: bool = False  # a fragment's CONTINUATION_TOKEN was the last thing parsed
    _ready: Deque[Any] = field(default_factory=deque)
    _closing: bool = False

    def events(self, stopping: Callable[[], bool]) -> Iterator[Any]:
        """New frames, and the metadata of each newly complete fragment, in stream order."""
        self.state.new_connection()
        parser = KVSStreamParser(on_frame=self._frame, on_fragment_end=self._fragment_end, on_tags=self._tags,
                                 on_tracks=self._tracks, on_error=self._parse_error, limits=self.limits)
        read = body_io.reader(self.body)
        if self.silence is not None:
            body_io.set_timeout(self.body, self.silence.seconds())
        try:
            while self.outcome == END:
                if stopping():
                    self.outcome = STOPPED
                    break
                try:
                    chunk = read(self.read_size)
                except CONNECTION_ERRORS as error:
                    cut = SILENT if _is_timeout(error) else CUT
                    self.outcome, self.error = (STOPPED if stopping() else cut), error
                    break
                if not chunk:
                    if self.state.inside_fragment():
                        self.outcome = ENDED_MID_FRAGMENT  # the rest of the fragment is owed: resume
                    break
                self.counters.add(bytes=len(chunk))
                self._at_boundary = False
                parser.parse(chunk)
                yield from self._drain()
                if self._at_boundary and self.renew_at is not None and time.monotonic() >= self.renew_at:
                    self.outcome = RENEW  # resumes from the token just read: nothing lost, nothing repeated
            # End of input: the last fragment (unknown-size Segment) ends here; a cut one reports the
            # truncation, which is the connection's fault, not the stream's.
            self._closing = True
            parser.close()
            yield from self._drain()
        finally:
            body_io.close(self.body)

    def _drain(self) -> Iterator[Any]:
        while self._ready:
            item = self._ready.popleft()
            if not isinstance(item, TracksUpdate):  # KVS repeats Tracks in every fragment: not progress
                self.delivered += 1
            yield item

    # -- parser callbacks (run inside parse()/close(), on the reading thread) --
    def _frame(self, frame: Any) -> None:
        if self.silence is not None and self.silence.observe(frame):
            body_io.set_timeout(self.body, self.silence.seconds())
        if self.state.admit(frame):
            self._ready.append(frame)
        else:
            self.counters.add(duplicates_skipped=1)

    def _tracks(self, tracks: Any) -> None:
        self._ready.append(TracksUpdate(list(tracks)))

    def _tags(self, tags: Any) -> None:
        for tag in tags:
            if tag.name == MILLIS_BEHIND_NOW_TAG and tag.value.isdigit():
                self.counters.set(millis_behind_now=int(tag.value))
        if self.state.tags(tags) is not None:
            self.counters.add(fragments=1)
            self._at_boundary = True

    def _fragment_end(self, fragment: Any) -> None:
        if fragment.is_error:
            self.counters.add(error_fragments=1)
            self.outcome = ERROR_FRAGMENT
            self.error = ErrorFragment(fragment.error_code, fragment.error_id)
            return
        number = fragment.fragment_number
        if not fragment.complete or number is None or self.state.before_floor(fragment.server_timestamp_ms):
            return
        if self._closing and not fragment.continuation_token:
            # The response ended inside this fragment (e.g. the session lifetime ran out mid-fragment): close()
            # ends its unknown-size Segment, but only the trailing token proves every frame was sent.
            return
        if self.state.complete(number, fragment.continuation_token):
            self.counters.add(fragments=1)
        if self.state.first_end(number):
            self._ready.append(fragment)

    def _parse_error(self, error: Exception) -> None:
        if not (self._closing and isinstance(error, TruncatedStreamError)):
            self.counters.add(parse_errors=1)


def _is_timeout(error: BaseException) -> bool:
    seen = 0
    while error is not None and seen < 8:  # urllib3 and botocore wrap the socket's timeout
        if isinstance(error, TIMEOUTS):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1  # type: ignore[assignment]
    return False


class ErrorFragment(Exception):
    """GetMedia ended its response with an error fragment (AWS_KINESISVIDEO_ERROR_CODE / ERROR_ID)."""

    def __init__(self, code: Optional[int], error_id: Optional[Any]) -> None:
        super().__init__(f"error fragment: code {code}, id {error_id}")
        self.code = code
        self.error_id = error_id
