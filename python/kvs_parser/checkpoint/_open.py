"""A checkpoint store from a URL: ``sqlite:///abs/path.db``, ``sqlite:relative.db`` or ``redis://host:port/db``."""

from __future__ import annotations

from .._redact import redact
from ._model import CheckpointStore

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def open_store(url: str, *, key_prefix: str = "kvs-parser:checkpoint") -> CheckpointStore:
    if url.startswith(REDIS_SCHEMES):
        from ._redis import RedisCheckpointStore

        return RedisCheckpointStore(url, key_prefix=key_prefix)
    if url.startswith("sqlite:"):
        from ._sqlite import SQLiteCheckpointStore

        path = url[len("sqlite:"):]
        if path.startswith("///"):
            path = path[2:]  # sqlite:///abs/path -> /abs/path
        elif path.startswith("//"):
            raise ValueError(f"checkpoint store {url!r}: write sqlite:///absolute/path or sqlite:relative/path")
        return SQLiteCheckpointStore(path)
    raise ValueError(f"checkpoint store {redact(url)!r}: give sqlite:///path.db or redis://host:port/db")
