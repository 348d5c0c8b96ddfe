"""`kvs-parser inspect`: the readable summary and the golden-schema JSON, from a file or stdin."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import require_fixtures
from test_conformance import compare, load_golden


def run_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kvs_parser", *args], input=stdin, capture_output=True, timeout=120, check=False
    )


def test_inspect_json_from_stdin_matches_the_java_golden() -> None:
    root = require_fixtures()
    name = "kinesis_video_renderer_example_output"
    result = run_cli("inspect", "--json", "-", stdin=(root / "kvs" / f"{name}.mkv").read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    compare(json.loads(result.stdout), load_golden(name))


def test_inspect_summary_lists_fragments_tracks_and_frames() -> None:
    root = require_fixtures()
    result = run_cli("inspect", str(root / "kvs" / "output_get_media.mkv"))
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert text.count("+ Segment #") == 5
    assert "codec_id='V_MPEG4/ISO/AVC'" in text and "pixel_width=640" in text
    assert "continuation_token: 91343852333181432392682062607743920146159169392" in text
    assert text.rstrip().endswith("5 fragment(s), 2503485 bytes, 0 error(s)")


def test_inspect_reports_a_truncated_stream_and_exits_non_zero() -> None:
    root = require_fixtures()
    result = run_cli("inspect", str(root / "kvs" / "output-get-media-equal-timecode.mkv"))
    assert result.returncode == 1
    assert "truncated at byte 1272988 in Segment/Cluster/SimpleBlock" in result.stdout.decode()
