"""Configuration mistakes fail at once, before any retry, with a message naming the fix; one credentials
rule everywhere: a loopback endpoint_url without credentials gets placeholders (the emulator checks none)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import boto3
import pytest

from kvs_parser.emulator import Emulator, SyntheticCamera
from kvs_parser.getmedia import (
    GetMediaClient,
    InvalidEndpointError,
    MissingCredentialsError,
    NoRegionError,
    StartSelector,
    StreamNotFoundError,
    is_loopback,
    resolve_aws,
)
from kvs_parser.source import KVSGetMediaFrameSource, KVSHLSFrameSource
from test_audio import connect_media

pytestmark = pytest.mark.timeout(60)


def bare_environment() -> Dict[str, str]:
    """The environment without any AWS configuration: no keys, no region, no profile files, no IMDS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    return env


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in bare_environment().items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    yield


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_live_stream("cam", SyntheticCamera(width=96, height=64, fps=15, fragment_duration=0.5))
        tracks, fragments, _ = connect_media()
        emulator.add_frames_stream("call", tracks, fragments, media_type="audio/L16")
        yield emulator


def keys_only() -> boto3.Session:
    return boto3.Session(aws_access_key_id="k", aws_secret_access_key="s")


def test_loopback_detection() -> None:
    assert all(is_loopback(url) for url in ("http://127.0.0.1:4566", "http://127.9.9.9", "http://[::1]:80",
                                            "http://localhost:1234"))
    assert not any(is_loopback(url) for url in (None, "https://kinesisvideo.eu-west-1.amazonaws.com",
                                                "http://10.0.0.5:4566", "http://192.168.1.2"))


def fails_fast(make: Callable[[], Any], kind: type, *words: str) -> None:
    started = time.monotonic()
    with pytest.raises(kind) as caught:
        make()
    assert time.monotonic() - started < 5.0  # at once: no retry loop (8 attempts take 7 s or more)
    assert all(word in str(caught.value) for word in words), str(caught.value)


@pytest.mark.parametrize("make", [
    lambda: GetMediaClient(keys_only()),
    lambda: KVSGetMediaFrameSource("c", "cam", session=keys_only()),
    lambda: KVSHLSFrameSource("c", "cam", session=keys_only()),
], ids=["client", "getmedia-source", "hls-source"])
def test_no_region_fails_at_construction(no_aws: None, make: Callable[[], Any]) -> None:
    fails_fast(make, NoRegionError, "no AWS region", "AWS_REGION")


@pytest.mark.parametrize("make", [
    lambda: GetMediaClient(region_name="eu-west-1"),
    lambda: KVSGetMediaFrameSource("c", "cam", region="eu-west-1"),
    lambda: KVSHLSFrameSource("c", "cam", region="eu-west-1", endpoint_url="http://10.1.2.3:4566"),
], ids=["client", "getmedia-source", "hls-source-remote-endpoint"])
def test_no_credentials_fails_at_construction(no_aws: None, make: Callable[[], Any]) -> None:
    fails_fast(make, MissingCredentialsError, "no AWS credentials", "AWS_ACCESS_KEY_ID")


@pytest.mark.parametrize("url", ["htp://127.0.0.1:4566", "127.0.0.1:4566", "http://", "http://host:99999",
                                 "http://host:port"])
def test_malformed_endpoint_url_fails_at_construction(url: str) -> None:
    fails_fast(lambda: GetMediaClient(keys_only(), region_name="eu-west-1", endpoint_url=url),
               InvalidEndpointError, url, "http://127.0.0.1:4566")
    fails_fast(lambda: KVSGetMediaFrameSource("c", "cam", session=keys_only(), region="eu-west-1", endpoint_url=url),
               InvalidEndpointError)


def test_loopback_endpoint_gets_placeholders_everywhere(no_aws: None, emu: Emulator) -> None:
    target = resolve_aws(endpoint_url=emu.endpoint_url)
    assert target.region and target.session.get_credentials() is not None
    with GetMediaClient(endpoint_url=emu.endpoint_url) as client, \
            client.stream("cam", start=StartSelector.earliest()) as stream:
        assert next(iter(stream.frames())).track_number == 1  # signed with placeholders, accepted
    with KVSGetMediaFrameSource("c", "cam", endpoint_url=emu.endpoint_url, start_selector="earliest") as source:
        assert source.read(timeout=20).image.shape == (64, 96, 3)


def test_given_credentials_are_kept_on_loopback(emu: Emulator) -> None:
    session = boto3.Session(aws_access_key_id="mine", aws_secret_access_key="s", region_name="ap-south-1")
    target = resolve_aws(session, endpoint_url=emu.endpoint_url)
    assert target.session is session and target.region == "ap-south-1"


def test_unknown_stream_fails_without_retrying(emu: Emulator) -> None:
    with GetMediaClient(keys_only(), region_name="us-west-2", endpoint_url=emu.endpoint_url) as client:
        stream = client.stream("no-such-stream")
        started = time.monotonic()
        with pytest.raises(StreamNotFoundError):
            next(iter(stream.frames()))
        assert time.monotonic() - started < 5.0 and stream.counters.resets == 0


def kvs_parser(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The command with no AWS configuration; stdout kept as bytes (pipe writes MKV), stderr as text."""
    result = subprocess.run([sys.executable, "-m", "kvs_parser", *args], capture_output=True, timeout=timeout,
                            env=bare_environment(), check=False)
    result.stderr = result.stderr.decode(errors="replace")
    return result


@pytest.mark.parametrize("command", ["pipe", "audio", "frames"])
def test_commands_use_the_same_rule(emu: Emulator, command: str, tmp_path: Path) -> None:
    """No AWS configuration at all: every command reads the emulator with placeholders."""
    stream, *out = {"pipe": ["cam", "--max-frames", "3"], "audio": ["call", "--out", str(tmp_path / "x.wav")],
                    "frames": ["cam", "--out", str(tmp_path), "--max", "2"]}[command]
    result = kvs_parser(command, stream, "--endpoint-url", emu.endpoint_url, "--start", "earliest", *out)
    assert result.returncode == 0, result.stderr
    assert "NotAuthorized" not in result.stderr and "Traceback" not in result.stderr


def test_commands_without_region_fail_at_once_with_the_fix() -> None:
    started = time.monotonic()
    result = kvs_parser("pipe", "cam")
    assert time.monotonic() - started < 20  # interpreter start-up included; no retries
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kvs-parser pipe: no AWS credentials found")


def test_unreachable_endpoint_is_bounded_and_says_what_it_waits_for() -> None:
    started = time.monotonic()
    result = kvs_parser("pipe", "cam", "--endpoint-url", "http://127.0.0.1:9", timeout=90)
    assert time.monotonic() - started < 60
    assert result.returncode == 1 and "Traceback" not in result.stderr
    retries = [line for line in result.stderr.splitlines() if "retrying in" in line]
    assert len(retries) == 8 and "(attempt 1 of 8)" in retries[0] and "connect failed" in retries[0]
    assert result.stderr.strip().splitlines()[-1].startswith("kvs-parser pipe: RetriesExhaustedError")
    assert "last error: EndpointConnectionError" in result.stderr
