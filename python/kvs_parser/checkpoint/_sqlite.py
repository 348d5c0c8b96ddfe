"""Checkpoints in one SQLite file: cameras of one machine (several processes may share the file)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Optional, Union

from ._model import Checkpoint, CheckpointStoreError, validated

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    camera_id TEXT PRIMARY KEY,
    fragment_number TEXT NOT NULL,
    continuation_token TEXT,
    producer_time_ms INTEGER,
    in_flight TEXT,
    updated_ms INTEGER NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    owner TEXT NOT NULL DEFAULT ''
)
"""
_COLUMNS = ("camera_id", "fragment_number", "continuation_token", "producer_time_ms", "in_flight", "updated_ms",
            "epoch", "owner")
# A writer whose lease was taken (a lower epoch) is refused; so is an older fragment. Fragment numbers are
# decimal strings longer than 64-bit integers: compared by length, then as text.
_UPSERT = """
INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(camera_id) DO UPDATE SET
    fragment_number = excluded.fragment_number, continuation_token = excluded.continuation_token,
    producer_time_ms = excluded.producer_time_ms, in_flight = excluded.in_flight,
    updated_ms = excluded.updated_ms, epoch = excluded.epoch, owner = excluded.owner
WHERE excluded.epoch >= checkpoints.epoch AND (
    length(ltrim(excluded.fragment_number, '0')) > length(ltrim(checkpoints.fragment_number, '0'))
    OR (length(ltrim(excluded.fragment_number, '0')) = length(ltrim(checkpoints.fragment_number, '0'))
        AND ltrim(excluded.fragment_number, '0') >= ltrim(checkpoints.fragment_number, '0')))
"""
_ACQUIRE = """
INSERT INTO checkpoints (camera_id, fragment_number, updated_ms, epoch, owner) VALUES (?, '', ?, 1, ?)
ON CONFLICT(camera_id) DO UPDATE SET epoch = checkpoints.epoch + 1, owner = excluded.owner
"""


class SQLiteCheckpointStore:
    """``CheckpointStore`` on a SQLite file (WAL journal, so readers never block the writers)."""

    def __init__(self, path: Union[str, Path], *, busy_timeout: float = 10.0) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        db: Optional[sqlite3.Connection] = None
        try:
            db = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(checkpoints)")}
            for column, kind in (("epoch", "INTEGER NOT NULL DEFAULT 0"), ("owner", "TEXT NOT NULL DEFAULT ''")):
                if column not in present:  # a file written before leases existed
                    db.execute(f"ALTER TABLE checkpoints ADD COLUMN {column} {kind}")
        except sqlite3.Error as error:
            if db is not None:
                db.close()
            raise CheckpointStoreError(f"checkpoint store {self.path}: {error}") from error
        self._db = db

    def _error(self, error: sqlite3.Error) -> CheckpointStoreError:
        return CheckpointStoreError(f"checkpoint store {self.path}: {error}")

    def acquire(self, camera_id: str, owner: str) -> int:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.execute(_ACQUIRE, (camera_id, int(time.time() * 1000), owner))
                    row = self._db.execute("SELECT epoch FROM checkpoints WHERE camera_id = ?",
                                           (camera_id,)).fetchone()
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                raise self._error(error) from error
        return int(validated(camera_id, {"fragment_number": "", "updated_ms": 0, "epoch": row[0]},
                             self.path).epoch)

    def load(self, camera_id: str) -> Optional[Checkpoint]:
        with self._lock:
            try:
                row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM checkpoints WHERE camera_id = ?",
                                       (camera_id,)).fetchone()
            except sqlite3.Error as error:
                raise self._error(error) from error
        return None if row is None else validated(camera_id, dict(zip(_COLUMNS, row)), self.path)

    def save(self, checkpoint: Checkpoint) -> bool:
        c = checkpoint
        updated = c.updated_ms or int(time.time() * 1000)
        with self._lock:
            try:
                cursor = self._db.execute(_UPSERT, (c.camera_id, c.fragment_number, c.continuation_token,
                                                    c.producer_time_ms, c.in_flight, updated, c.epoch, c.owner))
            except sqlite3.Error as error:
                raise self._error(error) from error
        return cursor.rowcount == 1

    def delete(self, camera_id: str) -> None:
        with self._lock:
            try:
                self._db.execute("DELETE FROM checkpoints WHERE camera_id = ?", (camera_id,))
            except sqlite3.Error as error:
                raise self._error(error) from error

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"SQLiteCheckpointStore({self.path!r})"
