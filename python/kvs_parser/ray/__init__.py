"""Cameras on a Ray cluster, each a restartable actor that resumes from its checkpoint.

``CheckpointedCamera`` (no Ray needed) reads one camera and hands every picture to a hook exactly once
per fragment boundary checkpoint; ``RayFleet`` places one such camera per Ray actor across a cluster
(``pip install "kvs-parser-py[ray]"``). See docs/ray.md.
"""

from __future__ import annotations

from typing import Any

from ._checkpointed_camera import CameraProgress, CameraSupersededError, CheckpointedCamera, Hook, HookError

__all__ = [
    "CameraProgress",
    "CameraSupersededError",
    "CheckpointedCamera",
    "FleetChange",
    "FleetMetricsCollector",
    "Hook",
    "HookError",
    "RayFleet",
    "camera_resources",
]

_NEED_RAY = {"RayFleet": "_fleet", "FleetChange": "_fleet", "camera_resources": "_fleet",
             "FleetMetricsCollector": "_metrics_collector"}


def __getattr__(name: str) -> Any:
    module = _NEED_RAY.get(name)  # imports ray only when asked for: CheckpointedCamera runs without it
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
