"""CameraGroup: cameras of one process run and seen as one host (start, stop, statuses, thumbnails,
failures): what the threads host is and what each fleet worker process runs and serves."""

from __future__ import annotations

from typing import List, Optional, Self, Sequence

from ._camera import Camera
from ._status import CameraStatus


class CameraGroup:
    def __init__(self, cameras: Sequence[Camera]) -> None:
        self.cameras = list(cameras)

    def start(self) -> Self:
        for camera in self.cameras:
            camera.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        for camera in self.cameras:
            camera.stop(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
