"""A camera's checkpoint, its lease, and the small interface every checkpoint store implements."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Protocol, Tuple

from ..errors import KVSError, NonRetryableError


class CheckpointStoreError(KVSError):
    """The checkpoint store could not be read or written (unreachable, refused): retried by the camera."""


class CheckpointCorruptError(CheckpointStoreError, NonRetryableError):
    """A stored record is not a checkpoint (a text where a number belongs...): no retry can cure it, so the
    camera stops and says which record to fix or delete."""


@dataclass(frozen=True)
class Checkpoint:
    """One camera's progress.

    ``fragment_number``/``continuation_token``/``producer_time_ms``: the last fragment whose every
    picture was delivered (the consumer asked for the next one); a restart resumes right after it.
    ``in_flight``: the fragment whose delivery began after that one, if any; after a restart its
    pictures may be delivered a second time, and are then marked ``redelivered``.
    ``epoch``/``owner``: the lease (see ``CheckpointStore.acquire``) the writer held.
    """

    camera_id: str
    fragment_number: str
    continuation_token: Optional[str] = None
    producer_time_ms: Optional[int] = None
    in_flight: Optional[str] = None
    updated_ms: int = 0
    epoch: int = 0
    owner: str = ""


_FRAGMENT = re.compile(r"^[0-9]*$")


def validated(camera_id: str, fields: Any, where: str) -> Checkpoint:
    """A Checkpoint from a stored record's fields (name -> value), or CheckpointCorruptError naming it."""

    def integer(name: str, optional: bool) -> Optional[int]:
        value = fields.get(name)
        if value is None and optional:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value):
            return int(value)
        raise ValueError(f"{name} is {value!r}, not an integer")

    def fragment(name: str, optional: bool) -> Optional[str]:
        value = fields.get(name)
        if value is None and optional:
            return None
        if isinstance(value, str) and _FRAGMENT.match(value) and len(value) <= 128:
            return value
        raise ValueError(f"{name} is {value!r}, not a fragment number")

    try:
        token = fields.get("continuation_token")
        owner = fields.get("owner") or ""
        if not (token is None or isinstance(token, str)) or not isinstance(owner, str):
            raise ValueError("continuation_token and owner must be text")
        return Checkpoint(camera_id, fragment("fragment_number", False) or "", token,
                          integer("producer_time_ms", True), fragment("in_flight", True) or None,
                          integer("updated_ms", False) or 0, integer("epoch", True) or 0, owner)
    except ValueError as error:
        raise CheckpointCorruptError(f"checkpoint of camera {camera_id!r} in {where} is corrupt ({error}): fix or "
                                     "delete that record") from None


def fragment_order(fragment_number: str) -> Tuple[int, str]:
    """Sort key of KVS fragment numbers: decimal strings that grow along a stream (too long for float)."""
    digits = fragment_number.lstrip("0") or "0"
    return len(digits), digits


class CheckpointStore(Protocol):
    """Checkpoints by camera id. Implementations are safe to call from several threads.

    ``acquire`` takes the camera's lease for a new runner: it returns an epoch one above any granted
    before, so the runner it supersedes is refused at its next write. ``save`` never moves a camera
    backwards and never accepts a writer whose lease was taken: a checkpoint with an older fragment number
    than the stored one, or an ``epoch`` below the stored one, is refused and ``save`` returns False.
    Errors reaching the store raise ``CheckpointStoreError`` (``CheckpointCorruptError`` for a bad record).
    """

    def acquire(self, camera_id: str, owner: str) -> int: ...

    def load(self, camera_id: str) -> Optional[Checkpoint]: ...

    def save(self, checkpoint: Checkpoint) -> bool: ...

    def delete(self, camera_id: str) -> None: ...

    def close(self) -> None: ...
