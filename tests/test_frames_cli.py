"""`kvs-parser frames`: decoded frames saved as images, with nothing configured (--emulate)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import av
import pytest

from kvs_parser.cli import main
from kvs_parser.emulator import Emulator, read_index

pytestmark = pytest.mark.timeout(90)


@pytest.mark.parametrize(("fmt", "magic"), [("jpg", b"\xff\xd8\xff"), ("png", b"\x89PNG\r\n\x1a\n")])
def test_frames_emulate_writes_images(tmp_path: Path, fmt: str, magic: bytes) -> None:
    out = tmp_path / "frames"
    result = subprocess.run(
        [sys.executable, "-m", "kvs_parser", "frames", "cam", "--emulate", "--out", str(out), "--every", "3",
         "--max", "3", "--format", fmt, "--start", "earliest"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    files = sorted(out.glob(f"cam_*.{fmt}"))
    assert len(files) == 3 and all(f.read_bytes().startswith(magic) for f in files)
    indices = []
    for path in files:
        with av.open(str(path)) as container:
            picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
        assert picture.shape == (240, 320, 3)
        indices.append(read_index(picture, tolerance=100))
    assert indices == [0, 3, 6]  # every third frame from the stream's start (15 fps synthetic camera)


def test_frames_of_equal_timestamps_each_get_their_own_file(tmp_path: Path, fixtures: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    # The capture's two fragments both start at timecode 0: frame k and frame k+120 share a timestamp.
    credentials = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-west-2"}
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "frames"
    command = ["frames", "eq", "--out", str(out), "--every", "10", "--start", "earliest"]
    with Emulator() as emu:
        emu.add_file_stream("eq", str(fixtures / "kvs" / "output-get-media-equal-timecode.mkv"))
        assert main([*command, "--endpoint-url", emu.endpoint_url]) == 0
        first = sorted(out.glob("eq_*.jpg"))
        said = re.search(r"saved (\d+) jpg files", capsys.readouterr().out)
        assert said is not None and int(said.group(1)) == len(first) == 24, [f.name for f in first]
        stems = {f.name.split("-")[0].removesuffix(".jpg") for f in first}
        assert len(stems) == 12, "12 timestamps, each shared by two frames"
        # A second run into the same directory keeps the first run's files, untouched.
        contents = {f: f.read_bytes() for f in first}
        assert main([*command, "--endpoint-url", emu.endpoint_url, "--max", "3"]) == 0
    assert len(list(out.glob("eq_*.jpg"))) == 24 + 3
    assert all(f.read_bytes() == data for f, data in contents.items())
