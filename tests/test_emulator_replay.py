"""A user's recording replayed as a live camera: realistic content, looping, pacing, fresh fragments."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import List

import boto3
import numpy as np
import pytest

from kvs_parser.emulator import Emulator, SceneSpec, hevc_available, load_file, recording
from kvs_parser.emulator import describe_recording as describe
from kvs_parser.source import KVSGetMediaFrameSource, SourceFrame

pytestmark = pytest.mark.timeout(120)


def fake_session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")


SMALL = SceneSpec("h264", 320, 240, fps=15, bitrate=400_000, gop_seconds=1.0, seconds=2.0)


@pytest.fixture(scope="session")
def small_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recording(SMALL, tmp_path_factory.mktemp("media"))


def read_all(emu: Emulator, stream: str, count: int, seconds: float) -> List[SourceFrame]:
    frames: List[SourceFrame] = []
    with KVSGetMediaFrameSource(stream, stream_name=stream, session=fake_session(), start_selector="EARLIEST",
                                endpoint_url=emu.endpoint_url, queue_max_size=200, queue_policy="block") as source:
        deadline = time.monotonic() + seconds
        for frame in source:
            frames.append(frame)
            if len(frames) >= count or time.monotonic() > deadline:
                break
    return frames


def test_recordings_are_encoded_like_cameras(small_recording: Path) -> None:
    info = describe(small_recording)
    assert (info["codec"], info["profile"], info["width"], info["height"]) == ("h264", "High", 320, 240)
    assert (info["frames"], info["gop_frames"], info["fps"]) == (30, 15, 15.0)
    assert 200 < info["kbit_s"] < 600
    assert recording(SMALL, small_recording.parent) == small_recording  # cached, not encoded again
    with pytest.raises(ValueError, match="CABAC"):
        SceneSpec(preset="ultrafast")


def test_a_recording_replays_as_a_live_camera_in_a_loop(small_recording: Path) -> None:
    with Emulator() as emu:
        started = time.monotonic()
        emu.add_replay_stream("mine", str(small_recording), passes=2)
        frames = read_all(emu, "mine", 60, 30)
        elapsed = time.monotonic() - started
    assert len(frames) == 60
    assert elapsed > 3.0, "paced at its 15 fps: two passes of 2 s take about 4 s"
    pts = [f.pts_ms for f in frames]
    assert pts == sorted(pts) and len(set(pts)) == 60, "timecodes keep growing across passes"
    numbers = [f.fragment_number for f in frames]
    assert len(set(numbers)) == 4, "each pass makes new fragments (GOP of 1 s: two per pass)"
    producer = [f.producer_timestamp_ms for f in frames[::15]]
    assert all(b - a >= 900 for a, b in zip(producer, producer[1:])), "fresh producer times per fragment"
    for first, again in zip(frames[:30], frames[30:]):  # the same pictures on the second pass
        assert np.abs(first.image.astype(int) - again.image.astype(int)).max() == 0


def test_a_phase_delays_the_first_frame_so_cameras_keyframes_spread(small_recording: Path) -> None:
    with Emulator() as emu:
        media = load_file(str(small_recording))
        emu.add_replay_stream("now", media, passes=1)
        emu.add_replay_stream("later", media, passes=1, phase_ms=700)
        now, later = read_all(emu, "now", 1, 30), read_all(emu, "later", 1, 30)
    assert now[0].is_keyframe and later[0].is_keyframe
    assert now[0].producer_timestamp_ms is not None and later[0].producer_timestamp_ms is not None
    gap = later[0].producer_timestamp_ms - now[0].producer_timestamp_ms
    assert 650 <= gap <= 1200, f"the second stream's first keyframe {gap} ms after the first's"


@pytest.mark.skipif(not hevc_available(), reason="this FFmpeg has no libx265")
def test_hevc_recordings_replay_too(tmp_path: Path) -> None:
    spec = SceneSpec("hevc", 320, 240, fps=15, bitrate=300_000, gop_seconds=1.0, seconds=1.0)
    path = recording(spec, tmp_path)
    assert describe(path)["profile"] == "Main"
    assert load_file(str(path)).tracks[0].codec_id == "V_MPEGH/ISO/HEVC"
    with Emulator() as emu:
        emu.add_replay_stream("h265", str(path), passes=1)
        frames = read_all(emu, "h265", 15, 30)
    assert len(frames) == 15 and frames[0].image.shape == (240, 320, 3)


def test_emulate_live_name_equals_file(small_recording: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "kvs_parser", "emulate", "--live", f"door={small_recording}",
                             "--fragment-duration", "1", "--port", "0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
    try:
        assert url.startswith("http://127.0.0.1:"), url
        frames: List[SourceFrame] = []
        with KVSGetMediaFrameSource("door", stream_name="door", session=fake_session(), start_selector="EARLIEST",
                                    endpoint_url=url, queue_max_size=100, queue_policy="block") as source:
            deadline = time.monotonic() + 30
            for frame in source:
                frames.append(frame)
                if len(frames) >= 40 or time.monotonic() > deadline:
                    break
        assert len(frames) == 40, "more than one pass of the 30-frame recording"
        assert frames[0].image.shape == (240, 320, 3)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # also closes its stdout pipe
