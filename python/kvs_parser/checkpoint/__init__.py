"""Where each camera got to: its last completely delivered fragment, kept in a store a cluster shares.
The only durable resume record, in every host (threads, worker processes, Ray actors).

``CheckpointStore`` is the interface (acquire a lease, load, save, delete, close); ``CheckpointKeeper``
writes one camera's checkpoint under its lease; ``SQLiteCheckpointStore`` serves one
machine, ``RedisCheckpointStore`` a cluster. ``open_store("sqlite:///path")`` / ``open_store("redis://...")``
picks one from a URL.
"""

from __future__ import annotations

from ._keeper import CameraSupersededError, CheckpointKeeper, ResumePlan, runner_id
from ._model import Checkpoint, CheckpointCorruptError, CheckpointStore, CheckpointStoreError, fragment_order
from ._open import open_store
from ._sqlite import SQLiteCheckpointStore

__all__ = [
    "CameraSupersededError",
    "Checkpoint",
    "CheckpointCorruptError",
    "CheckpointKeeper",
    "CheckpointStore",
    "CheckpointStoreError",
    "RedisCheckpointStore",
    "ResumePlan",
    "SQLiteCheckpointStore",
    "fragment_order",
    "open_store",
    "runner_id",
]


def __getattr__(name: str) -> object:
    if name == "RedisCheckpointStore":  # imports the optional redis client only when asked for
        from ._redis import RedisCheckpointStore

        return RedisCheckpointStore
    raise AttributeError(name)
