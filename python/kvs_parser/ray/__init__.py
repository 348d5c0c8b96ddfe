"""Cameras on a Ray cluster, each a restartable actor that resumes from its checkpoint.

``CheckpointedCamera`` (no Ray needed) reads one camera and hands every picture to a hook exactly once
per fragment boundary checkpoint; ``RayFleet`` places one such camera per Ray actor across a cluster
(``pip install "kvs-parser-py[ray]"``). See docs/ray.md.
"""

from __future__ import annotations

from typing import Any

from .checkpointed_camera import CameraProgress, CameraSupersededError, CheckpointedCamera, Hook, HookError

__all__ = [
    "CameraProgress",
    "CameraSupersededError",
    "CheckpointedCamera",
    "Hook",
    "HookError",
    "RayFleet",
    "camera_resources",
]


def __getattr__(name: str) -> Any:
    if name in ("RayFleet", "camera_resources"):  # imports ray only when asked for
        from . import fleet

        return getattr(fleet, name)
    raise AttributeError(name)
