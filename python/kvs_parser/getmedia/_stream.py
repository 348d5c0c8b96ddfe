"""GetMediaStream: one stream's frames, exactly once and in order, across resumes, throttling and stop().

The work happens in the thread that iterates `frames()` (or in the thread `start()` makes): reading a
response blocks in the socket with the GIL released, and `stop()` wakes it by shutting the socket down.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional

from .._aws.backoff import Backoff, RetryPolicy
from .._aws.endpoint import EndpointResolver
from .._aws.errors import CONNECTION_ERRORS, RetriesExhaustedError, fatal_error, is_throttle
from .._kvsparser import FragmentMetadata, ParsedFrame, ParserLimits
from . import _body as body_io
from ._connection import END, RENEW, STOPPED, Connection, TracksUpdate
from ._counters import CounterBox, GetMediaCounters
from ._resume import ResumeState
from ._selector import StartSelector


@dataclass(frozen=True)
class Reset:
    """Why a stream reconnects, and how: passed to `on_reset` before the wait."""

    reason: str  # "end", "cut", "error fragment", "throttled", "connect failed", "renew"
    error: Optional[BaseException]
    attempt: int  # consecutive attempts without progress, this one included
    delay: float  # seconds until the reconnect
    selector: StartSelector  # where it resumes


class GetMediaStream:
    def __init__(
        self,
        resolver: EndpointResolver,
        ref: Dict[str, str],
        start: StartSelector,
        *,
        on_frame: Optional[Callable[[ParsedFrame], Any]] = None,
        on_fragment: Optional[Callable[[FragmentMetadata], Any]] = None,
        on_reset: Optional[Callable[[Reset], Any]] = None,
        on_tracks: Optional[Callable[[list], Any]] = None,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing it is safe
        follow: bool = True,
        read_size: int = 64 * 1024,
        limits: Optional[ParserLimits] = None,
        seed: Optional[int] = None,
        session_lifetime: Optional[float] = 45 * 60.0,
        renew_before: float = 60.0,
        keep_polling: bool = True,
    ) -> None:
        """`follow`: keep resuming after the service ends a response (a live stream); False ends the
        iteration at the first clean end (an archived range). Cuts and throttles are retried either way.
        `session_lifetime`/`renew_before`: GetMedia sessions end after about 45 minutes; a connection older
        than lifetime - renew_before is ended at the next fragment boundary and reopened from its
        continuation token with a freshly resolved data endpoint (None: never renew early).
        `keep_polling` (default): while following, poll a stream with no new data for ever (backoff capped
        at retry.max_delay), as a live camera that pauses needs; False ends after retry.max_attempts
        empty responses."""
        self._resolver, self._ref, self._start = resolver, ref, start
        self.on_frame, self.on_fragment, self.on_reset = on_frame, on_fragment, on_reset
        self.on_tracks = on_tracks  # each fragment's TrackInfo list, before its frames
        self._follow, self._read_size, self._limits = follow, read_size, limits
        if session_lifetime is not None and not 0 <= renew_before < session_lifetime:
            raise ValueError("renew_before must be >= 0 and below session_lifetime")
        self._renew_after = None if session_lifetime is None else session_lifetime - renew_before
        self._keep_polling = keep_polling
        self._backoff = Backoff(retry, random.Random(seed))
        self.state = ResumeState()
        self._counters = CounterBox()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._body: Any = None  # the response being read, for stop()
        self._busy = False
        self._thread: Optional[threading.Thread] = None
        self.error: Optional[BaseException] = None  # what ended a start()ed stream, if it failed

    # -- the two APIs --
    def frames(self) -> Iterator[ParsedFrame]:
        """Frames as they arrive; ends after stop() or (follow=False) at the end of the data. on_fragment
        on_reset and on_tracks are still called. Raises the typed fatal errors and RetriesExhaustedError."""
        with self._lock:
            if self._busy:
                raise RuntimeError("this stream is already being read")
            self._busy = True
        try:
            for item in self._events():
                if isinstance(item, ParsedFrame):
                    self._counters.add(frames=1)
                    yield item
                elif isinstance(item, TracksUpdate):
                    if self.on_tracks is not None:
                        self.on_tracks(item.tracks)
                elif self.on_fragment is not None:
                    self.on_fragment(item)
        finally:
            with self._lock:
                self._busy = False

    def run(self) -> None:
        """Calls on_frame for every frame until stop() or the end; raises what frames() raises."""
        for frame in self.frames():
            if self.on_frame is not None:
                self.on_frame(frame)

    def start(self) -> GetMediaStream:
        """run() in a background thread; stop() ends and joins it, `error` tells how it failed."""
        self._thread = threading.Thread(target=self._run_captured, name="kvs-getmedia", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: Optional[float] = 5.0) -> None:
        """Ends reading from any thread: the blocked read wakes, the connection closes, the thread ends."""
        with self._lock:
            self._stop.set()
            body = self._body
        if body is not None:
            body_io.interrupt(body)
        self.join(timeout)

    def join(self, timeout: Optional[float] = None) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def counters(self) -> GetMediaCounters:
        return self._counters.snapshot()

    def __enter__(self) -> GetMediaStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the loop --
    def _run_captured(self) -> None:
        try:
            self.run()
        except BaseException as error:  # kept for the owner; a thread has nobody to raise to
            self.error = error

    def _events(self) -> Iterator[Any]:
        selector = self._start
        while not self._stop.is_set():
            reason, error = "connect failed", None
            try:
                body = self._resolver.media(self._ref).get_media(StartSelector=selector.to_api(), **self._ref)
            except Exception as failure:
                fatal = fatal_error(failure)
                if fatal is not None:
                    raise fatal from failure
                if not is_throttle(failure) and not isinstance(failure, CONNECTION_ERRORS):
                    raise
                reason, error = ("throttled" if is_throttle(failure) else reason), failure
                self._counters.add(throttles=int(reason == "throttled"))
            else:
                connection = yield from self._read(body["Payload"])
                if connection.outcome == STOPPED:
                    return
                if connection.outcome == END and not self._follow:
                    return
                if connection.delivered:
                    self._backoff.reset()
                if connection.outcome == RENEW:
                    self._renew()
                    selector = self.state.selector(self._start)
                    continue
                reason, error = connection.outcome, connection.error
            selector = self.state.selector(self._start)
            if not self._wait_before_retry(reason, error, selector):
                return

    def _renew(self) -> None:
        """A session renewed at a fragment boundary: count it, report it, and resolve the endpoint anew."""
        self._counters.add(renewals=1)
        self._resolver.forget(self._ref)
        if self.on_reset is not None:
            self.on_reset(Reset(RENEW, None, 0, 0.0, self.state.selector(self._start)))

    def _read(self, body: Any) -> Iterator[Any]:
        connection = Connection(body, self.state, self._counters, self._read_size, self._limits)
        if self._renew_after is not None:
            connection.renew_at = time.monotonic() + self._renew_after
        with self._lock:
            self._body = body
            stopping = self._stop.is_set()
        self._counters.add(connections=1)
        try:
            if stopping:
                connection.outcome = STOPPED
                body_io.close(body)
            else:
                yield from connection.events(self._stop.is_set)
        finally:
            with self._lock:
                self._body = None
        self._counters.set(duplicates_skipped=self.state.skipped)
        return connection

    def _wait_before_retry(self, reason: str, error: Optional[BaseException], selector: StartSelector) -> bool:
        """Counts and reports the reset, then waits; False to end quietly (stopped, or a stream that
        keeps ending with nothing new). Raises when failures used up the attempts."""
        delay = self._backoff.next_delay()
        if delay is None and reason == END and self._follow and self._keep_polling:
            delay = self._backoff.policy.max_delay  # the live edge: poll on, at the slowest pace
        if delay is None:
            if reason == END:
                return False
            raise RetriesExhaustedError(
                f"GetMedia gave up after {self._backoff.failures} attempts without progress ({reason})",
            ) from error
        self._counters.add(resets=1)
        if self.on_reset is not None:
            self.on_reset(Reset(reason, error, self._backoff.failures, delay, selector))
        return not self._stop.wait(delay)
