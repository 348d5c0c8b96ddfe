"""cameras.yaml: defaults, bounds, start selectors, and errors that name the file, camera and field."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from kvs_parser.config import (
    AppConfig,
    ConfigError,
    PlaybackMode,
    load_config,
    parse_config,
)
from kvs_parser.decode import DecodeOptions
from kvs_parser.getmedia import StartSelector
from kvs_parser.queue import QueuePolicy

FULL = """
region: eu-west-1
endpoint_url: http://127.0.0.1:4567
output: {pixel_format: rgb24, width: 640, latency: throughput}
cameras:
  - id: front-door
    kvs_stream_name: front-door-cam
    fps_target: 5
    playback:
      mode: getmedia
      getmedia:
        start_selector: {type: PRODUCER_TIMESTAMP, start_timestamp: 2024-05-01T12:00:00Z}
        max_fragment_age_seconds: 20
        chunk_size: 8192
        reconnect_delay_seconds: 0.5
        max_reconnect_attempts: 3
        frame_queue: {max_size: 5, timeout_seconds: 2.5, policy: block}
  - id: yard
    kvs_stream_arn: arn:aws:kinesisvideo:eu-west-1:123456789012:stream/yard/1234567890123
    region: us-east-1
    output: {pixel_format: gray, keyframes_only: true}
    playback: {mode: HLS}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(text)
    return path


def test_full_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    door, yard = config.cameras
    media = door.playback.getmedia
    assert media.start_selector == StartSelector.producer_timestamp(datetime(2024, 5, 1, 12, tzinfo=timezone.utc))
    assert media.start_selector.to_api() == {
        "StartSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": datetime(2024, 5, 1, 12, tzinfo=timezone.utc),
    }
    assert (media.max_fragment_age_seconds, media.chunk_size, media.reconnect_delay_seconds) == (20, 8192, 0.5)
    assert media.max_reconnect_attempts == 3
    assert (media.frame_queue.max_size, media.frame_queue.timeout_seconds) == (5, 2.5)
    assert media.frame_queue.policy is QueuePolicy.BLOCK
    assert door.playback.mode is PlaybackMode.GETMEDIA and not door.playback.retention_required
    assert yard.playback.mode is PlaybackMode.HLS and yard.playback.retention_required
    assert config.output_for(door).decode_options(door.fps_target) == DecodeOptions(
        pixel_format="rgb24", width=640, latency="throughput", fps_target=5
    )
    assert config.output_for(yard).keyframes_only and config.output_for(yard).pixel_format == "gray"
    assert (config.region_for(door), config.region_for(yard)) == ("eu-west-1", "us-east-1")
    assert config.endpoint_for(yard) == "http://127.0.0.1:4567"
    assert config.camera("yard") is yard


def test_defaults() -> None:
    config = parse_config({"cameras": [{"id": "a", "kvs_stream_name": "s"}]})
    camera = config.cameras[0]
    media = camera.playback.getmedia
    assert media.start_selector.to_api() == {"StartSelectorType": "NOW"}
    assert (media.chunk_size, media.reconnect_delay_seconds, media.max_reconnect_attempts) == (65536, 1.0, 10)
    assert (media.frame_queue.max_size, media.frame_queue.timeout_seconds) == (30, 1.0)
    assert media.frame_queue.policy is QueuePolicy.DROP_OLDEST and media.max_fragment_age_seconds is None
    assert camera.playback.mode is PlaybackMode.GETMEDIA and camera.fps_target is None
    assert config.output_for(camera).decode_options() == DecodeOptions()
    assert config.region is None and config.endpoint_url is None


@pytest.mark.parametrize(
    ("selector", "boto"),
    [
        ("EARLIEST", {"StartSelectorType": "EARLIEST"}),
        (
            {"type": "FRAGMENT_NUMBER", "after_fragment_number": "91343852333181432392682062607743920146"},
            {"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": "91343852333181432392682062607743920146"},
        ),
        (
            {"type": "SERVER_TIMESTAMP", "start_timestamp": 1714564800},
            {"StartSelectorType": "SERVER_TIMESTAMP", "StartTimestamp": datetime(2024, 5, 1, 12, tzinfo=timezone.utc)},
        ),
        (
            {"type": "CONTINUATION_TOKEN", "continuation_token": "abc"},
            {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": "abc"},
        ),
    ],
)
def test_start_selectors(selector: object, boto: dict) -> None:
    raw = {"cameras": [{"id": "a", "kvs_stream_name": "s", "playback": {"getmedia": {"start_selector": selector}}}]}
    assert parse_config(raw).cameras[0].playback.getmedia.start_selector.to_api() == boto


def camera_error(tmp_path: Path, camera_yaml: str, extra_camera: bool = True) -> ConfigError:
    other = "  - {id: ok-cam, kvs_stream_name: fine}\n" if extra_camera else ""
    path = write(tmp_path, f"cameras:\n{other}  - {camera_yaml}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.path == path and str(path) in str(error)
    return error


@pytest.mark.parametrize(
    ("camera_yaml", "field", "message"),
    [
        (
            "{id: cam7, kvs_stream_name: s, playback: {getmedia: {chunk_size: 0}}}",
            "playback.getmedia.chunk_size",
            "greater than 0",
        ),
        ("{id: cam7, kvs_stream_name: s, fps_target: -1}", "fps_target", "greater than 0"),
        (
            "{id: cam7, kvs_stream_name: s, playback: {getmedia: {frame_queue: {max_size: 0}}}}",
            "playback.getmedia.frame_queue.max_size",
            "greater than or equal to 1",
        ),
        (
            "{id: cam7, kvs_stream_name: s, playback: {getmedia: {reconnect_delay_seconds: -2}}}",
            "playback.getmedia.reconnect_delay_seconds",
            "greater than or equal to 0",
        ),
        ("{id: cam7, kvs_stream_name: s, playback: {mode: RTSP}}", "playback.mode", "'HLS' or 'GETMEDIA'"),
        (
            "{id: cam7, kvs_stream_name: s, playback: {mode: HLS, retention_required: false}}",
            "playback",
            "needs stream data retention",
        ),
        (
            "{id: cam7, kvs_stream_name: s, playback: {getmedia: {start_selector: FRAGMENT_NUMBER}}}",
            "playback.getmedia.start_selector",
            "needs after_fragment_number",
        ),
        (
            "{id: cam7, kvs_stream_name: s,"
            " playback: {getmedia: {start_selector: {type: NOW, continuation_token: t}}}}",
            "playback.getmedia.start_selector",
            "does not apply",
        ),
        ("{id: cam7, kvs_stream_name: 'bad name'}", "kvs_stream_name", "1-256 characters"),
        ("{id: cam7}", "", "exactly one of kvs_stream_name and kvs_stream_arn"),
        ("{id: cam7, kvs_stream_name: s, fps_taget: 5}", "fps_taget", "Extra inputs are not permitted"),
        ("{id: cam7, kvs_stream_name: s, output: {pixel_format: rgba}}", "output.pixel_format", "'rgb24'"),
    ],
)
def test_errors_name_file_camera_and_field(tmp_path: Path, camera_yaml: str, field: str, message: str) -> None:
    error = camera_error(tmp_path, camera_yaml)
    [problem] = error.problems
    assert (problem.camera_id, problem.camera_index, problem.field) == ("cam7", 1, field)
    assert message in problem.message
    assert f"camera 'cam7' (cameras[1]): {field + ': ' if field else ''}{problem.message}" in str(error)


def test_camera_without_id_is_named_by_index(tmp_path: Path) -> None:
    error = camera_error(tmp_path, "{kvs_stream_name: s}")
    assert "cameras[1]: id: Field required" in str(error)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    error = camera_error(
        tmp_path, "{id: cam7, kvs_stream_name: s, fps_target: 0, playback: {getmedia: {chunk_size: -1}}}"
    )
    assert sorted(p.field for p in error.problems) == ["fps_target", "playback.getmedia.chunk_size"]


def test_duplicate_camera_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cameras:\n  - {id: a, kvs_stream_name: s}\n  - {id: b, kvs_stream_name: t}\n  - {id: a, kvs_stream_name: u}\n",
    )
    with pytest.raises(ConfigError, match=r"cameras: duplicate camera id 'a' at cameras\[0\] and cameras\[2\]"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "got an empty file"),
        ("- just a list", "got list"),
        ("cameras: []", "cameras: List should have at least 1 item"),
        ("cameras: [\n  {id: a", "not valid YAML: line 2"),
        ("endpoint_url: localhost:4567\ncameras: [{id: a, kvs_stream_name: s}]", "endpoint_url: must be an http"),
    ],
)
def test_file_level_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=str(path)) as caught:
        load_config(path)
    assert message in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read") as caught:
        load_config(tmp_path / "nope.yaml")
    assert isinstance(caught.value, ValueError)


def test_models_are_frozen_and_round_trip() -> None:
    config = parse_config(yaml.safe_load(FULL))
    assert AppConfig.model_validate(config.model_dump()) == config
    with pytest.raises(ValueError):
        config.cameras[0].fps_target = 3  # type: ignore[misc]


def test_latin1_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_bytes("cameras:\n  - {id: caf\u00e9, kvs_stream_name: s}\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and "not UTF-8" in str(caught.value) and "save the file as UTF-8" in str(
        caught.value)


@pytest.mark.parametrize("block", ["{type: kvs_parser}", "{type: KVS_PARSER}", "{}"])
def test_seed_parser_block_kvs_parser_is_accepted(tmp_path: Path, block: str) -> None:
    config = load_config(write(tmp_path, f"cameras:\n  - {{id: a, kvs_stream_name: s, playback: "
                                         f"{{getmedia: {{parser: {block}}}}}}}\n"))
    assert config.cameras[0].playback.getmedia.parser.type == "kvs_parser"


@pytest.mark.parametrize(("kind", "advice"), [("custom", "--hook module:function"),
                                              ("ffmpeg", "use type: kvs_parser")])
def test_seed_parser_block_others_say_what_to_use(tmp_path: Path, kind: str, advice: str) -> None:
    parser = f"{{getmedia: {{parser: {{type: {kind}}}}}}}"
    error = camera_error(tmp_path, f"{{id: cam7, kvs_stream_name: s, playback: {parser}}}")
    [problem] = error.problems
    assert (problem.camera_id, problem.field) == ("cam7", "playback.getmedia.parser.type")
    assert advice in problem.message and "type: kvs_parser" in problem.message


def test_nvdec_output_settings_are_checked_when_the_file_is_read() -> None:
    from kvs_parser.config import OutputConfig

    gpu = OutputConfig(decode_backend="nvdec", pixel_format="rgbp", device=1).decode_options()
    assert (gpu.pixel_format, gpu.device) == ("rgbp", 1)
    for bad, message in [
        ({"pixel_format": "rgbp"}, "needs decode_backend: nvdec"),
        ({"decode_backend": "nvdec", "width": 640}, "does not resize"),
        ({"decode_backend": "nvdec", "pixel_format": "yuv420p"}, "nvdec backend gives"),
        ({"decode_backend": "nvdec", "device": -1}, "greater than or equal to 0"),
    ]:
        with pytest.raises(ValueError, match=message):
            OutputConfig(**bad)
