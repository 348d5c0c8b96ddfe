"""CameraGroup: cameras of one process seen as one host (statuses, thumbnails, failures): what the
threads host and each fleet worker process serve."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ._camera import Camera
from ._status import CameraStatus


class CameraGroup:
    def __init__(self, cameras: Sequence[Camera]) -> None:
        self.cameras = list(cameras)

    @property
    def running(self) -> bool:
        return any(camera.running for camera in self.cameras)

    def statuses(self) -> List[CameraStatus]:
        return [camera.status() for camera in self.cameras]

    def failures(self) -> List[str]:
        return [f"{camera.camera_id}: {camera.failure}" for camera in self.cameras if camera.failure]

    def latest_jpeg(self, camera_id: str, max_width: int = 320) -> Optional[bytes]:
        camera = next((camera for camera in self.cameras if camera.camera_id == camera_id), None)
        if camera is None:
            raise KeyError(camera_id)
        return camera.latest_jpeg(max_width)
