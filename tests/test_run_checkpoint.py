"""`kvs-parser run --checkpoint`: SIGKILL the run at any moment and start it again: every picture produced
meanwhile is delivered, the fragment in flight comes again marked `redelivered`, nothing else twice; on
threads and in worker processes alike."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from delivery_check import Delivery, check_deliveries
from kvs_parser.emulator import Emulator, SyntheticCamera
from same_frames import read_records

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]
TESTS = Path(__file__).resolve().parent
FPS = 16


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_live_stream("door", SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5))
        yield emulator


def start_run(config: Path, workers: int, checkpoint: str, log: Path, run: str) -> subprocess.Popen:
    env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", PYTHONPATH=str(TESTS),
               FRAME_RECORD_LOG=str(log), FRAME_RECORD_HOST=run)
    return subprocess.Popen([sys.executable, "-m", "kvs_parser", "run", "--config", str(config), "--workers",
                             str(workers), "--checkpoint", checkpoint, "--hook", "frame_record_hook:record",
                             "--status-interval", "0.5"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)


def wait_for(log: Path, condition: Callable[[List[Dict[str, Any]]], bool], timeout: float,
             process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        if condition(read_records(log)):
            return
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout} s: {len(read_records(log))} records")


def deliveries(log: Path) -> List[Delivery]:
    return [Delivery(r["index"], r["fragment_number"], r["frame_index"], r["redelivered"], r["host"])
            for r in read_records(log)]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_killed_run_resumes_from_its_checkpoint_losing_nothing(emu: Emulator, tmp_path: Path,
                                                                 workers: int) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text(f"endpoint_url: {emu.endpoint_url}\nregion: us-west-2\noutput: {{pixel_format: rgb24}}\n"
                      "cameras:\n  - {id: door, kvs_stream_name: door, playback: {getmedia: {delivery: complete}}}\n")
    checkpoint, log = f"sqlite:///{tmp_path / 'checkpoints.db'}", tmp_path / "frames.jsonl"
    first = start_run(config, workers, checkpoint, log, "run-0")
    try:
        wait_for(log, lambda records: len(records) >= 3 * FPS // 2, 90, first)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the run and its workers, mid-fragment, no clean-up
        first.communicate()
    killed_at = max(r["index"] for r in read_records(log))
    time.sleep(4)  # 64 pictures are produced while nothing runs

    second = start_run(config, workers, checkpoint, log, "run-1")
    try:
        wait_for(log, lambda records: max(r["index"] for r in records) >= killed_at + 5 * FPS, 90, second)
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=30)
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.communicate()
    assert second.returncode == 0, stderr
    log_records = deliveries(log)
    summary = check_deliveries(log_records)  # nothing lost, repeats only of the in-flight fragment, marked
    assert summary.runs == 2 and summary.last >= killed_at + 5 * FPS
    assert len(summary.marked_fragments) <= 1
    assert all(r.redelivered == (r.fragment in summary.marked_fragments and r.run == "run-1") for r in log_records)


def test_a_second_run_of_the_same_cameras_takes_over_and_the_first_says_so(emu: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text(f"endpoint_url: {emu.endpoint_url}\nregion: us-west-2\noutput: {{pixel_format: rgb24}}\n"
                      "cameras:\n  - {id: door, kvs_stream_name: door}\n")
    checkpoint, log = f"sqlite:///{tmp_path / 'checkpoints.db'}", tmp_path / "frames.jsonl"
    first = start_run(config, 0, checkpoint, log, "run-0")
    second = None
    try:
        wait_for(log, lambda records: len(records) >= FPS, 90, first)
        second = start_run(config, 0, checkpoint, log, "run-1")
        _, first_err = first.communicate(timeout=30)  # ends by itself: its only camera was taken over
        wait_for(log, lambda records: sum(r["host"] == "run-1" for r in records) >= 2 * FPS, 60, second)
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=30)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
    assert first.returncode == 1
    assert "CameraSupersededError" in first_err and "another runner" in first_err, first_err
    records = read_records(log)
    second_started = min(i for i, r in enumerate(records) if r["host"] == "run-1")
    overlap = [r for r in records[second_started:] if r["host"] == "run-0"]
    assert len(overlap) <= FPS // 2, overlap  # the first stopped within one fragment of the second's start
