"""StopFlag: set from a signal handler while the main thread waits on it, it never deadlocks."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from kvs_parser._stop_flag import StopFlag

pytestmark = pytest.mark.timeout(60)


def test_wait_times_out_then_sees_a_set_from_another_thread() -> None:
    with StopFlag() as flag:
        started = time.monotonic()
        assert flag.wait(0.05) is False
        assert time.monotonic() - started >= 0.04
        threading.Timer(0.05, flag.set).start()
        assert flag.wait(10) is True
        assert flag.is_set() and flag.wait(0) is True  # stays set


def test_set_by_a_signal_handler_at_any_moment_of_wait_wakes_the_main_thread() -> None:
    """The signal lands at random points of the main thread's wait loop, as SIGTERM does in `kvs-parser run`
    (threading.Event.set() from the handler hangs when it lands while wait() holds the event's lock)."""
    previous = signal.getsignal(signal.SIGALRM)
    try:
        for attempt in range(300):
            with StopFlag() as flag:
                signal.signal(signal.SIGALRM, lambda *_: flag.set())
                signal.setitimer(signal.ITIMER_REAL, 0.0001 + (attempt % 50) * 0.00002)
                deadline = time.monotonic() + 5
                while not flag.wait(0.0005):
                    assert time.monotonic() < deadline, f"attempt {attempt}: the handler's set() was never seen"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_set_after_close_is_harmless() -> None:
    flag = StopFlag()
    flag.close()
    flag.set()  # a late signal after the command finished must not raise in the handler
    assert flag.is_set() and flag.wait(1) is True
