"""CheckpointKeeper: one camera's side of the checkpoint store, for whichever host runs the camera.

At start it takes the camera's lease and turns the stored checkpoint into a ResumePlan. While frames are
delivered it writes twice per fragment: when the fragment's first picture is handed out (marked in
flight), and when the consumer comes back after its last picture (completely delivered). Every write is
conditional on the lease: a runner whose lease another runner took stops with CameraSupersededError
before it hands out another fragment. Store outages are retried (delivery waits: nothing is handed out
that could not be recorded); a corrupt record stops the camera with a CheckpointCorruptError.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional, TypeVar

from ..errors import NonRetryableError
from ..getmedia import StartSelector
from ._model import Checkpoint, CheckpointStore, CheckpointStoreError, fragment_order

log = logging.getLogger(__name__)
T = TypeVar("T")


class CameraSupersededError(NonRetryableError):
    """Another runner took this camera's lease (or moved its checkpoint ahead): this one stops."""


@dataclass(frozen=True)
class ResumePlan:
    """Where a camera starts and which fragments it must not hand out again.

    ``skip_through``: fragments up to this one were completely delivered before; ``skip_before``: a
    restart before any fragment completed starts at the in-flight one's second (boto3 sends whole
    seconds), so earlier fragments may come first; ``redeliver``: the fragment in flight at the last stop,
    whose pictures are marked ``redelivered``.
    """

    start: StartSelector
    resumed_after: Optional[str] = None
    skip_through: Optional[str] = None
    skip_before: Optional[str] = None
    redeliver: Optional[str] = None

    @classmethod
    def from_checkpoint(cls, checkpoint: Optional[Checkpoint], default: StartSelector) -> ResumePlan:
        if checkpoint is None or not (checkpoint.fragment_number or checkpoint.in_flight):
            return cls(default)
        if checkpoint.fragment_number:
            start = (StartSelector.continuation(checkpoint.continuation_token) if checkpoint.continuation_token
                     else StartSelector.after_fragment(checkpoint.fragment_number))
            return cls(start, checkpoint.fragment_number, checkpoint.fragment_number, None, checkpoint.in_flight)
        if checkpoint.producer_time_ms is None:
            return cls(default, redeliver=checkpoint.in_flight)
        return cls(StartSelector.producer_timestamp(checkpoint.producer_time_ms // 1000), None, None,
                   checkpoint.in_flight, checkpoint.in_flight)

    def already_delivered(self, fragment_number: Optional[str]) -> bool:
        """A fragment before the resume point (GetMedia may start at, not after, the one given)."""
        if fragment_number is None:
            return False
        order = fragment_order(fragment_number)
        if self.skip_through is not None and order <= fragment_order(self.skip_through):
            return True
        return self.skip_before is not None and order < fragment_order(self.skip_before)


def runner_id() -> str:
    """Who holds a lease, for the messages of the runner that loses it: host, process, a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class CheckpointKeeper:
    """The checkpoint of `camera_id` in `store`, written under this runner's lease."""

    def __init__(self, store: CheckpointStore, camera_id: str, *, owner: Optional[str] = None,
                 stopping: Optional[threading.Event] = None, metrics: Any = None,
                 retry_delay: float = 0.2, max_delay: float = 5.0) -> None:
        self.store, self.camera_id = store, camera_id
        self.owner = owner or runner_id()
        self._stopping = stopping or threading.Event()
        self._metrics = metrics  # CameraCheckpointMetrics or None
        self._delays = (retry_delay, max_delay)
        self._checkpoint: Optional[Checkpoint] = None  # what the store holds for this camera, as we wrote it
        self._epoch = 0
        self.errors = 0  # store calls that failed (each retried)
        self.completed = 0  # fragments recorded as completely delivered

    @property
    def last_fragment(self) -> Optional[str]:
        checkpoint = self._checkpoint
        return checkpoint.fragment_number or None if checkpoint is not None else None

    def begin(self, default: StartSelector) -> Optional[ResumePlan]:
        """Takes the lease and loads the checkpoint; None when stopped meanwhile."""
        taken = self._call(lambda: (self.store.acquire(self.camera_id, self.owner), self.store.load(self.camera_id)))
        if taken is None:
            return None
        self._epoch, checkpoint = taken
        self._checkpoint = checkpoint
        plan = ResumePlan.from_checkpoint(checkpoint, default)
        if plan.resumed_after:
            log.info("camera %s: resuming after fragment %s", self.camera_id, plan.resumed_after)
        elif plan.skip_before:
            log.info("camera %s: resuming at fragment %s", self.camera_id, plan.skip_before)
        return plan

    def in_flight(self, fragment_number: str, producer_time_ms: Optional[int]) -> None:
        """Before the fragment's first picture is handed out."""
        base = self._checkpoint
        if base is None or not base.fragment_number:  # nothing complete yet: remember where this one starts
            checkpoint = Checkpoint(self.camera_id, "", None, producer_time_ms, fragment_number)
        else:
            checkpoint = replace(base, in_flight=fragment_number, updated_ms=0)
        self._save(checkpoint)

    def complete(self, fragment_number: str, continuation_token: Optional[str],
                 producer_time_ms: Optional[int]) -> None:
        """Once every picture of the fragment was handed out and the consumer came back for more."""
        self._save(Checkpoint(self.camera_id, fragment_number, continuation_token, producer_time_ms))
        self.completed += 1
        if self._metrics is not None and producer_time_ms is not None:
            self._metrics.producer_time_ms.set(producer_time_ms)

    def redelivered(self) -> None:
        """A picture marked redelivered was handed out (counted in kvs_frames_redelivered_total)."""
        if self._metrics is not None:
            self._metrics.redelivered.inc()

    def _save(self, checkpoint: Checkpoint) -> None:
        checkpoint = replace(checkpoint, epoch=self._epoch, owner=self.owner)
        written = self._call(lambda: self.store.save(checkpoint))
        if written is None:  # stopping
            return
        if not written:
            holder = self._call(lambda: self.store.load(self.camera_id))
            raise CameraSupersededError(
                f"camera {self.camera_id}: another runner ({getattr(holder, 'owner', '') or 'unknown'}) took over "
                f"this camera's checkpoint (lease {getattr(holder, 'epoch', '?')}, ours {self._epoch}); this one "
                "stops")
        self._checkpoint = checkpoint
        if self._metrics is not None:
            self._metrics.saves.inc()

    def _call(self, call: Callable[[], T]) -> Optional[T]:
        """`call()`, retried with backoff while the store fails; None once stopping."""
        delay, max_delay = self._delays
        while True:
            try:
                return call()
            except NonRetryableError:
                raise  # a corrupt record: no retry cures it
            except CheckpointStoreError as error:
                self.errors += 1
                if self._metrics is not None:
                    self._metrics.errors.inc()
                log.warning("camera %s: %s (retrying in %.1f s)", self.camera_id, error, delay)
            if self._stopping.wait(delay):
                return None
            delay = min(max_delay, delay * 2)
