"""`kvs-parser demo`: the README's first command runs the whole pipeline on the embedded emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_demo_streams_decodes_and_writes_snapshots(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "kvs_parser", "demo", "--seconds", "3", "--snapshots", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((out / "latency_summary.json").read_text())
    assert summary["frames_decoded"] >= 20  # 15 fps for 3 s, minus start-up
    assert summary["index_mismatches"] == 0 and summary["index_checked"] == summary["frames_decoded"]
    assert summary["latency_ms"]["count"] > 0
    snapshots = sorted(out.glob("snapshot_*.jpg"))
    assert len(snapshots) == 2
    assert all(p.read_bytes()[:3] == b"\xff\xd8\xff" for p in snapshots)  # JPEG start-of-image
    assert "frame index drawn in the picture matched" in result.stdout
    # the high first latency is explained before the first status line, and its catch-up reported
    assert result.stdout.index("a NOW start begins at the latest fragment's first frame") < result.stdout.index(
        "latency p50"
    )
    catch_up = summary["catch_up"]
    assert catch_up["threshold_ms"] >= 100.0 and catch_up["threshold_ms"] >= 2 * catch_up["steady_p50_ms"]
    assert catch_up["seconds"] is not None and 0.0 <= catch_up["seconds"] < 3.0
    assert 0 <= catch_up["frames"] < summary["frames_decoded"]
    # caught up at the first frame exactly when that frame was already below the threshold
    assert (catch_up["frames"] == 0) == (catch_up["first_latency_ms"] < catch_up["threshold_ms"])
    assert f"catch-up: {catch_up['seconds']:.2f} s until latency fell below {catch_up['threshold_ms']:.1f} ms" in (
        result.stdout
    )


def test_getmedia_stream_hands_tracks_to_a_decoder_before_frames() -> None:
    from kvs_parser.emulator import Emulator, SyntheticCamera
    from kvs_parser.getmedia import GetMediaClient, StartSelector

    seen = []
    with Emulator() as emulator:
        emulator.add_live_stream("cam", SyntheticCamera(fps=30, fragment_duration=0.5, max_frames=30))
        import boto3

        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")
        with GetMediaClient(session, endpoint_url=emulator.endpoint_url) as client:
            stream = client.stream(
                "cam",
                start=StartSelector.earliest(),
                follow=False,
                on_tracks=lambda tracks: seen.append(("tracks", [t.codec_id for t in tracks])),
            )
            for frame in stream.frames():
                seen.append(("frame", frame.pts_ms))
    assert seen[0] == ("tracks", ["V_MPEG4/ISO/AVC"])
    assert [kind for kind, _ in seen].count("tracks") >= 2  # one per fragment
    assert [v for kind, v in seen if kind == "frame"] == [round(i * 1000 / 30) for i in range(30)]
