"""FrameSource: a reader thread that decodes into a bounded queue, and the OpenCV-like reading API.

Subclasses implement ``_produce()`` (runs on the reader thread until the stream ends or ``_stopping`` is
set, handing pictures to ``_emit``) and ``_interrupt()`` (wakes a blocked read from another thread).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterator, Optional, Tuple, Union

from .._recorders import LatencyRecorder, RateMeter
from .._redact import redact
from ..decode import DecodedPicture
from ..errors import NonRetryableError
from ..queue import Empty, FrameQueue, QueueClosed, QueuePolicy
from ._delivery import Delivery, queue_behaviour
from ._errors import FrameTimeout, SourceEnded, SourceNotStarted
from ._fragments import FragmentEnd
from ._frame import SourceCounters, SourceFrame, SourceMetrics
from ._timing import now_ms

if TYPE_CHECKING:  # prometheus_client is the [app] extra: a source without metrics does not need it
    from ..checkpoint import CheckpointKeeper
    from ..metrics import CameraMetrics, KVSMetrics

_Item = Union[SourceFrame, FragmentEnd]

log = logging.getLogger(__name__)


class _Default:
    """read(timeout=...) not given: use the queue's timeout (None already means "wait forever")."""


_DEFAULT = _Default()


class FrameSource:
    """Base of the KVS frame sources: start()/stop(), context manager, read_frame(), read(), get_metrics()."""

    def __init__(
        self,
        camera_id: str,
        *,
        queue_max_size: int = 30,
        queue_policy: Union[QueuePolicy, str] = QueuePolicy.DROP_OLDEST,
        queue_timeout: Optional[float] = 1.0,
        metrics: Optional[KVSMetrics] = None,
        latency_window: int = 1000,
        stop_timeout: float = 10.0,
        delivery: Union[Delivery, str, None] = None,
    ) -> None:
        self.camera_id = camera_id
        policy, self._put_waits = queue_behaviour(delivery, queue_policy)
        self.delivery = Delivery.COMPLETE if self._put_waits else Delivery.LIVE
        self._queue: FrameQueue[_Item] = FrameQueue(queue_max_size, policy, queue_timeout,
                                                    keep=lambda item: isinstance(item, FragmentEnd))
        self._prom: Optional[CameraMetrics] = metrics.camera(camera_id) if metrics is not None else None
        self._latency = LatencyRecorder(capacity=latency_window)
        self._rate = RateMeter(window_seconds=2.0)
        self._frames_read = 0
        self._frames_redelivered = 0
        self._keeper: Optional[CheckpointKeeper] = None  # set by a checkpointed subclass
        self._in_flight: Optional[str] = None  # the fragment whose pictures read() is handing out
        self.resumed_after: Optional[str] = None  # the checkpointed fragment this run started after
        self.last_frame_ms: Optional[float] = None  # wall clock of the last picture read()
        self._counters = SourceCounters()
        self._published = (SourceCounters(), 0)  # what Prometheus has seen: counters, queue drops
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._stop_timeout = stop_timeout
        self.error: Optional[BaseException] = None  # what ended the reader thread, if it failed

    # -- for subclasses --
    def _produce(self) -> None:
        raise NotImplementedError

    def _interrupt(self) -> None:
        """Wake the reader thread if it is blocked (called by stop() from another thread)."""

    def _emit(self, picture: DecodedPicture, producer_time_ms: Optional[int], frame_index: Optional[int] = None,
              redelivered: bool = False) -> bool:
        """Queue one picture; False once the source is stopping (the reader should return)."""
        # pts_ms is on the producer's clock for every source (see SourceFrame); the container's own
        # timeline stays in media_time_ms.
        pts_ms = picture.pts_ms if producer_time_ms is None else producer_time_ms
        frame = SourceFrame(
            camera_id=self.camera_id, image=picture.image, pixel_format=picture.pixel_format,
            width=picture.width, height=picture.height, pts_ms=pts_ms, media_time_ms=picture.pts_ms,
            is_keyframe=picture.is_keyframe,
            track_number=picture.track_number, producer_time_ms=producer_time_ms,
            producer_timestamp_ms=picture.producer_timestamp_ms, server_timestamp_ms=picture.server_timestamp_ms,
            fragment_number=picture.fragment_number, decoded_time_ms=now_ms(), frame_index=frame_index,
            redelivered=redelivered,
        )
        return self._put(frame)

    def _emit_fragment_end(self, end: FragmentEnd) -> bool:
        """Behind the fragment's last picture: read() records the fragment as delivered when it gets here."""
        return self._keeper is None or self._put(end)

    def _put(self, item: _Item) -> bool:
        try:
            if self._put_waits:
                self._queue.put(item, timeout=None)
            else:
                self._queue.put(item)
        except QueueClosed:
            return False
        return not self._stopping.is_set()

    def _set_counters(self, **values: Any) -> None:
        """Publish the reader's totals; Prometheus counters advance by the difference."""
        with self._lock:
            self._counters = replace(self._counters, **values)
        self._publish()

    def _publish(self) -> None:
        prom = self._prom
        if prom is None:
            return
        with self._lock:
            now, dropped = self._counters, self._queue.stats.dropped
            before, dropped_before = self._published
            self._published = (now, dropped)
        prom.bytes_read.inc(now.bytes - before.bytes)
        prom.parse_errors.inc(now.parse_errors - before.parse_errors)
        prom.decode_errors.inc(now.decode_errors - before.decode_errors)
        prom.connection_resets.inc(now.connection_resets - before.connection_resets)
        prom.frames_dropped.inc(dropped - dropped_before)
        prom.frames_sampled_out.inc(now.frames_sampled_out - before.frames_sampled_out)
        if now.millis_behind_now is not None:
            prom.millis_behind_now.set(now.millis_behind_now)

    # -- lifecycle --
    def start(self) -> FrameSource:
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("a frame source starts once")
            self._thread = threading.Thread(target=self._run, name=f"kvs-source-{self.camera_id}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._produce()
        except BaseException as error:  # kept for the caller: a thread has nobody to raise to
            if not self._stopping.is_set():
                log.error("camera %s: %s: %s", self.camera_id, type(error).__name__, redact(str(error)))
                self.error = error
        finally:
            self._queue.close()
            self._publish()

    def stop(self, timeout: Optional[float] = None) -> None:
        """Ends the reader thread and joins it; frames still queued can be read, then read() ends."""
        self._stopping.set()
        self._queue.close()  # wakes a put() blocked on a full queue
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            self._interrupt()
            return
        deadline = time.monotonic() + (self._stop_timeout if timeout is None else timeout)
        while True:
            # Cut again until the thread ends: a request may start between the flag check and a cut.
            self._interrupt()
            remaining = deadline - time.monotonic()
            if not thread.is_alive() or remaining <= 0:
                break
            thread.join(min(0.05, remaining))
        if thread.is_alive():
            log.warning("camera %s: reader thread did not stop in time", self.camera_id)

    @property
    def checkpointed_fragment(self) -> Optional[str]:
        """The last fragment recorded as completely delivered (checkpointed sources), else None."""
        keeper = self._keeper
        return None if keeper is None else keeper.last_fragment

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def __enter__(self) -> FrameSource:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- reading --
    def read(self, timeout: Union[Optional[float], _Default] = _DEFAULT) -> SourceFrame:
        """The next frame. Raises FrameTimeout, SourceEnded once stopped/ended and drained, or the error
        that ended the stream (StreamNotFoundError, RetriesExhaustedError, ...)."""
        if self._thread is None:
            raise SourceNotStarted("call start() (or use a with block) before read()")
        item: Optional[_Item] = None
        while not isinstance(item, SourceFrame):
            try:
                item = self._queue.get() if isinstance(timeout, _Default) else self._queue.get(timeout)
            except Empty:
                raise FrameTimeout(f"camera {self.camera_id}: no frame within the timeout") from None
            except QueueClosed:
                item = None
            if item is None:  # raised outside the except block: the error keeps its own cause chain
                if self.error is not None:
                    raise self.error
                raise SourceEnded(f"camera {self.camera_id}: the source has ended")
            self._record(item)
        frame = item
        received = now_ms()
        latency = None if frame.producer_time_ms is None else received - frame.producer_time_ms
        self._rate.mark()
        self.last_frame_ms = received
        with self._lock:
            self._frames_read += 1
            self._frames_redelivered += frame.redelivered
        if latency is not None:
            self._latency.record(latency)
        if self._prom is not None:
            self._prom.frames_read.inc()
            if latency is not None:
                self._prom.latency_ms.observe(latency)
        if latency is not None:
            # The frame was made by _emit for this one read and nobody else holds it: setting the field in
            # place saves a dataclasses.replace() per frame (~4x the cost of building the frame).
            object.__setattr__(frame, "latency_ms", latency)
        return frame

    def _record(self, item: _Item) -> None:
        """Writes the checkpoint as read() hands items out: a fragment is in flight from its first picture,
        complete once the consumer asks past its end. A lost lease or a corrupt record ends the source."""
        keeper = self._keeper
        if keeper is None:
            return
        try:
            if isinstance(item, FragmentEnd):
                keeper.complete(item.fragment_number, item.continuation_token, item.producer_time_ms)
            elif item.fragment_number is not None and item.fragment_number != self._in_flight:
                self._in_flight = item.fragment_number
                keeper.in_flight(item.fragment_number, item.producer_timestamp_ms)
            if isinstance(item, SourceFrame) and item.redelivered:
                keeper.redelivered()
        except NonRetryableError as error:
            self.error = error
            log.error("camera %s: %s", self.camera_id, redact(str(error)))
            self.stop(timeout=0)
            raise

    def read_frame(self, timeout: Optional[float] = None) -> Tuple[bool, Any]:
        """OpenCV ``VideoCapture.read()`` style: (True, image), or (False, None) only once the stream has
        ended or the source was stopped (and every queued frame was read), so ``if not ok: break`` ends
        the loop at the end and never on a hiccup. It waits for the next frame as long as it takes (a slow
        start, a reconnect); `timeout` (seconds) bounds the wait and raises ``FrameTimeout`` when it runs
        out. The error that ended the stream is raised, not hidden in a False."""
        try:
            return True, self.read(timeout).image
        except SourceEnded:
            return False, None

    def __iter__(self) -> Iterator[SourceFrame]:
        """Frames until the source ends (timeouts are waited through); raises the error that ended it."""
        while True:
            try:
                yield self.read()
            except FrameTimeout:
                continue
            except SourceEnded:
                return

    def get_metrics(self) -> SourceMetrics:
        with self._lock:
            counters, frames_read = self._counters, self._frames_read
        stats = self._queue.stats
        return SourceMetrics(
            camera_id=self.camera_id, latency_ms=self._latency.summary(), fps=self._rate.rate(),
            frames_read=frames_read, frames_redelivered=self._frames_redelivered, frames_dropped=stats.dropped,
            frames_sampled_out=counters.frames_sampled_out,
            frames_stale=counters.frames_stale, decode_errors=counters.decode_errors,
            parse_errors=counters.parse_errors, connection_resets=counters.connection_resets,
            bytes=counters.bytes, millis_behind_now=counters.millis_behind_now, queue_size=stats.size,
            running=self.running,
            error=None if self.error is None else f"{type(self.error).__name__}: {redact(str(self.error))}",
        )
