"""A bounded, thread-safe frame queue between a stream's reader thread and its consumer."""

from __future__ import annotations

import queue as _stdlib_queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Deque, Generic, Iterator, Optional, TypeVar, Union

from .errors import KVSError

T = TypeVar("T")

Empty = _stdlib_queue.Empty  # raised by get() on timeout, as the standard library does


class QueueClosed(KVSError, RuntimeError):
    """put() on a closed queue, or get() on a closed queue with nothing left in it."""


class QueuePolicy(str, Enum):
    """What put() does when the queue is full.

    DROP_OLDEST keeps the consumer closest to live (the default for live video); DROP_NEWEST keeps what
    is queued and discards the arriving item; BLOCK applies back-pressure, waiting up to the timeout and
    dropping the arriving item if no room came free.
    """

    DROP_OLDEST = "drop_oldest"
    DROP_NEWEST = "drop_newest"
    BLOCK = "block"


@dataclass(frozen=True)
class QueueStats:
    """Counts since creation; ``put == got + dropped + size`` holds in every snapshot.

    ``put`` counts the put() calls that have resolved (the item queued, or dropped): a put() still
    waiting for room under BLOCK is not counted until it returns, and one refused because the queue
    closed (QueueClosed) is never counted.
    """

    put: int
    got: int
    dropped: int
    size: int


class _Default:
    """Marks "use the queue's own timeout" in put()/get(), since None already means "wait forever"."""


_DEFAULT = _Default()
Timeout = Union[Optional[float], _Default]


class FrameQueue(Generic[T]):
    """Bounded FIFO with a full-queue policy, timeouts, counters and a close() that wakes every waiter.

    ``timeout`` (seconds, None = forever) is the default wait of get() and of put() under BLOCK.
    ``keep``: items it is true for are never dropped (markers, such as the end of a fragment, that the
    consumer must see); DROP_OLDEST drops the oldest other item.
    """

    def __init__(
        self,
        max_size: int = 30,
        policy: Union[QueuePolicy, str] = QueuePolicy.DROP_OLDEST,
        timeout: Optional[float] = 1.0,
        keep: Optional[Callable[[T], bool]] = None,
    ) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be >= 1, not {max_size}")
        if timeout is not None and timeout < 0:
            raise ValueError(f"timeout must be >= 0 or None, not {timeout}")
        self.max_size = max_size
        self.policy = QueuePolicy(policy)
        self.timeout = timeout
        self._keep = keep
        self._items: Deque[T] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._closed = False
        self._put = self._got = self._dropped = 0

    def _wait_time(self, timeout: Timeout) -> Optional[float]:
        return self.timeout if isinstance(timeout, _Default) else timeout

    def put(self, item: T, timeout: Timeout = _DEFAULT) -> bool:
        """Offer ``item``; True if it was queued, False if it was dropped (full queue or timed out)."""
        with self._lock:
            if self._closed:
                raise QueueClosed("put() on a closed frame queue")
            if len(self._items) >= self.max_size:
                if self.policy is QueuePolicy.DROP_OLDEST:
                    self._drop_oldest()
                elif self.policy is QueuePolicy.DROP_NEWEST or not self._wait_for_room(timeout):
                    self._put += 1  # counted with its outcome, so a snapshot never sees it half done
                    self._dropped += 1
                    return False
            self._put += 1
            self._items.append(item)
            self._not_empty.notify()
            return True

    def _drop_oldest(self) -> None:
        keep = self._keep
        if keep is None:
            self._items.popleft()
            self._dropped += 1
            return
        for index, item in enumerate(self._items):
            if not keep(item):
                del self._items[index]
                self._dropped += 1
                return

    def _wait_for_room(self, timeout: Timeout) -> bool:
        wait = self._wait_time(timeout)
        deadline = None if wait is None else time.monotonic() + wait
        while len(self._items) >= self.max_size:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._not_full.wait(remaining)
            if self._closed:
                raise QueueClosed("frame queue closed while put() waited")
        return True

    def get(self, timeout: Timeout = _DEFAULT) -> T:
        """Take the oldest item; raises ``Empty`` on timeout, ``QueueClosed`` once closed and drained."""
        wait = self._wait_time(timeout)
        deadline = None if wait is None else time.monotonic() + wait
        with self._lock:
            while not self._items:
                if self._closed:
                    raise QueueClosed("frame queue is closed")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise Empty
                self._not_empty.wait(remaining)
            item = self._items.popleft()
            self._got += 1
            self._not_full.notify()
            return item

    def close(self) -> None:
        """Refuse further puts and wake every waiter; items already queued can still be taken."""
        with self._lock:
            self._closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def stats(self) -> QueueStats:
        with self._lock:
            return QueueStats(self._put, self._got, self._dropped, len(self._items))

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[T]:
        """Items until the queue is closed and drained (waits without a timeout)."""
        while True:
            try:
                yield self.get(timeout=None)
            except QueueClosed:
                return
