"""``cameras.yaml``: the cameras to read and how, as pydantic v2 models, and ``load_config``.

A minimal file::

    region: eu-west-1
    cameras:
      - id: front-door
        kvs_stream_name: front-door-cam
        fps_target: 5

Every other field has a default documented on its model. Unknown keys are errors (a typo must not be
silently ignored), and ``load_config`` reports each problem with the file, the camera and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from ._extras import missing_extra

try:
    import yaml
    from pydantic import (
        BaseModel,
        ConfigDict,
        Field,
        PlainSerializer,
        PlainValidator,
        ValidationError,
        field_validator,
        model_validator,
    )
except ImportError as error:
    raise missing_extra("app", error) from error

from .decode._model import GPU_PIXEL_FORMATS, DecodeOptions
from .decode._nvdec_backend import check_nvdec_options
from .errors import KVSError
from .getmedia import StartSelector
from .queue import QueuePolicy
from .source._delivery import Delivery, delivery_of

_STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,256}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StartSelectorType(str, Enum):
    NOW = "NOW"
    EARLIEST = "EARLIEST"
    FRAGMENT_NUMBER = "FRAGMENT_NUMBER"
    SERVER_TIMESTAMP = "SERVER_TIMESTAMP"
    PRODUCER_TIMESTAMP = "PRODUCER_TIMESTAMP"
    CONTINUATION_TOKEN = "CONTINUATION_TOKEN"


# The one argument each selector type needs (GetMedia's StartSelector), None for NOW and EARLIEST.
_SELECTOR_ARGUMENT = {
    StartSelectorType.NOW: None,
    StartSelectorType.EARLIEST: None,
    StartSelectorType.FRAGMENT_NUMBER: "after_fragment_number",
    StartSelectorType.SERVER_TIMESTAMP: "start_timestamp",
    StartSelectorType.PRODUCER_TIMESTAMP: "start_timestamp",
    StartSelectorType.CONTINUATION_TOKEN: "continuation_token",
}


class _StartSelectorFields(_Model):
    """A start selector as cameras.yaml writes it, validated into the one ``getmedia.StartSelector``.

    Written as ``NOW`` / ``EARLIEST`` or as a mapping with its argument::

    start_selector: {type: FRAGMENT_NUMBER, after_fragment_number: "9134385233318150666908441974..."}
    start_selector: {type: PRODUCER_TIMESTAMP, start_timestamp: 2024-05-01T12:00:00Z}  # or epoch seconds
    start_selector: {type: CONTINUATION_TOKEN, continuation_token: "..."}
    """

    type: StartSelectorType = StartSelectorType.NOW
    after_fragment_number: Optional[str] = Field(None, pattern=r"^[0-9]+$", max_length=128)
    start_timestamp: Optional[datetime] = None
    continuation_token: Optional[str] = Field(None, min_length=1, max_length=128)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data

    @field_validator("start_timestamp")
    @classmethod
    def _aware(cls, value: Optional[datetime]) -> Optional[datetime]:
        # A naive time would silently mean the host's zone; KVS timestamps are absolute.
        return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value

    @model_validator(mode="after")
    def _argument_matches_type(self) -> _StartSelectorFields:
        needed = _SELECTOR_ARGUMENT[self.type]
        for name in ("after_fragment_number", "start_timestamp", "continuation_token"):
            given = getattr(self, name) is not None
            if name == needed and not given:
                raise ValueError(f"start selector {self.type.value} needs {name}")
            if name != needed and given:
                raise ValueError(f"{name} does not apply to start selector {self.type.value}")
        return self

    def to_selector(self) -> StartSelector:
        stamp = self.start_timestamp
        return StartSelector(self.type.value, fragment_number=self.after_fragment_number,
                             timestamp=None if stamp is None else stamp.timestamp(),
                             continuation_token=self.continuation_token)


def _start_selector(value: Any) -> StartSelector:
    if isinstance(value, StartSelector):
        return value
    try:
        return _StartSelectorFields.model_validate(value).to_selector()
    except ValidationError as error:  # one message for the start_selector field, naming the part at fault
        raise ValueError("; ".join(
            (".".join(str(part) for part in item["loc"]) + ": " if item["loc"] else "") + item["msg"]
            for item in error.errors())) from None


def _start_selector_fields(selector: StartSelector) -> dict[str, Any]:
    """A StartSelector as cameras.yaml writes it (what ``model_dump`` gives and validates back)."""
    stamp = selector.timestamp
    fields = {"type": selector.kind, "after_fragment_number": selector.fragment_number,
              "start_timestamp": None if stamp is None else datetime.fromtimestamp(stamp, timezone.utc),
              "continuation_token": selector.continuation_token}
    return {name: value for name, value in fields.items() if value is not None}


# Where GetMedia starts: a name (``NOW``, ``EARLIEST``) or a mapping with its argument, as a StartSelector.
StartSelectorField = Annotated[StartSelector, PlainValidator(_start_selector), PlainSerializer(_start_selector_fields)]


class FrameQueueConfig(_Model):
    """The decoded-frame queue between a camera's reader thread and its consumer.

    max_size: frames held, 1..10000 (default 30, about one second of 30 fps video).
    timeout_seconds: how long a read waits for a frame (and a put under ``block``), > 0, default 1.0.
    policy: what a full queue does: ``drop_oldest`` (default, stays live), ``drop_newest`` or ``block``.
    """

    max_size: int = Field(30, ge=1, le=10_000)
    timeout_seconds: float = Field(1.0, gt=0, le=3600)
    policy: QueuePolicy = QueuePolicy.DROP_OLDEST


_PARSER_ALTERNATIVES = {
    "custom": "custom parsers do not plug in here: use type: kvs_parser (or leave parser out) and handle frames "
              "with `kvs-parser run --hook module:function`, or parse the bytes yourself with "
              "kvs_parser.KVSStreamParser",
}
_PARSERS = ("kvs_parser", "gstreamer")


def _checked_gstreamer_pipeline(pipeline: Optional[str]) -> None:
    """Raises ValueError (naming the element) if ``pipeline`` cannot run here, or GStreamer is missing."""
    from .decode._gst_pipeline import GStreamerPipelineError
    from .decode._gst_runtime import GStreamerUnavailableError

    try:
        from .decode._gstreamer_backend import check_pipeline

        check_pipeline(pipeline)
    except (GStreamerPipelineError, GStreamerUnavailableError) as error:
        raise ValueError(str(error)) from None


class ParserConfig(_Model):
    """getmedia.parser: what reads GetMedia. ``type: kvs_parser`` (the default) is this package's native
    streaming parser decoding with ``output.decode_backend``. ``type: gstreamer`` keeps that parser as the
    demuxer and decodes through a GStreamer pipeline in the process (the ``gstreamer`` decode backend):

    pipeline: the GStreamer pipeline, e.g. ``h264parse ! avdec_h264``, ``vaapih264dec``, or a whole
        ``appsrc ! matroskademux ! h264parse ! avdec_h264 ! videoconvert ! appsink`` (its source, demuxer,
        sink and final conversion are this package's, so each picture keeps its fragment number and
        timestamps). Default: ``h264parse ! avdec_h264`` or ``h265parse ! avdec_h265`` by codec. Checked when
        the file is read: an element that is not installed or does not link is an error naming it.

    ``custom`` is answered with what to use instead.
    """

    type: str = "kvs_parser"
    pipeline: Optional[str] = Field(None, min_length=1, max_length=4096)

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        name = value.strip().lower()
        if name in _PARSERS:
            return name
        raise ValueError(_PARSER_ALTERNATIVES.get(name, f"unknown parser {value!r}: use type: kvs_parser or "
                                                        "type: gstreamer"))

    @model_validator(mode="after")
    def _pipeline_runs_here(self) -> ParserConfig:
        if self.type == "gstreamer":
            _checked_gstreamer_pipeline(self.pipeline)
        elif self.pipeline is not None:
            raise ValueError("pipeline applies to type: gstreamer only")
        return self


class GetMediaConfig(_Model):
    """How the GetMedia connection is made and kept.

    start_selector: where reading starts, default ``NOW``.
    max_fragment_age_seconds: fragments whose producer time is older than this when they arrive (a backlog
        after a reconnect) are skipped to stay live; > 0, default None (keep everything, as archive reads
        with ``EARLIEST`` or a timestamp need).
    chunk_size: bytes read from the HTTP body at a time, 1 B..16 MiB, default 65536.
    reconnect_delay_seconds: wait before reconnecting after the stream ends or fails, 0..300, default 1.0.
    max_reconnect_attempts: consecutive failed reconnects before the source gives up and reports the error,
        >= 0 (0 = never reconnect), default 10; None retries forever.
    parser: ``{type: kvs_parser}`` (the default) or ``{type: gstreamer, pipeline: "..."}`` (see ParserConfig).
    delivery: ``live`` (default: a consumer slower than the camera loses the oldest queued pictures,
        counted as drops, and stays live) or ``complete`` (nothing dropped: the reading waits for the
        consumer, falling behind live). The same meaning in every host (threads, workers, Ray).
        Without it, ``frame_queue.policy: block`` means ``complete``.
    """

    start_selector: StartSelectorField = Field(default_factory=StartSelector.now)
    max_fragment_age_seconds: Optional[float] = Field(None, gt=0)
    chunk_size: int = Field(65536, gt=0, le=16 * 1024 * 1024)
    reconnect_delay_seconds: float = Field(1.0, ge=0, le=300)
    max_reconnect_attempts: Optional[int] = Field(10, ge=0)
    frame_queue: FrameQueueConfig = Field(default_factory=FrameQueueConfig)
    parser: ParserConfig = Field(default_factory=ParserConfig)
    delivery: Delivery = Delivery.LIVE

    @model_validator(mode="before")
    @classmethod
    def _delivery_from_policy(cls, data: Any) -> Any:
        queue = data.get("frame_queue") if isinstance(data, dict) else None
        if isinstance(queue, dict) and "policy" in queue and data.get("delivery") is None:
            try:
                return {**data, "delivery": delivery_of(queue["policy"])}
            except ValueError:
                return data  # the policy's own validation reports it
        return data


class PlaybackMode(str, Enum):
    HLS = "HLS"
    GETMEDIA = "GETMEDIA"


class PlaybackConfig(_Model):
    """mode: ``GETMEDIA`` (default, low latency) or ``HLS`` (the fallback; case-insensitive).
    retention_required: the stream must have data retention. HLS cannot work without it, so it defaults
        to true for HLS (and false is an error there) and to false for GetMedia.
    getmedia: settings used in GETMEDIA mode.
    """

    mode: PlaybackMode = PlaybackMode.GETMEDIA
    retention_required: bool = False
    getmedia: GetMediaConfig = Field(default_factory=GetMediaConfig)

    @model_validator(mode="before")
    @classmethod
    def _defaults_by_mode(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("mode"), str):
            data["mode"] = data["mode"].upper()
        if data.get("retention_required") is None:
            data["retention_required"] = data.get("mode") == PlaybackMode.HLS.value
        return data

    @model_validator(mode="after")
    def _hls_needs_retention(self) -> PlaybackConfig:
        if self.mode is PlaybackMode.HLS and not self.retention_required:
            raise ValueError("HLS playback needs stream data retention; retention_required cannot be false")
        return self


class OutputConfig(_Model):
    """What frames look like when they reach user code.

    pixel_format: ``bgr24`` (default, as OpenCV), ``rgb24``, ``gray`` or ``yuv420p``; with ``nvdec`` also
        ``nv12``, ``rgbp`` or ``bgrp`` (planar, C x H x W) but not ``yuv420p``.
    width, height: resize target in pixels (1..8192); one alone keeps the aspect ratio; none keeps the size
        (``nvdec`` does not resize).
    decode_backend: registered decoder backend name: ``pyav`` (default, CPU), ``nvdec`` (NVIDIA GPU, the
        ``[gpu]`` extra; pictures stay on the GPU as device arrays) or ``gstreamer`` (a GStreamer pipeline,
        the ``[gstreamer]`` extra; what ``playback.getmedia.parser: {type: gstreamer}`` selects).
    gstreamer_pipeline: the pipeline of ``decode_backend: gstreamer`` (see ParserConfig.pipeline); None picks
        one per codec.
    device: the GPU index for ``nvdec`` (default 0).
    keyframes_only: decode keyframes only (cheap thumbnails/analytics), default false.
    latency: ``low`` (default: no frame-threading delay) or ``throughput`` (frame threads, more fps per core).
    """

    pixel_format: Literal["rgb24", "bgr24", "gray", "yuv420p", "nv12", "rgbp", "bgrp"] = "bgr24"
    width: Optional[int] = Field(None, ge=1, le=8192)
    height: Optional[int] = Field(None, ge=1, le=8192)
    decode_backend: str = Field("pyav", min_length=1)
    device: int = Field(0, ge=0)
    keyframes_only: bool = False
    latency: Literal["low", "throughput"] = "low"
    gstreamer_pipeline: Optional[str] = Field(None, min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _backend_can_give_it(self) -> OutputConfig:
        if self.decode_backend == "gstreamer":
            _checked_gstreamer_pipeline(self.gstreamer_pipeline)
        elif self.gstreamer_pipeline is not None:
            raise ValueError("gstreamer_pipeline applies to decode_backend: gstreamer only")
        gpu = self.decode_backend == "nvdec"
        if self.pixel_format in GPU_PIXEL_FORMATS and not gpu:
            raise ValueError(f"pixel_format {self.pixel_format!r} needs decode_backend: nvdec")
        if gpu:
            check_nvdec_options(DecodeOptions(pixel_format=self.pixel_format, width=self.width, height=self.height))
        return self

    def decode_options(self, fps_target: Optional[float] = None) -> DecodeOptions:
        return DecodeOptions(
            pixel_format=self.pixel_format,
            width=self.width,
            height=self.height,
            latency=self.latency,
            keyframes_only=self.keyframes_only,
            fps_target=fps_target,
            device=self.device,
            pipeline=self.gstreamer_pipeline,
        )


class _Endpoint(_Model):
    """Shared by the file level and each camera."""

    region: Optional[str] = Field(None, min_length=1)
    endpoint_url: Optional[str] = None

    @field_validator("endpoint_url")
    @classmethod
    def _http_url(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value


class CameraConfig(_Endpoint):
    """One camera.

    id: unique name used in logs and metric labels.
    kvs_stream_name / kvs_stream_arn: the KVS stream, exactly one of them.
    fps_target: deliver at most this many frames per second (> 0, up to 240); default None keeps every frame.
    region, endpoint_url, output: override the file-level values for this camera.
    """

    id: str = Field(min_length=1, max_length=128)
    kvs_stream_name: Optional[str] = None
    kvs_stream_arn: Optional[str] = Field(None, pattern=r"^arn:aws[a-z-]*:kinesisvideo:")
    playback: PlaybackConfig = Field(default_factory=PlaybackConfig)
    fps_target: Optional[float] = Field(None, gt=0, le=240)
    output: Optional[OutputConfig] = None

    @field_validator("kvs_stream_name")
    @classmethod
    def _stream_name(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _STREAM_NAME.match(value):
            raise ValueError("must be 1-256 characters from a-z, A-Z, 0-9, '_', '.', '-'")
        return value

    @model_validator(mode="after")
    def _one_stream(self) -> CameraConfig:
        if (self.kvs_stream_name is None) == (self.kvs_stream_arn is None):
            raise ValueError("give exactly one of kvs_stream_name and kvs_stream_arn")
        return self


class AppConfig(_Endpoint):
    """The whole ``cameras.yaml``.

    region: AWS region; default None uses boto3's own resolution (AWS_REGION, profile).
    endpoint_url: a KVS endpoint to use instead of AWS (e.g. the local emulator); default None.
    output: frame output for every camera that does not set its own.
    checkpoint: the checkpoint store every camera resumes from and records to (``sqlite:///path.db`` on
        one machine, ``redis://[user:password@]host:port/db`` or ``rediss://`` for a cluster); default
        None: each start follows the start selector. ``kvs-parser run --checkpoint`` overrides it.
    cameras: at least one, with unique ids.
    """

    output: OutputConfig = Field(default_factory=OutputConfig)
    checkpoint: Optional[str] = Field(None, min_length=1)
    cameras: list[CameraConfig] = Field(min_length=1)

    @field_validator("cameras")
    @classmethod
    def _unique_ids(cls, cameras: list[CameraConfig]) -> list[CameraConfig]:
        first: dict[str, int] = {}
        for index, camera in enumerate(cameras):
            if camera.id in first:
                earlier = first[camera.id]
                raise ValueError(f"duplicate camera id {camera.id!r} at cameras[{earlier}] and cameras[{index}]")
            first[camera.id] = index
        return cameras

    @model_validator(mode="after")
    def _gstreamer_parser_decodes_on_the_cpu(self) -> AppConfig:
        for camera in self.cameras:
            backend = (camera.output or self.output).decode_backend
            if camera.playback.getmedia.parser.type == "gstreamer" and backend not in ("pyav", "gstreamer"):
                raise ValueError(f"camera {camera.id!r}: parser type gstreamer decodes with its pipeline; "
                                 f"decode_backend {backend!r} cannot apply too")
        return self

    def camera(self, camera_id: str) -> CameraConfig:
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(camera_id)

    def output_for(self, camera: CameraConfig) -> OutputConfig:
        """The camera's output settings; ``parser: {type: gstreamer}`` makes its decode backend gstreamer."""
        output = camera.output or self.output
        parser = camera.playback.getmedia.parser
        if parser.type == "gstreamer" and camera.playback.mode is PlaybackMode.GETMEDIA:
            return output.model_copy(update={"decode_backend": "gstreamer", "gstreamer_pipeline": parser.pipeline})
        return output

    def region_for(self, camera: CameraConfig) -> Optional[str]:
        return camera.region or self.region

    def endpoint_for(self, camera: CameraConfig) -> Optional[str]:
        return camera.endpoint_url or self.endpoint_url


@dataclass(frozen=True)
class ConfigProblem:
    """One invalid value. ``camera_index`` is None outside ``cameras[]``; ``camera_id`` when it has one."""

    field: str
    message: str
    camera_index: Optional[int] = None
    camera_id: Optional[str] = None

    def __str__(self) -> str:
        if self.camera_index is None:
            where = ""
        elif self.camera_id is None:
            where = f"cameras[{self.camera_index}]: "
        else:
            where = f"camera {self.camera_id!r} (cameras[{self.camera_index}]): "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class ConfigError(KVSError, ValueError):
    """An unreadable or invalid configuration file; ``problems`` lists every invalid value."""

    def __init__(self, path: Union[str, Path], problems: list[ConfigProblem]) -> None:
        self.path = Path(path)
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{self.path}: invalid configuration\n{lines}")


def _problems(error: ValidationError, raw: Any) -> list[ConfigProblem]:
    raw_cameras = raw.get("cameras") if isinstance(raw, dict) else None
    problems = []
    for item in error.errors():
        loc = list(item["loc"])
        index = camera_id = None
        if len(loc) >= 2 and loc[0] == "cameras" and isinstance(loc[1], int):
            index, loc = loc[1], loc[2:]
            raw_camera = raw_cameras[index] if isinstance(raw_cameras, list) else None
            found = raw_camera.get("id") if isinstance(raw_camera, dict) else None
            camera_id = str(found) if found not in (None, "") else None
        field = ".".join(str(part) for part in loc)
        message = item["msg"].removeprefix("Value error, ")
        problems.append(ConfigProblem(field, message, index, camera_id))
    return problems


def parse_config(raw: Any, path: Union[str, Path] = "<config>") -> AppConfig:
    """Validate already-loaded YAML/JSON data; errors name ``path`` as load_config's do."""
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else type(raw).__name__
        raise ConfigError(path, [ConfigProblem("", f"expected a mapping with 'cameras', got {got}")])
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(path, _problems(error, raw)) from None


def load_config(path: Union[str, Path]) -> AppConfig:
    """Read and validate a ``cameras.yaml``; raises ``ConfigError`` naming the file, camera and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(path, [ConfigProblem("", f"cannot read: {error.strerror or error}")]) from None
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise ConfigError(path, [ConfigProblem("", f"not UTF-8 text (byte {byte:#04x} at offset {error.start}): "
                                                   "save the file as UTF-8")]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ConfigError(path, [ConfigProblem("", f"not valid YAML: {where}{error}")]) from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise ConfigError(path, [ConfigProblem("", "collections nested too deeply to read")]) from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts (sys.int_info)
        raise ConfigError(path, [ConfigProblem("", f"a value cannot be read: {error}")]) from None
    try:
        return parse_config(raw, path)
    except RecursionError:  # nesting PyYAML could read but validation cannot walk
        raise ConfigError(path, [ConfigProblem("", "collections nested too deeply to read")]) from None
