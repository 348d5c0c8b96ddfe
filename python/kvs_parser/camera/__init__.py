"""The per-camera unit every host runs: GetMedia -> parse -> decode -> SourceFrame -> the consumer."""

from __future__ import annotations

from ._camera import Camera, Sink
from ._hooks import HookErrorPolicy, HookRunner, HookSpec, StopCamera, hook_runner, load_hook
from ._host import CameraHost
from ._status import CameraState, CameraStatus, format_ms, status_line

__all__ = [
    "Camera",
    "CameraHost",
    "CameraState",
    "CameraStatus",
    "HookErrorPolicy",
    "HookRunner",
    "HookSpec",
    "Sink",
    "StopCamera",
    "format_ms",
    "hook_runner",
    "load_hook",
    "status_line",
]
