"""`kvs-parser inspect` on a hostile stream: control characters in tag strings, the continuation token,
the fragment number or a track's CodecID reach the terminal escaped (`\\x1b`), never as the
escape sequences a hostile producer wrote (`ESC]0;title BEL` sets a terminal's title, `ESC[2J` clears it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kvs_parser.mkv import (
    TRACK_TYPE_VIDEO,
    Block,
    FragmentInfo,
    FragmentWriter,
    TrackSpec,
    end_tags,
    error_tags,
    start_tags,
)

pytestmark = pytest.mark.timeout(60)
TITLE, CLEAR, CSI_C1, BELL = "\x1b]0;pwned\x07", "\x1b[2J", "\x9b31m", "\x07"
HOSTILE = f"{TITLE}{CLEAR}{CSI_C1}\u202e"


def hostile_capture(path: Path) -> Path:
    track = TrackSpec(number=1, uid=1, codec_id="V_MPEG4/ISO/AVC" + CLEAR, track_type=TRACK_TYPE_VIDEO,
                      codec_private=b"\x01\x64\x00\x1f\xff\xe0\x00", width=64, height=48, name="cam" + TITLE)
    frames = [Block(1, i * 40, b"\x00\x00\x00\x02\x65\x88", keyframe=i == 0) for i in range(3)]
    writer = FragmentWriter([track])
    first = writer.fragment(frames, start_tags(FragmentInfo("91343852" + HOSTILE, 0, 0)),
                            end_tags(1000, "token" + HOSTILE))
    failed = writer.fragment([], error_tags(4000, "Requested fragment " + HOSTILE))
    path.write_bytes(first + failed)
    return path


def test_printable_escapes_control_and_format_characters_only() -> None:
    from kvs_parser.commands._printable import printable

    assert printable("tab\tnew\nline café ünï 日本") == "tab\\tnew\\nline café ünï 日本"
    assert printable(HOSTILE) == "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e"


def test_inspect_prints_no_control_character(tmp_path: Path) -> None:
    capture = hostile_capture(tmp_path / "hostile.mkv")
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "inspect", str(capture)], capture_output=True,
                            timeout=60, check=False)
    out = result.stdout.decode("utf-8")
    assert "token\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e" in out, out  # the token, escaped
    assert "V_MPEG4/ISO/AVC\\x1b[2J" in out  # the track's CodecID
    assert "fragment_number='91343852\\x1b]0;pwned\\x07" in out
    assert "Requested fragment \\x1b]0;pwned" in out  # the error fragment's ERROR_CODE text
    lines = out.split("\n")
    assert all(ch.isprintable() for line in lines for ch in line), [line for line in lines if not line.isprintable()]
