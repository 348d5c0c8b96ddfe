"""The seed design's ``parser: {type: gstreamer, pipeline: ...}`` in cameras.yaml: accepted, checked when the
file is read (exit 2 naming the camera and the element), and `kvs-parser run` decoding through GStreamer
against the emulator over 127.0.0.1 with the hook getting every frame's metadata."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from gstreamer_check import needs_gstreamer
from kvs_parser.config import ConfigError, load_config
from kvs_parser.emulator import Emulator, SyntheticCamera

pytestmark = [needs_gstreamer, pytest.mark.timeout(120)]

SEED = "appsrc ! matroskademux ! h264parse ! avdec_h264 ! videoconvert ! appsink"


def seed_yaml(pipeline: str = SEED, endpoint_url: str = "http://127.0.0.1:1", extra: str = "") -> str:
    return f"""
endpoint_url: {endpoint_url}
region: us-west-2
cameras:
  - id: front-door
    kvs_stream_name: door
    playback:
      mode: GETMEDIA
      getmedia:
        start_selector: EARLIEST
        parser: {{type: gstreamer, pipeline: "{pipeline}"}}
{extra}"""


def test_the_seed_parser_block_selects_the_gstreamer_backend_with_its_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(seed_yaml(extra="    output: {pixel_format: rgb24, width: 320}\n"))
    config = load_config(path)
    camera = config.cameras[0]
    output = config.output_for(camera)
    assert (output.decode_backend, output.gstreamer_pipeline) == ("gstreamer", SEED)
    options = output.decode_options(5)
    assert (options.pipeline, options.pixel_format, options.width, options.fps_target) == (SEED, "rgb24", 320, 5)
    assert camera.playback.getmedia.parser.type == "gstreamer"


def test_decode_backend_gstreamer_can_be_chosen_in_output_too(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text("output: {decode_backend: gstreamer, gstreamer_pipeline: 'h265parse ! avdec_h265'}\n"
                    "cameras:\n  - {id: a, kvs_stream_name: s}\n")
    config = load_config(path)
    assert config.output_for(config.cameras[0]).decode_options().pipeline == "h265parse ! avdec_h265"


@pytest.mark.parametrize(("pipeline", "words"), [
    ("appsrc ! matroskademux ! h264parse ! avdec_h2645 ! videoconvert ! appsink", "'avdec_h2645' is not installed"),
    ("avdec_h264 ! h264parse", "could not link avdec_h264 to h264parse"),
    ("nvv4l2decoder", "'nvv4l2decoder' is not installed"),
])
def test_a_pipeline_that_cannot_run_is_a_config_error_naming_camera_and_element(
        tmp_path: Path, pipeline: str, words: str) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(seed_yaml(pipeline))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert problem.camera_id == "front-door" and problem.field == "playback.getmedia.parser"
    assert words in problem.message
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "camera 'front-door'" in result.stderr and words in result.stderr


@pytest.mark.parametrize(("yaml_text", "words"), [
    ("cameras:\n  - {id: a, kvs_stream_name: s, playback: {getmedia: {parser: {pipeline: avdec_h264}}}}\n",
     "pipeline applies to type: gstreamer only"),
    ("output: {decode_backend: nvdec}\ncameras:\n  - {id: a, kvs_stream_name: s, playback: {getmedia: "
     "{parser: {type: gstreamer}}}}\n", "decode_backend 'nvdec' cannot apply too"),
    ("output: {gstreamer_pipeline: avdec_h264}\ncameras:\n  - {id: a, kvs_stream_name: s}\n",
     "applies to decode_backend: gstreamer only"),
])
def test_settings_that_contradict_each_other(tmp_path: Path, yaml_text: str, words: str) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=words):
        load_config(path)


HOOK = '''
import os

def on_frame(camera_id, frame):
    with open(os.environ["HOOK_OUT"], "a") as out:
        out.write(f"{camera_id} {frame.width}x{frame.height} {frame.pts_ms} {frame.fragment_number} "
                  f"{frame.producer_timestamp_ms} {frame.is_keyframe}\\n")
'''


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_live_stream("door", SyntheticCamera(width=96, height=64, fps=15, fragment_duration=0.5,
                                                         max_frames=45))
        yield emulator


def test_kvs_parser_run_decodes_the_seed_cameras_yaml_through_gstreamer(emu: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(seed_yaml(endpoint_url=emu.endpoint_url))
    (tmp_path / "seed_hook.py").write_text(HOOK)
    hook_out = tmp_path / "hook.txt"
    environment = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", HOOK_OUT=str(hook_out),
                       PYTHONPATH=str(tmp_path))
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "run", "--config", str(path), "--hook",
                             "seed_hook:on_frame", "--duration", "8"], capture_output=True, text=True,
                            timeout=90, env=environment, check=False)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in hook_out.read_text().splitlines()]
    assert time.monotonic() - started < 90
    assert len(lines) == 45, "the camera's 45 frames, each once"
    assert all(line[0] == "front-door" and line[1] == "96x64" for line in lines)
    pts = [int(line[2]) for line in lines]
    assert pts == sorted(pts) and len(set(pts)) == 45
    assert len({line[3] for line in lines}) == 6, "45 frames in 0.5 s fragments of 7-8 frames"
    assert all(line[4] != "None" for line in lines) and [line[5] for line in lines].count("True") == 6


def test_the_camera_spec_a_worker_or_ray_actor_gets_keeps_the_pipeline(tmp_path: Path) -> None:
    from kvs_parser.config import OutputConfig

    path = tmp_path / "cameras.yaml"
    path.write_text(seed_yaml())
    config = load_config(path)
    shipped = config.output_for(config.cameras[0]).model_dump(mode="json")  # as ray's camera_spec sends it
    output = OutputConfig.model_validate(shipped)
    assert (output.decode_backend, output.decode_options().pipeline) == ("gstreamer", SEED)
