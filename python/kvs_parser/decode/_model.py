"""The decoders' input frame (duck-typed), the decoded picture, and decode options.

Tracks are the parser's ``kvs_parser.TrackInfo``. Frames are read through the attributes below
(``typing.Protocol``), so the native ``ParsedFrame`` and test dataclasses serve alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Optional, Protocol, Union

PixelFormat = Literal["rgb24", "bgr24", "gray", "yuv420p", "nv12", "rgbp", "bgrp"]
#: What the CPU backend (PyAV) gives.
PIXEL_FORMATS: tuple[str, ...] = ("rgb24", "bgr24", "gray", "yuv420p")
#: Formats only a GPU backend gives: NV12 as NVDEC writes it, shape (h*3/2, w), and planar RGB/BGR (3, h, w),
#: the C x H x W layout that models take.
GPU_PIXEL_FORMATS: tuple[str, ...] = ("nv12", "rgbp", "bgrp")

LatencyMode = Literal["low", "throughput"]
LATENCY_MODES: tuple[str, ...] = ("low", "throughput")

#: Matroska TrackType of video tracks.
TRACK_TYPE_VIDEO = 1


class EncodedFrame(Protocol):
    """One Matroska block as the parser hands it over (the attributes the decoders read).

    Read-only properties, so both the native ``ParsedFrame`` and plain (frozen) dataclasses satisfy it.
    """

    @property
    def track_number(self) -> int: ...
    @property
    def data(self) -> Union[bytes, bytearray, memoryview]: ...
    @property
    def pts_ms(self) -> int: ...
    @property
    def is_keyframe(self) -> bool: ...
    @property
    def producer_timestamp_ms(self) -> Optional[int]: ...
    @property
    def server_timestamp_ms(self) -> Optional[int]: ...
    @property
    def fragment_number(self) -> Optional[str]: ...


@dataclass(frozen=True)
class DecodeOptions:
    """How decoded pictures are handed to the caller.

    pixel_format: layout of ``DecodedPicture.image``. ``bgr24`` is the default because ``read_frame()``
        mirrors OpenCV's ``VideoCapture.read()``; ``yuv420p`` gives the planar I420 buffer, shape (h*3/2, w).
    width, height: resize target done by libswscale in the same pass as the colour conversion. Give one and
        the other follows the aspect ratio (rounded to even); give neither to keep the coded size.
    latency: ``"low"`` never adds frame-threading delay (slice threads only), ``"throughput"`` lets FFmpeg
        use frame threads, which holds back about one frame per thread.
    thread_count: decoder threads; 0 means one in ``"low"`` latency mode (camera streams have one slice per
        picture and the cores go to other cameras; see ``pyav_backend.decoder_threads``) and FFmpeg's choice
        in ``"throughput"`` mode.
    keyframes_only: non-keyframes are not even sent to the decoder.
    fps_target: keep at most this many frames per second of stream time; dropped frames are still decoded
        (they may be references) but never colour-converted.
    device: the GPU index for GPU backends (``nvdec``); the CPU backend ignores it.
    pipeline: the GStreamer decode pipeline of the ``gstreamer`` backend (e.g. ``h264parse ! avdec_h264``,
        or a whole ``appsrc ! matroskademux ! ... ! appsink`` whose source, demuxer and sink this package
        supplies); None picks one per codec. Other backends ignore it.
    """

    pixel_format: PixelFormat = "bgr24"
    width: Optional[int] = None
    height: Optional[int] = None
    latency: LatencyMode = "low"
    thread_count: int = 0
    keyframes_only: bool = False
    fps_target: Optional[float] = None
    device: int = 0
    pipeline: Optional[str] = None

    def __post_init__(self) -> None:
        if self.pixel_format not in PIXEL_FORMATS + GPU_PIXEL_FORMATS:
            raise ValueError(f"pixel_format must be one of {PIXEL_FORMATS + GPU_PIXEL_FORMATS}, "
                             f"not {self.pixel_format!r}")
        if self.device < 0:
            raise ValueError(f"device must be a GPU index >= 0, not {self.device}")
        if self.latency not in LATENCY_MODES:
            raise ValueError(f"latency must be one of {LATENCY_MODES}, not {self.latency!r}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0, not {value}")
        if self.thread_count < 0:
            raise ValueError(f"thread_count must be >= 0, not {self.thread_count}")
        if self.fps_target is not None and not self.fps_target > 0:
            raise ValueError(f"fps_target must be > 0, not {self.fps_target}")


@dataclass(frozen=True)
class DecodedPicture:
    """A decoded picture with the absolute timestamps of the block it came from.

    ``image`` is a numpy array for CPU backends; a GPU backend may put a device array there and says so
    in ``device``.
    """

    image: Any
    pixel_format: str
    width: int
    height: int
    track_number: int
    pts_ms: int
    is_keyframe: bool
    producer_timestamp_ms: Optional[int] = None
    server_timestamp_ms: Optional[int] = None
    fragment_number: Optional[str] = None
    device: str = "cpu"


@dataclass
class DecodeStats:
    """Counters of one track decoder, or the sum over a ``FrameDecoder``'s decoders."""

    frames_in: int = 0
    frames_decoded: int = 0
    frames_out: int = 0
    frames_sampled_out: int = 0
    frames_skipped: int = 0
    decode_errors: int = 0
    decoders_opened: int = 0

    def add(self, other: DecodeStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
