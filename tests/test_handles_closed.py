"""Handles are closed on the error paths too: a constructor that raises leaves no connection open.

Python 3.13 warns about an unclosed sqlite3.Connection (an error under the suite's filterwarnings), but only
when it is collected; these tests look at the process's open files instead, so they fail on every Python
while the exception (and its traceback, which would keep a leaked connection alive) is still held.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kvs_parser.checkpoint import CheckpointStoreError, SQLiteCheckpointStore


def open_descriptors_on(path: Path) -> list[str]:
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        pytest.skip("needs /proc/self/fd (Linux)")
    found = []
    for entry in os.listdir(fd_dir):
        try:
            target = os.readlink(fd_dir / entry)
        except OSError:  # the descriptor listdir itself used, closed since
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


def test_a_sqlite_store_on_a_file_that_is_not_a_database_raises_and_keeps_nothing_open(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.sqlite"
    path.write_bytes(b"this is not a SQLite database\n" * 200)
    with pytest.raises(CheckpointStoreError, match=r"checkpoint store .*checkpoints\.sqlite") as raised:
        SQLiteCheckpointStore(path)
    assert raised.value.__traceback__ is not None  # held: a leaked connection would still be reachable
    assert open_descriptors_on(path) == []


def test_a_working_sqlite_store_holds_its_file_until_closed(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.sqlite"
    store = SQLiteCheckpointStore(path)
    try:
        assert open_descriptors_on(path), "the check above must see an open store's file"
    finally:
        store.close()
    assert open_descriptors_on(path) == []
