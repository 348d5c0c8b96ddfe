"""FrameQueue policies under a real slow consumer thread, timeouts, close() and counters."""

from __future__ import annotations

import threading
import time

import pytest

from kvs_parser.queue import Empty, FrameQueue, QueueClosed, QueuePolicy

ITEMS = 200


def run_slow_consumer(q: FrameQueue[int], *, put_timeout: float | None = None) -> tuple[list[int], list[bool], float]:
    """A producer puts ITEMS as fast as it can; a consumer takes one every 2 ms until the queue closes."""
    received: list[int] = []
    accepted: list[bool] = []

    def consume() -> None:
        for item in q:
            received.append(item)
            time.sleep(0.002)

    consumer = threading.Thread(target=consume)
    consumer.start()
    start = time.monotonic()
    for i in range(ITEMS):
        accepted.append(q.put(i) if put_timeout is None else q.put(i, timeout=put_timeout))
    produced_in = time.monotonic() - start
    q.close()
    consumer.join(timeout=10)
    assert not consumer.is_alive()
    return received, accepted, produced_in


def assert_counts_add_up(q: FrameQueue[int], received: list[int]) -> None:
    stats = q.stats
    assert stats.put == ITEMS and stats.got == len(received) and stats.size == 0
    assert stats.put == stats.got + stats.dropped + stats.size


def test_drop_oldest_keeps_the_newest_and_never_blocks() -> None:
    q: FrameQueue[int] = FrameQueue(max_size=5)
    assert q.policy is QueuePolicy.DROP_OLDEST
    received, accepted, produced_in = run_slow_consumer(q)
    assert all(accepted)
    assert received == sorted(received) and received[-5:] == list(range(ITEMS - 5, ITEMS))
    assert q.stats.dropped == ITEMS - len(received) > 0
    assert produced_in < ITEMS * 0.002 / 2  # the producer never waited for the consumer
    assert_counts_add_up(q, received)


def test_drop_newest_keeps_what_is_queued() -> None:
    q: FrameQueue[int] = FrameQueue(max_size=5, policy="drop_newest")
    received, accepted, _ = run_slow_consumer(q)
    assert received == sorted(received) and received[:5] == [0, 1, 2, 3, 4]
    assert [i for i, ok in enumerate(accepted) if ok] == received
    assert not accepted[-1] and q.stats.dropped == accepted.count(False) > 0
    assert_counts_add_up(q, received)


def test_block_applies_back_pressure_and_loses_nothing() -> None:
    q: FrameQueue[int] = FrameQueue(max_size=5, policy=QueuePolicy.BLOCK, timeout=5.0)
    received, accepted, produced_in = run_slow_consumer(q)
    assert received == list(range(ITEMS)) and all(accepted) and q.stats.dropped == 0
    assert produced_in >= (ITEMS - 5) * 0.002 * 0.9  # paced by the consumer
    assert_counts_add_up(q, received)


def test_block_put_times_out_and_counts_a_drop() -> None:
    q: FrameQueue[int] = FrameQueue(max_size=1, policy="block", timeout=0.05)
    assert q.put(1)
    start = time.monotonic()
    assert not q.put(2)
    assert 0.04 <= time.monotonic() - start < 1.0
    assert not q.put(3, timeout=0)
    assert q.stats.dropped == 2 and q.get() == 1


def test_get_times_out_with_empty() -> None:
    q: FrameQueue[int] = FrameQueue(timeout=0.05)
    start = time.monotonic()
    with pytest.raises(Empty):
        q.get()
    assert 0.04 <= time.monotonic() - start < 1.0
    with pytest.raises(Empty):
        q.get(timeout=0)


def test_close_wakes_a_blocked_getter_and_a_blocked_putter() -> None:
    empty: FrameQueue[int] = FrameQueue(timeout=None)
    full: FrameQueue[int] = FrameQueue(max_size=1, policy="block", timeout=None)
    full.put(0)
    errors: list[BaseException] = []

    def wait(call) -> None:
        try:
            call()
        except QueueClosed as error:
            errors.append(error)

    threads = [
        threading.Thread(target=wait, args=(empty.get,)),
        threading.Thread(target=wait, args=(lambda: full.put(1),)),
    ]
    for t in threads:
        t.start()
    time.sleep(0.05)
    assert all(t.is_alive() for t in threads), "both should be waiting"
    empty.close()
    full.close()
    for t in threads:
        t.join(timeout=2)
    assert not any(t.is_alive() for t in threads) and len(errors) == 2
    assert full.get() == 0  # queued items survive close
    with pytest.raises(QueueClosed):
        full.get()
    with pytest.raises(QueueClosed):
        full.put(2)


def test_many_producers_counts_stay_consistent() -> None:
    q: FrameQueue[int] = FrameQueue(max_size=8)
    threads = [threading.Thread(target=lambda: [q.put(i) for i in range(500)]) for _ in range(4)]
    for t in threads:
        t.start()
    got = 0
    while any(t.is_alive() for t in threads) or len(q):
        try:
            q.get(timeout=0.01)
            got += 1
        except Empty:
            pass
    stats = q.stats
    assert stats.put == 2000 and stats.got == got and stats.put == stats.got + stats.dropped + stats.size


@pytest.mark.parametrize("bad", [{"max_size": 0}, {"timeout": -1}, {"policy": "newest"}])
def test_bad_arguments(bad: dict) -> None:
    with pytest.raises(ValueError):
        FrameQueue(**bad)


def test_stats_invariant_holds_while_a_blocking_put_waits_and_after_close() -> None:
    q: FrameQueue[int] = FrameQueue(1, QueuePolicy.BLOCK, timeout=None)
    q.put(0)
    refused: list[bool] = []

    def put_one() -> None:
        try:
            q.put(1)
        except QueueClosed:
            refused.append(True)

    waiting = threading.Thread(target=put_one)
    waiting.start()
    time.sleep(0.2)
    stats = q.stats  # the put of 1 waits for room: not counted yet
    assert waiting.is_alive() and stats.put == stats.got + stats.dropped + stats.size == 1
    q.close()  # the waiting put is refused: never counted
    waiting.join(5)
    stats = q.stats
    assert not waiting.is_alive() and refused == [True]
    assert stats.put == stats.got + stats.dropped + stats.size == 1
