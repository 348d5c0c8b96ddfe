"""A bounded ring of decoded frames in shared memory: one worker process writes, one parent reads.

Layout of one segment: a header (counters), a table of slot states, the queue (slot numbers in arrival
order), per-slot metadata, then the slots' pixel buffers. A slot is free, being written, queued, or held
by the reader; there are `capacity + 2` slots, so the writer always finds a free one even with the queue
full and the reader holding one. Pixels are copied once, outside the lock, into a slot nobody else may
touch; the lock (a process-shared semaphore) only guards the small bookkeeping.

`read()` returns a numpy view of the slot: no copy. It stays valid until the next read() of the same
ring (the slot is then given back); copy it to keep it longer.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory
from typing import Any, Dict, Optional, Tuple, Union, cast

import numpy as np

from ..queue import QueuePolicy

FREE, WRITING, QUEUED, HELD = 0, 1, 2, 3
_HEADER = np.dtype([("head", "<i8"), ("tail", "<i8"), ("put", "<i8"), ("got", "<i8"), ("dropped", "<i8"),
                    ("closed", "<i8")])
_META = np.dtype([
    ("height", "<i4"), ("width", "<i4"), ("channels", "<i4"), ("nbytes", "<i8"), ("pts_ms", "<i8"),
    ("keyframe", "<i1"), ("track_number", "<i4"), ("producer_time_ms", "<f8"), ("producer_timestamp_ms", "<f8"),
    ("server_timestamp_ms", "<f8"), ("decoded_time_ms", "<f8"), ("fragment_number", "S64"), ("pixel_format", "S16"),
    ("media_time_ms", "<f8"), ("frame_index", "<f8"), ("latency_ms", "<f8"), ("redelivered", "<i1"),
])
_TEXT = ("fragment_number", "pixel_format")
_ALIGN = 64


def _aligned(size: int) -> int:
    return (size + _ALIGN - 1) // _ALIGN * _ALIGN


def _detach(memory: SharedMemory) -> None:
    """SharedMemory.close(), except that a mapping the reader's frames still export is left to them: they
    hold the mmap object, which unmaps when the last of them goes (never while one can still be read)."""
    try:
        memory.close()
    except BufferError:
        memory._buf = None  # type: ignore[attr-defined]
        memory._mmap = None  # type: ignore[attr-defined]
        fd = getattr(memory, "_fd", -1)
        if fd >= 0:
            os.close(fd)
            memory._fd = -1  # type: ignore[attr-defined]


class RingClosed(RuntimeError):
    """read() on a closed, drained ring."""


@dataclass(frozen=True)
class RingFrame:
    """A frame read from a ring; `image` is a view into shared memory, valid until the next read()."""

    camera_id: str
    image: np.ndarray
    pixel_format: str
    width: int
    height: int
    pts_ms: int
    is_keyframe: bool
    track_number: int
    producer_time_ms: Optional[int]
    producer_timestamp_ms: Optional[int]
    server_timestamp_ms: Optional[int]
    fragment_number: Optional[str]
    decoded_time_ms: float
    media_time_ms: Optional[int] = None
    frame_index: Optional[int] = None
    latency_ms: Optional[float] = None  # as the worker's camera measured it when it took the frame
    redelivered: bool = False


@dataclass(frozen=True)
class RingSpec:
    """What a process needs to attach to a ring (picklable)."""

    camera_id: str
    name: str
    capacity: int
    slot_bytes: int
    policy: str
    lock: Any  # multiprocessing Lock
    ready: Any  # multiprocessing Semaphore: one release per queued frame (the reader's wake-up)


def _layout(capacity: int, slot_bytes: int) -> Tuple[int, int, int, int, int, int]:
    slots = capacity + 2
    states = _aligned(_HEADER.itemsize)
    order = _aligned(states + slots)
    meta = _aligned(order + 8 * capacity)
    pixels = _aligned(meta + _META.itemsize * slots)
    return slots, states, order, meta, pixels, pixels + slots * _aligned(slot_bytes)


class FrameRing:
    """One camera's ring. Create it in the parent (`create`), attach in the worker (`attach`)."""

    def __init__(self, spec: RingSpec, memory: SharedMemory, owner: bool) -> None:
        self.spec, self._memory, self._owner = spec, memory, owner
        self.policy = QueuePolicy(spec.policy)
        slots, states, order, meta, pixels, _ = _layout(spec.capacity, spec.slot_bytes)
        buf = memory.buf
        self._header = np.ndarray((), _HEADER, buf, 0)
        self._states = np.ndarray((slots,), np.int8, buf, states)
        self._order = np.ndarray((spec.capacity,), np.int64, buf, order)
        self._meta = np.ndarray((slots,), _META, buf, meta)
        stride = _aligned(spec.slot_bytes)
        self._offsets = [pixels + i * stride for i in range(slots)]
        self._pixels = [np.ndarray((spec.slot_bytes,), np.uint8, buf, offset) for offset in self._offsets]
        self._held = -1  # reader side: the slot the last read() returned

    # -- creation --
    @classmethod
    def create(cls, camera_id: str, name: str, capacity: int, slot_bytes: int,
               policy: Union[QueuePolicy, str], context: Any) -> FrameRing:
        if capacity < 1:
            raise ValueError(f"ring capacity must be >= 1, not {capacity}")
        size = _layout(capacity, slot_bytes)[-1]
        memory = SharedMemory(name=name, create=True, size=size)
        spec = RingSpec(camera_id, memory.name, capacity, slot_bytes, QueuePolicy(policy).value, context.Lock(),
                        context.Semaphore(0))
        ring = cls(spec, memory, owner=True)
        ring._header[()] = 0
        ring._states[:] = FREE
        return ring

    @classmethod
    def attach(cls, spec: RingSpec) -> FrameRing:
        return cls(spec, SharedMemory(name=spec.name), owner=False)

    def close(self) -> None:
        """Detach; the creator also removes the segment's name (nothing is left in /dev/shm). A frame the
        reader still holds keeps the mapping alive (its view exports the buffer) until it is dropped, so
        touching it never reads unmapped memory."""
        self._header = self._states = self._order = self._meta = None  # type: ignore[assignment]
        self._pixels = []
        _detach(self._memory)
        if self._owner:
            self._memory.unlink()

    # -- writer side (the worker) --
    def recover_writer(self) -> None:
        """After the writer died: its half-written slot is free again, and a lock it held is released."""
        lock = self.spec.lock
        if not lock.acquire(timeout=1.0):
            lock.release()  # taken by the dead writer: nobody else holds it longer than a few microseconds
            lock.acquire()
        try:
            self._states[self._states == WRITING] = FREE
        finally:
            lock.release()

    def put(self, image: np.ndarray, meta: Dict[str, Any], timeout: Optional[float] = 1.0) -> bool:
        """Copy one frame in; False if it was dropped (drop_newest or block with no room in time)."""
        if image.nbytes > self.spec.slot_bytes:
            raise ValueError(f"a {image.shape} frame ({image.nbytes} bytes) does not fit camera "
                             f"{self.spec.camera_id}'s ring slots of {self.spec.slot_bytes} bytes: give the Fleet a "
                             "larger max_frame_bytes, or a smaller output width/height")
        lock, header = self.spec.lock, self._header
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with lock:
                full = header["head"] - header["tail"] >= self.spec.capacity
                if not full or self.policy is QueuePolicy.DROP_OLDEST:
                    slot = int(np.flatnonzero(self._states == FREE)[0])
                    self._states[slot] = WRITING
                    break
                if self.policy is QueuePolicy.DROP_NEWEST or (deadline is not None and time.monotonic() >= deadline):
                    header["put"] += 1
                    header["dropped"] += 1
                    return False
            time.sleep(0.002)  # block: the reader frees a place within a frame time or so
        # One copy, straight from the decoder's (possibly padded, strided) picture into the slot.
        np.copyto(self._pixels[slot][: image.nbytes].reshape(image.shape), image, casting="no")
        row = self._meta[slot]
        row["height"], row["width"] = image.shape[0], image.shape[1]
        row["channels"] = image.shape[2] if image.ndim == 3 else 0
        row["nbytes"] = image.nbytes
        for key, value in meta.items():
            row[key] = (value or "") if key in _TEXT else (np.nan if value is None else value)
        with lock:
            if header["head"] - header["tail"] >= self.spec.capacity:  # drop_oldest: make room
                oldest = self._order[header["tail"] % self.spec.capacity]
                self._states[oldest] = FREE
                header["tail"] += 1
                header["dropped"] += 1
            else:
                self.spec.ready.release()
            self._order[header["head"] % self.spec.capacity] = slot
            self._states[slot] = QUEUED
            header["head"] += 1
            header["put"] += 1
        return True

    def mark_closed(self) -> None:
        """Bounded: a writer killed while holding the lock must not hold up the fleet's stop."""
        locked = self.spec.lock.acquire(timeout=1.0)
        try:
            self._header["closed"] = 1
        finally:
            if locked:
                self.spec.lock.release()
        self.spec.ready.release()  # wakes a waiting reader

    # -- reader side (the parent) --
    def read(self, timeout: Optional[float] = 1.0) -> Optional[RingFrame]:
        """The oldest queued frame, or None on timeout; RingClosed once closed and drained."""
        lock, header = self.spec.lock, self._header
        if not self.spec.ready.acquire(timeout=timeout):
            return None
        with lock:
            if self._held >= 0:
                self._states[self._held] = FREE
                self._held = -1
            if header["head"] == header["tail"]:
                if header["closed"]:
                    self.spec.ready.release()  # every later read ends too
                    raise RingClosed(f"camera {self.spec.camera_id}: the ring is closed")
                return None  # a wake-up for a frame that drop_oldest replaced
            slot = int(self._order[header["tail"] % self.spec.capacity])
            header["tail"] += 1
            header["got"] += 1
            self._states[slot] = HELD
            self._held = slot
            row = self._meta[slot].copy()
        return self._frame(slot, row)

    def _frame(self, slot: int, row: np.void) -> RingFrame:
        height, width, channels = int(row["height"]), int(row["width"]), int(row["channels"])
        shape = (height, width, channels) if channels else (int(row["nbytes"]) // width, width)
        # frombuffer exports the mapping's buffer for as long as the array lives (np.ndarray(buffer=...)
        # would not, and a view outliving close() would then read unmapped memory).
        buf = cast(memoryview, self._memory.buf)  # None only after close()
        image = np.frombuffer(buf, np.uint8, int(row["nbytes"]), self._offsets[slot]).reshape(shape)

        def optional(value: float) -> Optional[int]:
            return None if np.isnan(value) else int(value)

        fragment = bytes(row["fragment_number"]).decode() or None
        return RingFrame(self.spec.camera_id, image, bytes(row["pixel_format"]).decode(), width, height,
                         int(row["pts_ms"]), bool(row["keyframe"]), int(row["track_number"]),
                         optional(row["producer_time_ms"]), optional(row["producer_timestamp_ms"]),
                         optional(row["server_timestamp_ms"]), fragment, float(row["decoded_time_ms"]),
                         optional(row["media_time_ms"]), optional(row["frame_index"]),
                         None if np.isnan(row["latency_ms"]) else float(row["latency_ms"]), bool(row["redelivered"]))

    def stats(self) -> Dict[str, int]:
        with self.spec.lock:
            header = self._header
            return {"put": int(header["put"]), "got": int(header["got"]), "dropped": int(header["dropped"]),
                    "size": int(header["head"] - header["tail"])}
