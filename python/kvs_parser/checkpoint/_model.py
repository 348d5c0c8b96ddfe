"""A camera's checkpoint and the small interface every checkpoint store implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol, Tuple

from ..errors import KVSError


class CheckpointStoreError(KVSError):
    """The checkpoint store could not be read or written (unreachable, refused, corrupt record)."""


@dataclass(frozen=True)
class Checkpoint:
    """One camera's progress.

    ``fragment_number``/``continuation_token``/``producer_time_ms``: the last fragment whose every
    picture was handed to the hook (and the hook returned); a restart resumes right after it.
    ``in_flight``: the fragment whose delivery began after that one, if any; after a restart its
    pictures may be delivered a second time, and are then marked ``redelivered``.
    """

    camera_id: str
    fragment_number: str
    continuation_token: Optional[str] = None
    producer_time_ms: Optional[int] = None
    in_flight: Optional[str] = None
    updated_ms: int = 0


def fragment_order(fragment_number: str) -> Tuple[int, str]:
    """Sort key of KVS fragment numbers: decimal strings that grow along a stream (too long for float)."""
    digits = fragment_number.lstrip("0") or "0"
    return len(digits), digits


class CheckpointStore(Protocol):
    """Checkpoints by camera id. Implementations are safe to call from several threads.

    ``save`` never moves a camera backwards: a checkpoint with an older fragment number than the stored
    one (a stale writer, e.g. an actor the cluster already replaced) is refused and ``save`` returns False.
    Errors reaching the store raise ``CheckpointStoreError``.
    """

    def load(self, camera_id: str) -> Optional[Checkpoint]: ...

    def save(self, checkpoint: Checkpoint) -> bool: ...

    def delete(self, camera_id: str) -> None: ...

    def close(self) -> None: ...
