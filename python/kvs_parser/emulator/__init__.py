"""A local Kinesis Video Streams endpoint for tests and demos: unmodified boto3 talks to it over HTTP.

Streams come from media files (cut into KVS fragments) or from a synthetic live camera whose frames carry
their index; faults (drops, throttling, stalls, corruption, error fragments) are injected per call.
Hooks (`Emulator.hooks`) tell a benchmark or a test when a frame is appended and when bytes are sent.
"""

from __future__ import annotations

from ._camera import SyntheticCamera, index_from_timecode, timecode_of
from ._emulator import Emulator
from ._encode import hevc_available
from ._errors import AwsError
from ._faults import Fault, FaultRule
from ._hooks import BytesSent, FrameAppended, Hooks, Subscription
from ._limits import Limits
from ._pattern import draw_index_yuv420p, read_index
from ._scene import Scene, SceneSpec, describe_recording, recording, scene_encoder_options
from ._sources import FileMedia, load_file

__all__ = [
    "AwsError",
    "BytesSent",
    "Emulator",
    "Fault",
    "FaultRule",
    "FileMedia",
    "FrameAppended",
    "Hooks",
    "Limits",
    "Scene",
    "SceneSpec",
    "Subscription",
    "SyntheticCamera",
    "describe_recording",
    "draw_index_yuv420p",
    "hevc_available",
    "index_from_timecode",
    "load_file",
    "read_index",
    "recording",
    "scene_encoder_options",
    "timecode_of",
]
