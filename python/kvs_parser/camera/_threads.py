"""CameraThreads: every camera of a cameras.yaml on threads of this process (`kvs-parser run --workers 0`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from prometheus_client import CollectorRegistry

from ..checkpoint import CheckpointStore, open_store
from ..checkpoint._metrics import CheckpointMetrics
from ..config import AppConfig
from ..metrics import KVSMetrics
from ._build import build_all
from ._camera import Camera
from ._group import CameraGroup
from ._hooks import HookErrorPolicy, HookSpec, hook_runner


class CameraThreads(CameraGroup):
    """A host (see CameraHost): one Camera per camera, metrics on `registry`; `checkpoint` is a store URL."""

    def __init__(self, config: AppConfig, path: Union[str, Path] = "cameras.yaml", *, hook: HookSpec = None,
                 on_hook_error: Union[HookErrorPolicy, str] = HookErrorPolicy.STOP,
                 checkpoint: Optional[str] = None, registry: Optional[CollectorRegistry] = None) -> None:
        self.registry = registry or CollectorRegistry()
        metrics = KVSMetrics(self.registry)
        url = checkpoint or config.checkpoint
        self._store: Optional[CheckpointStore] = open_store(url) if url else None
        checkpoint_metrics = CheckpointMetrics(self.registry) if self._store is not None else None
        runner = hook_runner(hook, on_hook_error, metrics)
        where = f"pid {os.getpid()}"
        try:
            super().__init__(build_all(config, path, lambda camera: Camera.from_config(
                config, camera, hook=runner, metrics=metrics, checkpoint=self._store,
                checkpoint_metrics=checkpoint_metrics, where=where)))
        except BaseException:
            self.close_store()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self.close_store()

    def close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
