"""GetMediaStream: one stream's frames, exactly once and in order, across resumes, throttling and stop().

The work happens in the thread that iterates `frames()` (or in the thread `start()` makes): reading a
response blocks in the socket with the GIL released, and `stop()` wakes it by shutting the socket down.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Generator, Iterator, Optional

from .._aws.backoff import Backoff, RetryPolicy
from .._aws.endpoint import EndpointResolver
from .._aws.errors import CONNECT_FAILED, ENDPOINT_ERROR, SERVER_ERROR, TIMED_OUT, RetriesExhaustedError, classify
from .._kvsparser import FragmentMetadata, ParsedFrame, ParserLimits, TrackInfo
from .._redact import scrubbed
from ..errors import NonRetryableError
from . import _body as body_io
from ._connection import END, RENEW, SILENT, STOPPED, Connection, TracksUpdate
from ._counters import CounterBox, GetMediaCounters, count_reset
from ._resume import ResumeState
from ._selector import StartSelector
from ._silence import SilenceBound

# After these the data endpoint may have moved or died: GetDataEndpoint is called again before resuming.
RESOLVE_AGAIN = frozenset({CONNECT_FAILED, TIMED_OUT, SERVER_ERROR, ENDPOINT_ERROR, SILENT})


@dataclass(frozen=True)
class Reset:
    """Why a stream reconnects, and how: passed to `on_reset` before the wait."""

    reason: str  # "end", "cut", "ended mid-fragment", "silent", "error fragment", "renew", or a transient
    # class of errors.classify: "throttled", "server error", "endpoint error", "connect failed", "timed out"
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
        on_tracks: Optional[Callable[[list[TrackInfo]], Any]] = None,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing it is safe
        follow: bool = True,
        read_size: int = 64 * 1024,
        limits: Optional[ParserLimits] = None,
        seed: Optional[int] = None,
        session_lifetime: Optional[float] = 45 * 60.0,
        renew_before: float = 60.0,
        keep_polling: bool = True,
        silence_timeout: Optional[float] = None,
    ) -> None:
        """`follow`: keep resuming after the service ends a response (a live stream); False ends the
        iteration at the first clean end (an archived range). Cuts and throttles are retried either way.
        `session_lifetime`/`renew_before`: GetMedia sessions end after about 45 minutes; a connection older
        than lifetime - renew_before is ended at the next fragment boundary and reopened from its
        continuation token with a freshly resolved data endpoint (None: never renew early).
        `keep_polling` (default): while following, poll a stream with no new data for ever (backoff capped
        at retry.max_delay), as a live camera that pauses needs; False ends after retry.max_attempts
        empty responses (or silent connections).
        `silence_timeout`: seconds without a byte after which a connection counts as half-open and is
        resumed; None (default): 3 fragment durations as observed, within [2 s, the client's read_timeout]."""
        self._resolver, self._ref, self._start = resolver, ref, start
        self.on_frame, self.on_fragment, self.on_reset = on_frame, on_fragment, on_reset
        self.on_tracks = on_tracks  # each fragment's TrackInfo list, before its frames
        self._follow, self._read_size, self._limits = follow, read_size, limits
        if session_lifetime is not None and not 0 <= renew_before < session_lifetime:
            raise ValueError("renew_before must be >= 0 and below session_lifetime")
        self._renew_after = None if session_lifetime is None else session_lifetime - renew_before
        self._keep_polling = keep_polling
        self._backoff = Backoff(retry, random.Random(seed))
        ceiling = getattr(resolver.config, "read_timeout", None) or 10.0
        self._silence = SilenceBound(float(ceiling), silence_timeout)
        self._reader: Optional[int] = None  # ident of the thread reading, for stop()
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
        """Ends reading from any thread: the blocked read (or the wait for response headers) is cut,
        the connection closes, the thread ends; joins a start()ed thread for up to `timeout`."""
        with self._lock:
            self._stop.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.interrupt()
            thread = self._thread
            if thread is None or thread is threading.current_thread() or not thread.is_alive():
                return
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            # A request may begin between two cuts (the flag is checked first): cut again until it ends.
            thread.join(0.05 if remaining is None else min(0.05, remaining))

    def interrupt(self) -> None:
        """Cuts the read or request in progress (after stop(), the reading thread then ends)."""
        with self._lock:
            body, reader = self._body, self._reader
        if body is not None:
            body_io.interrupt(body)
        if reader is not None:
            self._resolver.in_flight.abort(reader)

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
        with self._lock:
            self._reader = threading.get_ident()
        try:
            yield from self._connections()
        finally:
            with self._lock:
                self._reader = None

    def _connections(self) -> Iterator[Any]:
        selector = self._start
        while not self._stop.is_set():
            reason: str
            error: Optional[BaseException]
            try:
                body = self._resolver.media(self._ref).get_media(StartSelector=selector.to_api(), **self._ref)
            except Exception as failure:
                if self._stop.is_set():
                    return  # stop() cut the request
                kind = classify(failure)
                if isinstance(kind, NonRetryableError):
                    if kind is failure:
                        raise
                    raise kind from failure
                if kind is None:
                    raise  # not a service or network failure: a bug to see, not to retry
                reason, error = kind, failure
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
            self._counters.add(**count_reset(reason))
            if reason in RESOLVE_AGAIN:
                self._resolver.forget(self._ref)
                self._counters.add(endpoint_resolutions=1)
            selector = self.state.selector(self._start)
            if not self._wait_before_retry(reason, error, selector):
                return

    def _renew(self) -> None:
        """A session renewed at a fragment boundary: count it, report it, and resolve the endpoint anew."""
        self._counters.add(renewals=1)
        self._resolver.forget(self._ref)
        if self.on_reset is not None:
            self.on_reset(Reset(RENEW, None, 0, 0.0, self.state.selector(self._start)))

    def _read(self, body: Any) -> Generator[Any, None, Connection]:
        connection = Connection(body, self.state, self._counters, self._read_size, self._limits,
                                silence=self._silence)
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
        # The live edge: nothing new (an empty end, or silence: a paused producer looks the same as a
        # half-open connection); poll on, at the slowest pace.
        if delay is None and reason in (END, SILENT) and self._follow and self._keep_polling:
            delay = self._backoff.policy.max_delay
        if delay is None:
            if reason == END:
                return False
            raise RetriesExhaustedError(
                f"GetMedia gave up after {self._backoff.failures} attempts without progress ({reason})",
            ) from scrubbed(error)
        self._counters.add(resets=1)
        if self.on_reset is not None:
            self.on_reset(Reset(reason, error, self._backoff.failures, delay, selector))
        return not self._stop.wait(delay)
