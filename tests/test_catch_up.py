"""The demo's catch-up time: from the first decoded picture until latency first falls below the threshold."""

from __future__ import annotations

import pytest

from kvs_parser.commands._catch_up import CatchUpRecorder


def record_all(recorder: CatchUpRecorder, samples: list[tuple[float, float]]) -> None:
    for when, latency in samples:
        recorder.record(latency, now=when)


def test_a_now_start_catches_up_when_the_backlog_is_decoded() -> None:
    # 15 fps; the first 8 frames arrive together from a fragment 800 ms old, then the steady ~5 ms
    backlog = [(10.0 + i * 0.01, 800.0 - i * 66.7) for i in range(8)]
    steady = [(10.1 + i / 15, 5.0 + (i % 3)) for i in range(40)]
    recorder = CatchUpRecorder()
    record_all(recorder, backlog + steady)
    result = recorder.result()
    assert result.first_latency_ms == 800.0
    assert result.steady_p50_ms == 6.0
    assert result.threshold_ms == 100.0  # 2 x 6 ms is under the 100 ms floor
    # 800 - 7 x 66.7 = 333 ms is still above it: the first frame below is the first steady one
    assert result.frames == 8
    assert result.seconds == pytest.approx(0.1)


def test_the_threshold_is_twice_the_steady_p50_when_that_is_higher() -> None:
    samples = [(0.0, 900.0), (0.1, 500.0), (0.2, 150.0)] + [(0.3 + i * 0.1, 80.0) for i in range(10)]
    recorder = CatchUpRecorder()
    record_all(recorder, samples)
    result = recorder.result()
    assert result.threshold_ms == 160.0
    assert result.frames == 2 and result.seconds == pytest.approx(0.2)  # 150 ms < 160 ms


def test_a_start_already_at_steady_latency_catches_up_at_once() -> None:
    recorder = CatchUpRecorder()
    record_all(recorder, [(5.0 + i, 4.0) for i in range(6)])
    result = recorder.result()
    assert (result.seconds, result.frames) == (0.0, 0)


def test_never_caught_up_and_no_samples_are_reported_as_none() -> None:
    lagging = CatchUpRecorder(floor_ms=100.0, factor=1.0)
    record_all(lagging, [(0.0, 400.0), (1.0, 300.0), (2.0, 300.0), (3.0, 300.0)])
    result = lagging.result()
    assert result.threshold_ms == 300.0 and result.seconds is None and result.frames is None
    empty = CatchUpRecorder().result()
    assert empty.first_latency_ms is None and empty.threshold_ms is None and empty.seconds is None


def test_memory_is_bounded_by_the_capacity() -> None:
    recorder = CatchUpRecorder(capacity=10)
    record_all(recorder, [(0.0, 500.0)] + [(1.0 + i, 3.0) for i in range(1000)])
    result = recorder.result()
    assert result.frames == 1 and result.steady_p50_ms == 3.0
    assert len(recorder._samples) == 10
    with pytest.raises(ValueError, match="capacity"):
        CatchUpRecorder(capacity=1)
