"""Decoding of parsed KVS frames behind a small backend interface (PyAV on the CPU by default)."""

from ._annexb_feed import AnnexBFeed
from ._backend import DEFAULT_BACKEND, BackendFactory, BackendRegistry, DecoderBackend, TrackDecoder
from ._codecs import UnsupportedCodecError, supported_codec_ids
from ._decoder import FrameDecoder, is_video_track
from ._device_arrays import (
    ArrayModule,
    ArrayModuleUnavailableError,
    DeviceStream,
    NoSuchDeviceError,
    NumpyArrays,
    array_module,
)
from ._gst_pipeline import GStreamerPipelineError
from ._gst_runtime import GStreamerUnavailableError, gstreamer_available
from ._model import (
    GPU_PIXEL_FORMATS,
    PIXEL_FORMATS,
    DecodedPicture,
    DecodeOptions,
    DecodeStats,
    EncodedFrame,
    LatencyMode,
    PixelFormat,
)
from ._nvdec_backend import NvdecBackend, check_nvdec_options
from ._nvdec_session import NvdecUnavailableError
from ._sampler import FpsSampler

__all__ = [
    "DEFAULT_BACKEND",
    "GPU_PIXEL_FORMATS",
    "PIXEL_FORMATS",
    "AnnexBFeed",
    "ArrayModule",
    "ArrayModuleUnavailableError",
    "BackendFactory",
    "BackendRegistry",
    "DecodeOptions",
    "DecodeStats",
    "DecodedPicture",
    "DecoderBackend",
    "DeviceStream",
    "EncodedFrame",
    "FpsSampler",
    "FrameDecoder",
    "GStreamerPipelineError",
    "GStreamerUnavailableError",
    "LatencyMode",
    "NoSuchDeviceError",
    "NumpyArrays",
    "NvdecBackend",
    "NvdecUnavailableError",
    "PixelFormat",
    "TrackDecoder",
    "UnsupportedCodecError",
    "array_module",
    "check_nvdec_options",
    "gstreamer_available",
    "is_video_track",
    "supported_codec_ids",
]
