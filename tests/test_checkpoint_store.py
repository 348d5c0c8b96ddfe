"""Checkpoint stores: SQLite on a file and Redis on a real redis-server, behind one interface."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from kvs_parser.checkpoint import (
    Checkpoint,
    CheckpointStore,
    CheckpointStoreError,
    SQLiteCheckpointStore,
    fragment_order,
    open_store,
)
from redis_server import RedisServer

pytestmark = pytest.mark.timeout(60)

# KVS fragment numbers are decimal strings far beyond 64 bits; these differ in length and in digits.
OLD = "91343852333181432392682062607743920146159169392"
NEW = "91343852333181432392682062607743920146159169393"
LONGER = "191343852333181432392682062607743920146159169392"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CheckpointStore]:
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'checkpoints.db'}")
    else:
        server = request.getfixturevalue("redis_server")
        opened = open_store(server.url, key_prefix=f"test:{request.node.name}")
    yield opened
    opened.close()


def test_a_saved_checkpoint_loads_back_field_for_field(store: CheckpointStore) -> None:
    assert store.load("door") is None
    saved = Checkpoint("door", OLD, "token-1", 1_700_000_000_123, in_flight=None, updated_ms=42)
    assert store.save(saved)
    assert store.load("door") == saved
    assert store.load("yard") is None


def test_an_in_flight_mark_keeps_the_fragment_and_a_newer_fragment_replaces_it(store: CheckpointStore) -> None:
    assert store.save(Checkpoint("door", OLD, "token-1", 1000, updated_ms=1))
    assert store.save(Checkpoint("door", OLD, "token-1", 1000, in_flight=NEW, updated_ms=2))
    assert store.load("door") == Checkpoint("door", OLD, "token-1", 1000, in_flight=NEW, updated_ms=2)
    assert store.save(Checkpoint("door", NEW, None, None, updated_ms=3))
    assert store.load("door") == Checkpoint("door", NEW, None, None, None, 3)  # no stale token or mark left


def test_an_older_fragment_is_refused(store: CheckpointStore) -> None:
    assert store.save(Checkpoint("door", LONGER, "token-2", 2000, updated_ms=5))
    assert not store.save(Checkpoint("door", NEW, "token-1", 1000, updated_ms=6))  # shorter: older
    assert store.load("door") == Checkpoint("door", LONGER, "token-2", 2000, updated_ms=5)


def test_the_first_in_flight_mark_has_no_fragment_and_any_fragment_follows_it(store: CheckpointStore) -> None:
    assert store.save(Checkpoint("door", "", None, 1000, in_flight=OLD, updated_ms=1))
    assert store.load("door") == Checkpoint("door", "", None, 1000, in_flight=OLD, updated_ms=1)
    assert store.save(Checkpoint("door", OLD, "token-1", 1000, updated_ms=2))
    assert not store.save(Checkpoint("door", "", None, 900, in_flight=OLD, updated_ms=3))


def test_delete_forgets_one_camera(store: CheckpointStore) -> None:
    store.save(Checkpoint("door", OLD))
    store.save(Checkpoint("yard", OLD))
    store.delete("door")
    assert store.load("door") is None
    assert store.load("yard") is not None


def test_fragment_order_compares_long_decimal_numbers() -> None:
    assert fragment_order(OLD) < fragment_order(NEW) < fragment_order(LONGER)
    assert fragment_order("") < fragment_order("1") == fragment_order("0001")


def test_sqlite_checkpoints_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with_file = SQLiteCheckpointStore(path)
    with_file.save(Checkpoint("door", OLD, "t", 5, updated_ms=7))
    with_file.close()
    reopened = SQLiteCheckpointStore(path)
    assert reopened.load("door") == Checkpoint("door", OLD, "t", 5, updated_ms=7)
    reopened.close()


def test_an_unreachable_redis_raises_a_typed_error_and_works_again_when_back() -> None:
    with RedisServer() as server:
        store = open_store(server.url)
        store.save(Checkpoint("door", OLD, updated_ms=1))
        server.stop()
        with pytest.raises(CheckpointStoreError, match="checkpoint store redis://"):
            store.save(Checkpoint("door", NEW))
        with pytest.raises(CheckpointStoreError):
            store.load("door")
        server.start()  # no persistence: the restarted server is empty, and usable again
        assert store.save(Checkpoint("door", NEW, updated_ms=2))
        assert store.load("door") == Checkpoint("door", NEW, updated_ms=2)
        store.close()


@pytest.mark.parametrize("url", ["postgres://x", "sqlite://host/path", "checkpoints.db"])
def test_an_unknown_store_url_is_a_clear_error(url: str) -> None:
    with pytest.raises(ValueError, match="checkpoint store"):
        open_store(url)


def test_an_unwritable_sqlite_path_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointStoreError):
        SQLiteCheckpointStore(tmp_path / "missing-dir" / "c.db")


def test_a_lease_fences_the_runner_it_supersedes(store: CheckpointStore) -> None:
    first = store.acquire("door", "host-a:1")
    assert store.save(Checkpoint("door", OLD, epoch=first, owner="host-a:1"))
    second = store.acquire("door", "host-b:2")
    assert second == first + 1
    assert not store.save(Checkpoint("door", NEW, epoch=first, owner="host-a:1"))  # superseded, even ahead
    assert store.save(Checkpoint("door", OLD, in_flight=NEW, epoch=second, owner="host-b:2"))
    kept = store.load("door")
    assert kept is not None and (kept.epoch, kept.owner, kept.in_flight) == (second, "host-b:2", NEW)


def test_a_record_lost_while_running_is_written_back_with_its_lease(store: CheckpointStore) -> None:
    epoch = store.acquire("door", "host-a:1")
    store.delete("door")  # e.g. a Redis restarted without persistence
    assert store.save(Checkpoint("door", OLD, epoch=epoch, owner="host-a:1"))
    assert store.acquire("door", "host-b:2") == epoch + 1  # the next runner still fences the first
    assert not store.save(Checkpoint("door", NEW, epoch=epoch, owner="host-a:1"))
