"""A local Kinesis Video Streams endpoint for tests and demos: unmodified boto3 talks to it over HTTP.

Streams come from media files (cut into KVS fragments) or from a synthetic live camera whose frames carry
their index; faults (drops, throttling, stalls, corruption, error fragments) are injected per call.
"""

from __future__ import annotations

from .camera import SyntheticCamera, index_from_timecode, timecode_of
from .emulator import Emulator
from .encode import hevc_available
from .errors import AwsError
from .faults import Fault, FaultRule
from .limits import Limits
from .pattern import draw_index_yuv420p, read_index
from .scene import SceneSpec, recording
from .sources import FileMedia, load_file

__all__ = [
    "AwsError",
    "Emulator",
    "Fault",
    "FaultRule",
    "FileMedia",
    "Limits",
    "SceneSpec",
    "SyntheticCamera",
    "draw_index_yuv420p",
    "hevc_available",
    "index_from_timecode",
    "load_file",
    "read_index",
    "recording",
    "timecode_of",
]
