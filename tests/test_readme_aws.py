"""The README's IAM policies ("From the emulator to your own AWS stream") are exactly what the package calls:
each use, run against the emulator as the README shows it, calls the actions of its policy and no other."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Set

import boto3
import pytest

from conftest import PROJECT_ROOT
from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.source import KVSHLSFrameSource

pytestmark = pytest.mark.timeout(120)

if not (PROJECT_ROOT / "README.md").is_file():  # the suite copied out of the tree to test an installed wheel
    pytest.skip("a source-tree test: README.md is not here", allow_module_level=True)

STREAM_ARN = re.compile(r"^arn:aws:kinesisvideo:[a-z0-9-]+:\d{12}:stream/[A-Za-z0-9_.-]+/\*$")


def aws_section() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    return readme.split("## From the emulator to your own AWS stream", 1)[1].split("\n## ", 1)[0]


def readme_policies() -> Dict[str, Set[str]]:
    """Each policy's Sid -> its actions (without the kinesisvideo: prefix)."""
    policies = {}
    for block in re.findall(r"```json\n(.*?)```", aws_section(), re.S):
        policy = json.loads(block)
        assert policy["Version"] == "2012-10-17"
        (statement,) = policy["Statement"]
        assert statement["Effect"] == "Allow" and STREAM_ARN.match(statement["Resource"]), statement
        assert all(action.startswith("kinesisvideo:") for action in statement["Action"])
        policies[statement["Sid"]] = {action.split(":", 1)[1] for action in statement["Action"]}
    return policies


def operations(emulator: Emulator, stream: str) -> Set[str]:
    """The operations the emulator served for `stream` (HLS fetches count for their session's stream)."""
    with emulator.faults.lock:
        return {operation for operation, name in emulator.faults.calls if name == stream}


def cli(*args: str, stdin: bytes = b"") -> bytes:
    result = subprocess.run([sys.executable, "-m", "kvs_parser", *args], input=stdin, capture_output=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def finished(emulator: Emulator, name: str, frames: int = 20) -> None:
    stream = emulator.add_live_stream(name, SyntheticCamera(width=96, height=64, fps=20, fragment_duration=0.5,
                                                            max_frames=frames))
    deadline = time.monotonic() + 10
    while not stream.closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stream.closed


def hls_frames(emulator: Emulator, name: str, start: str, container_format: str) -> List[int]:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")
    with KVSHLSFrameSource(name, name, session=session, endpoint_url=emulator.endpoint_url, start_selector=start,
                           container_format=container_format, pixel_format="rgb24") as source:
        return [read_index(source.read(timeout=15).image) for _ in range(3)]


def test_the_readme_has_a_policy_per_use() -> None:
    assert set(readme_policies()) == {"GetMediaLive", "GetMediaArchived", "HlsFallback"}


def test_live_and_archived_getmedia_call_exactly_their_policies_actions(tmp_path: Path) -> None:
    policies = readme_policies()
    with Emulator() as emulator:
        live = SyntheticCamera(width=96, height=64, fps=20, fragment_duration=0.5)
        emulator.add_live_stream("live-frames", live)
        emulator.add_live_stream("live-pipe", SyntheticCamera(width=96, height=64, fps=20, fragment_duration=0.5))
        finished(emulator, "archive")
        url = emulator.endpoint_url
        cli("frames", "live-frames", "--endpoint-url", url, "--out", str(tmp_path / "live"), "--max", "3")
        # the README's `kvs-parser pipe ... | kvs-parser inspect -`
        summary = cli("inspect", "-", stdin=cli("pipe", "live-pipe", "--endpoint-url", url, "--max-frames", "10"))
        assert b"codec_id='V_MPEG4/ISO/AVC', pixel_width=96, pixel_height=64" in summary and b"frames=10" in summary
        cli("frames", "archive", "--endpoint-url", url, "--start", "earliest", "--out", str(tmp_path / "archived"),
            "--max", "3")
        assert operations(emulator, "live-frames") == operations(emulator, "live-pipe") == policies["GetMediaLive"]
        assert operations(emulator, "archive") == policies["GetMediaArchived"]
    assert len(list((tmp_path / "live").iterdir())) == len(list((tmp_path / "archived").iterdir())) == 3


def test_the_hls_fallback_calls_exactly_its_policys_actions() -> None:
    policy = readme_policies()["HlsFallback"]
    with Emulator() as emulator:
        emulator.add_live_stream("hls-live", SyntheticCamera(width=96, height=64, fps=20, fragment_duration=0.5))
        finished(emulator, "hls-mp4")
        finished(emulator, "hls-ts")
        assert len(hls_frames(emulator, "hls-live", "NOW", "FRAGMENTED_MP4")) == 3
        assert hls_frames(emulator, "hls-mp4", "EARLIEST", "FRAGMENTED_MP4") == [0, 1, 2]
        assert hls_frames(emulator, "hls-ts", "EARLIEST", "MPEG_TS") == [0, 1, 2]
        used = {name: operations(emulator, name) for name in ("hls-live", "hls-mp4", "hls-ts")}
    assert "DescribeStream" not in used["hls-live"] and "DescribeStream" in used["hls-mp4"]  # EARLIEST only
    assert "GetTSFragment" in used["hls-ts"] and "GetTSFragment" not in used["hls-mp4"]
    assert set().union(*used.values()) == policy
