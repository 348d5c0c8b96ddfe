"""Cameras on a Ray cluster, each a restartable actor that resumes from its checkpoint.

``RayFleet`` places one ``kvs_parser.camera.Camera`` (the unit every host runs) per Ray actor across a
cluster (``pip install "kvs-parser-py[ray]"``). See docs/ray.md.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CameraActor",
    "FleetChange",
    "FleetMetricsCollector",
    "RayFleet",
    "camera_resources",
]

_NEED_RAY = {"RayFleet": "_fleet", "FleetChange": "_fleet", "camera_resources": "_fleet",
             "FleetMetricsCollector": "_fleet", "CameraActor": "_actor"}


def __getattr__(name: str) -> Any:
    module = _NEED_RAY.get(name)  # imports ray only when asked for
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
