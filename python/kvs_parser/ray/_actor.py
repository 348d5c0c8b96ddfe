"""CameraActor: one Camera (the unit every host runs) inside a Ray actor process, started by the constructor.

Ray re-runs the constructor when it restarts the actor (after a crash, or on another node after a node
died), so a restarted actor resumes from the camera's checkpoint. Failures a restart may cure (reconnects
exhausted, anything unexpected) end the process so that Ray restarts it; those that can never succeed (no
such stream, not authorised, superseded, a corrupt checkpoint) and a hook stopped by ``--on-hook-error
stop`` keep the actor up, reporting the error, as every other host does, instead of restarting in a loop.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Optional

from prometheus_client import CollectorRegistry, generate_latest

from ..camera import Camera, CameraStatus, HookSpec, hook_runner
from ..checkpoint import open_store
from ..checkpoint._metrics import CheckpointMetrics
from ..config import AppConfig, CameraConfig
from ..errors import NonRetryableError
from ..metrics import KVSMetrics

log = logging.getLogger(__name__)


class CameraActor:
    """Made remote by ``RayFleet`` (``ray.remote(CameraActor).options(...)``); usable in-process too."""

    def __init__(self, app: AppConfig, camera: CameraConfig, hook: HookSpec, store_url: str,
                 on_hook_error: str = "stop", exit_on_failure: bool = True) -> None:
        self.started_ms = time.time() * 1000  # when Ray (re)created this actor
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.camera_id = camera.id
        self.registry = CollectorRegistry()
        metrics = KVSMetrics(self.registry)
        self.store = open_store(store_url)
        try:
            self.camera = Camera.from_config(app, camera, hook=hook_runner(hook, on_hook_error, metrics),
                                             metrics=metrics, checkpoint=self.store,
                                             checkpoint_metrics=CheckpointMetrics(self.registry),
                                             where=f"node {_node_id() or '-'} pid {os.getpid()}")
        except BaseException:
            self.store.close()
            raise
        self._exit_on_failure = exit_on_failure
        self._stopped = threading.Event()
        self.camera.start()
        threading.Thread(target=self._watch, name=f"kvs-actor-watch-{camera.id}", daemon=True).start()

    def _watch(self) -> None:
        self.camera.join()
        error = self.camera.source.error
        if self._stopped.is_set() or self.camera.failure is None or isinstance(error, NonRetryableError):
            return
        if error is None:  # the hook stopped the camera (--on-hook-error stop): reported, not restarted
            return
        if self._exit_on_failure:
            log.error("camera %s failed (%s); exiting so that Ray restarts it from its checkpoint",
                      self.camera_id, self.camera.failure)
            logging.shutdown()
            os._exit(1)

    def status(self) -> CameraStatus:
        return self.camera.status()

    def latest_jpeg(self, max_width: int = 320) -> Optional[bytes]:
        return self.camera.latest_jpeg(max_width)

    def metrics_text(self) -> str:
        return generate_latest(self.registry).decode()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        self.camera.stop(timeout)
        self.store.close()




def _node_id() -> Optional[str]:
    try:
        import ray

        return str(ray.get_runtime_context().get_node_id())[:12]
    except Exception:  # outside Ray (in-process use)
        return None


