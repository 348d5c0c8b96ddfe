"""Decoding of parsed KVS frames behind a small backend interface (PyAV on the CPU by default)."""

from .backend import DEFAULT_BACKEND, BackendFactory, BackendRegistry, DecoderBackend, TrackDecoder
from .codecs import UnsupportedCodecError, supported_codec_ids
from .decoder import FrameDecoder, is_video_track
from .device_arrays import ArrayModule, ArrayModuleUnavailableError, NoSuchDeviceError, array_module
from .model import (
    GPU_PIXEL_FORMATS,
    PIXEL_FORMATS,
    DecodedFrame,
    DecodeOptions,
    DecodeStats,
    EncodedFrame,
    LatencyMode,
    PixelFormat,
    TrackInfo,
)
from .nvdec_session import NvdecUnavailableError
from .sampler import FpsSampler

__all__ = [
    "DEFAULT_BACKEND",
    "GPU_PIXEL_FORMATS",
    "PIXEL_FORMATS",
    "ArrayModule",
    "ArrayModuleUnavailableError",
    "BackendFactory",
    "BackendRegistry",
    "DecodeOptions",
    "DecodeStats",
    "DecodedFrame",
    "DecoderBackend",
    "EncodedFrame",
    "FpsSampler",
    "FrameDecoder",
    "LatencyMode",
    "NoSuchDeviceError",
    "NvdecUnavailableError",
    "PixelFormat",
    "TrackDecoder",
    "TrackInfo",
    "UnsupportedCodecError",
    "array_module",
    "is_video_track",
    "supported_codec_ids",
]
