"""Where each camera got to: its last completely delivered fragment, kept in a store a cluster shares.

``CheckpointStore`` is the interface (load, save, delete, close); ``SQLiteCheckpointStore`` serves one
machine, ``RedisCheckpointStore`` a cluster. ``open_store("sqlite:///path")`` / ``open_store("redis://...")``
picks one from a URL.
"""

from __future__ import annotations

from ._model import Checkpoint, CheckpointStore, CheckpointStoreError, fragment_order
from ._open import open_store
from ._sqlite import SQLiteCheckpointStore

__all__ = [
    "Checkpoint",
    "CheckpointStore",
    "CheckpointStoreError",
    "RedisCheckpointStore",
    "SQLiteCheckpointStore",
    "fragment_order",
    "open_store",
]


def __getattr__(name: str) -> object:
    if name == "RedisCheckpointStore":  # imports the optional redis client only when asked for
        from ._redis import RedisCheckpointStore

        return RedisCheckpointStore
    raise AttributeError(name)
