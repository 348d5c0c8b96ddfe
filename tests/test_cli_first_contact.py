"""The CLI a newcomer meets: one-line failures with exit 2 (usage/config) or 1 (runtime), tracebacks only
with --debug, every option explained with its default, one --start spelling, hooks from the current
directory, and `frames` that says what it does and ends at a finished stream's end."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List

import av
import pytest

from kvs_parser.camera import load_hook
from kvs_parser.cli import COMMANDS, build_parser
from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.getmedia import StartSelector

pytestmark = pytest.mark.timeout(90)


def kvs_parser(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env_keys = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    return subprocess.run([sys.executable, "-m", "kvs_parser", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=dict(os.environ, **env_keys), check=False)


def one_line(result: subprocess.CompletedProcess, command: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"kvs-parser {command}: ")
    return lines[0]


def test_missing_input_file_is_a_usage_error(tmp_path: Path) -> None:
    result = kvs_parser("inspect", str(tmp_path / "missing.mkv"))
    assert result.returncode == 2
    assert "missing.mkv" in one_line(result, "inspect") and "check the path" in result.stderr


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    for args in (["--debug", "inspect"], ["inspect", "--debug"]):  # before or after the command
        result = kvs_parser(*args, str(tmp_path / "missing.mkv"))
        assert result.returncode == 2 and "Traceback" in result.stderr and "FileNotFoundError" in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("kvs-parser inspect: ")


def test_emulate_with_a_missing_file_fails_before_serving(tmp_path: Path) -> None:
    result = kvs_parser("emulate", "--stream", f"x={tmp_path / 'missing.mkv'}")
    assert result.returncode == 2 and "no such file" in one_line(result, "emulate")
    assert "KVS emulator at" not in result.stdout


def test_a_truncated_file_is_a_runtime_failure(tmp_path: Path, fixtures: Path) -> None:
    cut = tmp_path / "cut.mkv"
    cut.write_bytes((fixtures / "kvs" / "output_get_media.mkv").read_bytes()[:100_000])
    result = kvs_parser("pipe", str(cut), "--format", "annexb")
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr  # frames before the cut are written


def test_unknown_stream_names_the_fix(tmp_path: Path) -> None:
    with Emulator() as emu:
        result = kvs_parser("frames", "nope", "--endpoint-url", emu.endpoint_url, "--out", str(tmp_path))
    assert result.returncode == 2
    line = one_line(result, "frames")
    assert "StreamNotFoundError" in line and "check the stream name and the region" in line


def all_options() -> Iterator[tuple[str, argparse.ArgumentParser, argparse.Action]]:
    """Every option of every command (each command's module registers its options only when it is named)."""
    for name in COMMANDS:
        subparsers = next(a for a in build_parser([name])._actions if isinstance(a, argparse._SubParsersAction))
        command = subparsers.choices[name]
        for action in command._actions:
            if action.option_strings and not isinstance(action, argparse._HelpAction):
                yield name, command, action


def test_every_option_has_help_and_shows_its_default() -> None:
    missing: List[str] = []
    for name, command, action in all_options():
        formatter = command._get_formatter()
        text = formatter._expand_help(action) if action.help else ""
        flag = isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction))
        if not text or (not flag and action.default is not None and "default" not in text):
            missing.append(f"{name} {action.option_strings[0]}: {text!r}")
        elif not flag and action.default is None and not action.required and "default" not in text:
            missing.append(f"{name} {action.option_strings[0]} (no default, and the help does not say so)")
    assert not missing, "\n".join(missing)


def test_top_level_help_speaks_to_a_newcomer() -> None:
    text = build_parser(["--help"]).format_help()
    assert "kvs-parser demo" in text and "Kinesis Video Streams" in text


def test_start_is_spelled_the_same_by_every_command() -> None:
    starts = [(name, action) for name, _, action in all_options() if "--start" in action.option_strings]
    assert {name for name, _ in starts} == {"frames", "audio", "pipe"}
    for name, action in starts:
        assert action.type is starts[0][1].type and action.help.split(" (default")[0] == \
            starts[0][1].help.split(" (default")[0], name
        for spelling, kind in (("NOW", "NOW"), ("earliest", "EARLIEST"), ("fragment:123", "FRAGMENT_NUMBER"),
                               ("producer:1700000000", "PRODUCER_TIMESTAMP"),
                               ("server:2024-05-01T12:00:00Z", "SERVER_TIMESTAMP")):
            assert action.type(spelling).kind == kind
    assert StartSelector.parse("Server:1700000000.5").timestamp == 1700000000.5
    with pytest.raises(ValueError, match="expected now, earliest"):
        StartSelector.parse("yesterday")
    result = kvs_parser("pipe", "cam", "--start", "yesterday")
    assert result.returncode == 2 and "expected now, earliest" in result.stderr


def test_hook_module_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cwd_hook_module.py").write_text("def on_frame(camera_id, frame):\n    return camera_id\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    hook = load_hook("cwd_hook_module:on_frame")
    assert hook("cam", None) == "cam"


def test_frames_emulate_says_it_stops_after_ten(tmp_path: Path) -> None:
    result = kvs_parser("frames", "cam", "--emulate", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "--emulate: stopping after 10 images (give --max or --duration to change)" in result.stderr
    assert len(list(tmp_path.glob("cam_*.jpg"))) == 10


def test_frames_ends_at_the_end_of_a_finished_stream(tmp_path: Path) -> None:
    camera = SyntheticCamera(width=96, height=64, fps=15, fragment_duration=0.5, max_frames=24)
    with Emulator() as emu:
        stream = emu.add_live_stream("done", camera)
        assert stream.wait_closed(timeout=20)
        started = time.monotonic()
        result = kvs_parser("frames", "done", "--endpoint-url", emu.endpoint_url, "--start", "earliest",
                            "--out", str(tmp_path), "--format", "png", timeout=80)
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 60  # ends by itself, after the bounded polls at the live edge
    assert "no new data yet" in result.stderr  # it said what it was waiting for
    files = sorted(tmp_path.glob("done_*.png"))
    assert len(files) == 24
    indices = []
    for path in files:
        with av.open(str(path)) as container:
            indices.append(read_index(next(container.decode(video=0)).to_ndarray(format="rgb24"), tolerance=100))
    assert indices == list(range(24))


def test_refused_credentials_name_the_fix(tmp_path: Path) -> None:
    with Emulator(allowed_access_keys={"good"}) as emu:
        emu.add_live_stream("cam", SyntheticCamera(width=96, height=64, fps=15, fragment_duration=0.5))
        result = kvs_parser("frames", "cam", "--endpoint-url", emu.endpoint_url, "--out", str(tmp_path))
    assert result.returncode == 2
    line = one_line(result, "frames")  # the source's failure is reported once, by the command
    assert "NotAuthorizedError" in line and "check the AWS credentials" in line


def test_audio_track_that_is_not_there_is_a_usage_error(fixtures: Path, tmp_path: Path) -> None:
    result = kvs_parser("audio", str(fixtures / "kvs" / "vogels_330.mkv"), "--track", "NOPE",
                        "--out", str(tmp_path / "x.wav"))
    assert result.returncode == 2
    line = one_line(result, "audio")
    assert "no track 'NOPE'" in line and "kvs-parser inspect" in line
