"""A CameraHost for tests: the product's own CameraGroup of Cameras over real KVSGetMediaFrameSources
reading the emulator over HTTP: what the threads host and each fleet worker run and serve."""

from __future__ import annotations

from typing import Dict, Sequence

from kvs_parser.camera import Camera
from kvs_parser.camera._group import CameraGroup
from kvs_parser.source import FrameSource


class SourcesHost(CameraGroup):
    def __init__(self, sources: Sequence[FrameSource]) -> None:
        super().__init__([Camera(source, where="test process") for source in sources])

    @property
    def sources(self) -> Dict[str, FrameSource]:
        return {camera.camera_id: camera.source for camera in self.cameras}

