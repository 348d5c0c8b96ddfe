"""Hooks: callbacks the emulator calls as it works, so that benchmarks and tests can time what it does
(a frame appended to a stream, bytes handed to a client) without patching its internals.

    with emu.hooks.on_frame_appended(lambda event: appended.append((event.producer_ms, time.perf_counter()))):
        ...  # run the consumer being measured

Callbacks run synchronously on the emulator's threads (a stream's producer, a connection's handler), so
they must be quick. One that raises is logged and skipped: a measurement never breaks the emulator.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, Generic, Tuple, TypeVar

from ..mkv import Block

LOG = logging.getLogger("kvs_parser.emulator")
Event = TypeVar("Event")


@dataclass(frozen=True)
class FrameAppended:
    """A producer appended `frame` to fragment `fragment_number` of `stream`. The hook runs just before
    readers can see the frame."""

    stream: str
    fragment_number: int
    producer_ms: int  # the frame's producer timestamp: its fragment's producer time plus its offset in it
    frame: Block


@dataclass(frozen=True)
class BytesSent:
    """`size` bytes of a response body are handed to a client's socket. The hook runs just before the
    write, so a timestamp taken in it precedes the client's read of those bytes."""

    operation: str  # "GetMedia", "GetMediaForFragmentList", "DescribeStream", ... ('' for an error answer)
    stream: str  # the stream the call names ('' when it names none)
    size: int  # body bytes, chunk framing excluded (a fault may then cut, stall or corrupt them)
    frame: bool  # the bytes are one frame's block (GetMedia and GetMediaForFragmentList send one per write)


class Subscription:
    """One registered callback; `remove()` (or leaving its `with` block) unregisters it."""

    def __init__(self, remove: Callable[[], None]) -> None:
        self._remove = remove

    def remove(self) -> None:
        self._remove()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class _Callbacks(Generic[Event]):
    """A thread-safe list of callbacks for one kind of event; firing reads an immutable snapshot."""

    def __init__(self) -> None:
        self._callbacks: Tuple[Callable[[Event], None], ...] = ()
        self._lock = threading.Lock()

    def add(self, callback: Callable[[Event], None]) -> Subscription:
        with self._lock:
            self._callbacks = (*self._callbacks, callback)
        return Subscription(lambda: self._discard(callback))

    def _discard(self, callback: Callable[[Event], None]) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
            if callback in callbacks:
                callbacks.remove(callback)
            self._callbacks = tuple(callbacks)

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    def fire(self, event: Event) -> None:
        for callback in self._callbacks:
            try:
                callback(event)
            except Exception:  # a hook is a measurement: it must not break the emulator
                LOG.exception("emulator hook %r failed", callback)


class Hooks:
    """The emulator's hooks (`Emulator.hooks`). Register with `on_*`; each returns a Subscription."""

    def __init__(self) -> None:
        self.frame_appended: _Callbacks[FrameAppended] = _Callbacks()
        self.bytes_sent: _Callbacks[BytesSent] = _Callbacks()

    def on_frame_appended(self, callback: Callable[[FrameAppended], None]) -> Subscription:
        """Calls `callback` each time a producer (live camera, replay, file or frames stream) appends a
        frame to any stream."""
        return self.frame_appended.add(callback)

    def on_bytes_sent(self, callback: Callable[[BytesSent], None]) -> Subscription:
        """Calls `callback` each time the server writes response-body bytes to a client: one call per
        JSON or HLS body, one per piece (fragment header, frame block, trailing tags) of a streamed one."""
        return self.bytes_sent.add(callback)
