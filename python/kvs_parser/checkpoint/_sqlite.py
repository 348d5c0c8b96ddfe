"""Checkpoints in one SQLite file: cameras of one machine (several processes may share the file)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Optional, Union

from ._model import Checkpoint, CheckpointStoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    camera_id TEXT PRIMARY KEY,
    fragment_number TEXT NOT NULL,
    continuation_token TEXT,
    producer_time_ms INTEGER,
    in_flight TEXT,
    updated_ms INTEGER NOT NULL
)
"""
# Fragment numbers are decimal strings longer than 64-bit integers: compare by length, then text.
_UPSERT = """
INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT(camera_id) DO UPDATE SET
    fragment_number = excluded.fragment_number, continuation_token = excluded.continuation_token,
    producer_time_ms = excluded.producer_time_ms, in_flight = excluded.in_flight,
    updated_ms = excluded.updated_ms
WHERE length(ltrim(excluded.fragment_number, '0')) > length(ltrim(checkpoints.fragment_number, '0'))
   OR (length(ltrim(excluded.fragment_number, '0')) = length(ltrim(checkpoints.fragment_number, '0'))
       AND ltrim(excluded.fragment_number, '0') >= ltrim(checkpoints.fragment_number, '0'))
"""


class SQLiteCheckpointStore:
    """``CheckpointStore`` on a SQLite file (WAL journal, so readers never block the writers)."""

    def __init__(self, path: Union[str, Path], *, busy_timeout: float = 10.0) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False,
                                       isolation_level=None)
        except sqlite3.Error as error:
            raise CheckpointStoreError(f"checkpoint store {self.path}: {error}") from error
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as error:
            self._db.close()  # no store was made: its connection must not outlive the error
            raise CheckpointStoreError(f"checkpoint store {self.path}: {error}") from error

    def load(self, camera_id: str) -> Optional[Checkpoint]:
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT camera_id, fragment_number, continuation_token, producer_time_ms, in_flight, updated_ms"
                    " FROM checkpoints WHERE camera_id = ?", (camera_id,)).fetchone()
            except sqlite3.Error as error:
                raise CheckpointStoreError(f"checkpoint store {self.path}: {error}") from error
        return None if row is None else Checkpoint(*row)

    def save(self, checkpoint: Checkpoint) -> bool:
        c = checkpoint
        updated = c.updated_ms or int(time.time() * 1000)
        with self._lock:
            try:
                cursor = self._db.execute(_UPSERT, (c.camera_id, c.fragment_number, c.continuation_token,
                                                    c.producer_time_ms, c.in_flight, updated))
            except sqlite3.Error as error:
                raise CheckpointStoreError(f"checkpoint store {self.path}: {error}") from error
        return cursor.rowcount == 1

    def delete(self, camera_id: str) -> None:
        with self._lock:
            try:
                self._db.execute("DELETE FROM checkpoints WHERE camera_id = ?", (camera_id,))
            except sqlite3.Error as error:
                raise CheckpointStoreError(f"checkpoint store {self.path}: {error}") from error

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"SQLiteCheckpointStore({self.path!r})"
