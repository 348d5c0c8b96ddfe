"""The per-camera unit every host runs: GetMedia -> parse -> decode -> SourceFrame -> the consumer."""

from __future__ import annotations

from ._host import CameraHost
from ._status import CameraState, CameraStatus, format_ms, status_line

__all__ = ["CameraHost", "CameraState", "CameraStatus", "format_ms", "status_line"]
