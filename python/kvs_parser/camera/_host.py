"""What a host of cameras (threads, worker processes, Ray actors) offers to the status loop and the web
status page: every camera's status, and a camera's latest picture on demand."""

from __future__ import annotations

from typing import List, Optional, Protocol

from ._status import CameraStatus


class CameraHost(Protocol):
    def statuses(self) -> List[CameraStatus]:
        """Every camera of the host, in configuration order."""
        ...

    def latest_jpeg(self, camera_id: str, max_width: int = 320) -> Optional[bytes]:
        """The camera's most recent picture as a JPEG at most `max_width` wide, encoded now (nothing is
        encoded while nobody asks); None when it has none yet. KeyError for an unknown camera."""
        ...
