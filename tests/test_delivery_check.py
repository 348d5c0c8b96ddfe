"""The delivery checker the checkpoint and Ray tests rely on catches each kind of failure."""

from __future__ import annotations

import pytest

from delivery_check import Delivery, check_deliveries


def fragment(name: str, first: int, count: int, run: str, redelivered: bool = False) -> list:
    return [Delivery(first + i, name, i, redelivered, run) for i in range(count)]


def test_a_clean_restart_passes_and_is_summarised() -> None:
    log = [*fragment("1", 0, 4, "a"), *fragment("2", 4, 2, "a"), *fragment("2", 4, 4, "b", True),
           *fragment("3", 8, 4, "b")]
    summary = check_deliveries(log)
    assert (summary.frames, summary.repeated, summary.marked_fragments, summary.runs) == (12, 2, ("2",), 2)


@pytest.mark.parametrize(("log", "message"), [
    (fragment("1", 0, 4, "a") + fragment("3", 8, 4, "a"), "frames lost"),
    (fragment("1", 0, 4, "a") + fragment("1", 0, 4, "b"), "without the redelivered mark"),
    (fragment("1", 0, 4, "a") + fragment("2", 4, 4, "b") + fragment("3", 8, 4, "b", True), "outside the first"),
    ([*fragment("1", 0, 4, "a"), Delivery(5, "2", 0, False, "a")], "frames lost"),
    ([*fragment("1", 0, 4, "a"), Delivery(4, "1", 0, False, "a")], "has index 0"),
    ([], "nothing was delivered"),
])
def test_each_kind_of_failure_is_caught(log: list, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_deliveries(log)
