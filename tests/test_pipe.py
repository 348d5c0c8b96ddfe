"""`kvs-parser pipe`: a live emulator stream to stdout as continuous Matroska or Annex B, read by PyAV through
a real pipe; a producer whose clock restarts still gives one monotonic timeline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List

import av
import pytest

from kvs_parser.cli import main
from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.emulator._encode import VideoSpec, encode_gop
from kvs_parser.mkv import CODEC_IDS, Block, FragmentInfo, FragmentWriter, TrackSpec, start_tags

pytestmark = pytest.mark.timeout(60)
ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-west-2"}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_live_stream("cam", SyntheticCamera(width=64, height=48, fps=50, fragment_duration=0.2))
        yield emulator


def piped(emu: Emulator, fmt: str, frames: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "kvs_parser", "pipe", "cam", "--format", fmt, "--endpoint-url",
               emu.endpoint_url, "--start", "earliest", "--max-frames", str(frames)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, env=ENV)


@pytest.mark.parametrize("fmt", ["mkv", "annexb"])
def test_pipe_decodes_every_frame_in_order(emu: Emulator, fmt: str) -> None:
    process = piped(emu, fmt, 45)  # three fragments and a half: Clusters and keyframes of several fragments
    try:
        assert process.stdout is not None
        with av.open(process.stdout, format="matroska" if fmt == "mkv" else "h264") as container:
            pictures = list(container.decode(video=0))
    finally:
        assert process.wait(20) == 0
        assert process.stdout is not None
        process.stdout.close()
    assert [read_index(p.to_ndarray(format="rgb24")) for p in pictures] == list(range(45))
    if fmt == "mkv":
        assert [round(float(p.pts * p.time_base) * 1000) for p in pictures] == [i * 20 for i in range(45)]


def test_pipe_keeps_one_timeline_when_the_producer_restarts(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture
) -> None:
    spec = VideoSpec(width=64, height=48, fps=25)
    gop = encode_gop(spec, 0, 5)
    track = TrackSpec(1, CODEC_IDS["h264"], codec_private=gop.codec_private, width=64, height=48)
    writer = FragmentWriter((track,))
    data = b""
    for n, base in enumerate((5000, 5200, 0, 200)):  # the producer restarts its clock at 0 after 5.4 s
        frames = [Block(1, base + 40 * i, packet, keyframe=i == 0) for i, packet in enumerate(gop.packets)]
        data += writer.fragment(frames, start_tags(FragmentInfo(str(n + 1), 0, 0)))
    source = tmp_path / "restart.mkv"
    source.write_bytes(data)
    assert main(["pipe", str(source)]) == 0
    out = tmp_path / "out.mkv"
    out.write_bytes(capsysbinary.readouterr().out)
    with av.open(str(out)) as container:
        times: List[int] = [round(float(p.pts * p.time_base) * 1000) for p in container.demux(video=0) if p.size]
    assert len(times) == 20 and times == sorted(times) and times[0] == 0 and len(set(times)) == 20
