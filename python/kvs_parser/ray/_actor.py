"""CameraActor: one CheckpointedCamera inside a Ray actor process, started by the constructor.

Ray re-runs the constructor when it restarts the actor (after a crash, or on another node after a node
died), so a restarted actor simply resumes from the camera's checkpoint. Failures that a restart may cure
(the hook raised, reconnects exhausted, anything unexpected) end the process so that Ray restarts it;
those that can never succeed (no such stream, not authorised, superseded) keep the actor up, reporting
the error, instead of restarting in a loop.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import asdict
from typing import Any, Optional, Union

from prometheus_client import CollectorRegistry, generate_latest

from ..checkpoint import open_store
from ..checkpoint._metrics import CheckpointMetrics
from ..config import AppConfig, CameraConfig
from ..getmedia import InvalidArgumentError, NotAuthorizedError, StreamNotFoundError
from ..metrics import KVSMetrics
from ._checkpointed_camera import CameraSupersededError, CheckpointedCamera, Hook

log = logging.getLogger(__name__)

# Errors no restart can cure: the actor stays up and reports them.
PERMANENT_ERRORS = (StreamNotFoundError, NotAuthorizedError, InvalidArgumentError, CameraSupersededError)


def resolve_hook(hook: Union[str, Hook, None]) -> Optional[Hook]:
    if isinstance(hook, str):
        from ..commands.run import load_hook  # `module:function`, imported on the node

        return load_hook(hook)
    return hook


class CameraActor:
    """Made remote by ``RayFleet`` (``ray.remote(CameraActor).options(...)``); usable in-process too."""

    def __init__(self, app: AppConfig, camera: CameraConfig, hook: Union[str, Hook, None], store_url: str,
                 exit_on_failure: bool = True) -> None:
        self.started_ms = time.time() * 1000  # when Ray (re)created this actor
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.camera_id = camera.id
        self.registry = CollectorRegistry()
        self.store = open_store(store_url)
        self.camera = CheckpointedCamera.from_config(
            app, camera, store=self.store, hook=resolve_hook(hook), metrics=KVSMetrics(self.registry),
            checkpoint_metrics=CheckpointMetrics(self.registry))
        self._exit_on_failure = exit_on_failure
        self._stopped = threading.Event()
        self.camera.start()
        threading.Thread(target=self._watch, name=f"kvs-actor-watch-{camera.id}", daemon=True).start()

    def _watch(self) -> None:
        self.camera.join()
        error = self.camera.error
        if self._stopped.is_set() or error is None or isinstance(error, PERMANENT_ERRORS):
            return
        if self._exit_on_failure:
            log.error("camera %s failed (%s: %s); exiting so that Ray restarts it from its checkpoint",
                      self.camera_id, type(error).__name__, error)
            logging.shutdown()
            os._exit(1)

    def progress(self) -> dict[str, Any]:
        progress = asdict(self.camera.progress())
        progress["pid"] = os.getpid()
        progress["node_id"] = _node_id()
        progress["actor_started_ms"] = self.started_ms
        return progress

    def metrics_text(self) -> str:
        return generate_latest(self.registry).decode()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        self.camera.stop(timeout)
        self.store.close()


def _node_id() -> Optional[str]:
    try:
        import ray

        return str(ray.get_runtime_context().get_node_id())
    except Exception:  # outside Ray (in-process use)
        return None
