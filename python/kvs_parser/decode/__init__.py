"""Decoding of parsed KVS frames behind a small backend interface (PyAV on the CPU by default)."""

from ._backend import DEFAULT_BACKEND, BackendFactory, BackendRegistry, DecoderBackend, TrackDecoder
from ._codecs import UnsupportedCodecError, supported_codec_ids
from ._decoder import FrameDecoder, is_video_track
from ._model import (
    PIXEL_FORMATS,
    DecodedPicture,
    DecodeOptions,
    DecodeStats,
    EncodedFrame,
    LatencyMode,
    PixelFormat,
)
from ._sampler import FpsSampler

__all__ = [
    "DEFAULT_BACKEND",
    "PIXEL_FORMATS",
    "BackendFactory",
    "BackendRegistry",
    "DecodeOptions",
    "DecodeStats",
    "DecodedPicture",
    "DecoderBackend",
    "EncodedFrame",
    "FpsSampler",
    "FrameDecoder",
    "LatencyMode",
    "PixelFormat",
    "TrackDecoder",
    "UnsupportedCodecError",
    "is_video_track",
    "supported_codec_ids",
]
