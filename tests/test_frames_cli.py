"""`kvs-parser frames`: decoded frames saved as images, with nothing configured (--emulate)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import pytest

from kvs_parser.emulator import read_index

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
