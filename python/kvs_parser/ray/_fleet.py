"""RayFleet: the cameras of a cameras.yaml as Ray actors across a cluster, one camera per actor.

Each actor asks for ``cpus_per_camera`` CPUs (and ``gpus_per_camera`` GPUs when the camera decodes with
the ``nvdec`` backend), is spread over the nodes (SPREAD scheduling: nodes added later take new
placements), restarts up to ``max_restarts`` times (-1: always) after a crash or a node loss, and resumes
from its checkpoint. ``apply(config)`` adds, removes or replaces only the cameras that changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from .._extras import missing_extra

try:
    import ray
except ImportError as error:
    raise missing_extra("ray", error) from error

from ..config import AppConfig, CameraConfig
from ._actor import CameraActor
from ._checkpointed_camera import Hook

log = logging.getLogger(__name__)

GPU_BACKENDS = frozenset({"nvdec"})  # decode_backend values that need a GPU on the actor's node
NAMESPACE = "kvs-parser"


def camera_resources(app: AppConfig, camera: CameraConfig, cpus_per_camera: float = 0.5,
                     gpus_per_camera: float = 0.25) -> Dict[str, float]:
    """Ray resources of one camera's actor: CPUs always, a GPU share when its backend decodes on a GPU."""
    resources = {"num_cpus": cpus_per_camera, "num_gpus": 0.0}
    if app.output_for(camera).decode_backend in GPU_BACKENDS:
        resources["num_gpus"] = gpus_per_camera
    return resources


def camera_spec(app: AppConfig, camera: CameraConfig) -> Dict[str, Any]:
    """Everything that decides how a camera is read: a change in it replaces the camera's actor."""
    return {"camera": camera.model_dump(mode="json"), "output": app.output_for(camera).model_dump(mode="json"),
            "region": app.region_for(camera), "endpoint_url": app.endpoint_for(camera)}


@dataclass(frozen=True)
class FleetChange:
    added: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)
    replaced: List[str] = field(default_factory=list)


class RayFleet:
    """Places, watches and stops the camera actors of one cameras.yaml.

    >>> fleet = RayFleet(load_config("cameras.yaml"), checkpoint_url="redis://redis:6379/0",
    ...                  hook="my_pipeline:on_frame").start()
    >>> fleet.progress()["front-door"]["frames_delivered"]
    >>> fleet.apply(load_config("cameras.yaml"))   # after editing it: only changed cameras move
    >>> fleet.stop()

    ``hook``: ``module:function`` imported on each node, or a picklable callable ``(camera_id, frame)``;
    it runs inside the camera's actor. ``address``: the Ray cluster (None: ``ray.init()``'s own choice,
    "auto" an existing cluster); Ray is not initialised again if it already is.
    """

    def __init__(
        self,
        config: AppConfig,
        *,
        checkpoint_url: str,
        hook: Union[str, Hook, None] = None,
        address: Optional[str] = None,
        cpus_per_camera: float = 0.5,
        gpus_per_camera: float = 0.25,
        max_restarts: int = -1,
        namespace: str = NAMESPACE,
        init_options: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.config = config
        self.checkpoint_url, self.hook, self.address = checkpoint_url, hook, address
        self.cpus_per_camera, self.gpus_per_camera = cpus_per_camera, gpus_per_camera
        self.max_restarts, self.namespace = max_restarts, namespace
        self._init_options = init_options or {}
        self._actors: Dict[str, Any] = {}
        self._specs: Dict[str, Dict[str, Any]] = {}

    # -- lifecycle --
    def start(self) -> RayFleet:
        if not ray.is_initialized():
            ray.init(address=self.address, namespace=self.namespace, **self._init_options)
        for camera in self.config.cameras:
            self._place(self.config, camera)
        return self

    def _place(self, app: AppConfig, camera: CameraConfig) -> None:
        resources = camera_resources(app, camera, self.cpus_per_camera, self.gpus_per_camera)
        actor_class = ray.remote(CameraActor).options(
            name=f"camera:{camera.id}", namespace=self.namespace, max_restarts=self.max_restarts,
            max_task_retries=0, scheduling_strategy="SPREAD", **resources)
        self._actors[camera.id] = actor_class.remote(app, camera, self.hook, self.checkpoint_url)
        self._specs[camera.id] = camera_spec(app, camera)
        log.info("camera %s placed (%s)", camera.id, resources)

    def _remove(self, camera_id: str, timeout: float = 10.0) -> None:
        actor = self._actors.pop(camera_id)
        self._specs.pop(camera_id, None)
        try:
            ray.get(actor.stop.remote(), timeout=timeout)
        except Exception as error:  # dead, restarting or slow: it is killed below either way
            log.warning("camera %s did not stop cleanly: %s", camera_id, error)
        ray.kill(actor, no_restart=True)

    def apply(self, config: AppConfig) -> FleetChange:
        """Moves the fleet to `config`: new cameras placed, removed ones stopped, changed ones replaced;
        the others keep running untouched."""
        wanted = {camera.id: camera for camera in config.cameras}
        change = FleetChange()
        for camera_id in [c for c in self._actors if c not in wanted]:
            self._remove(camera_id)
            change.removed.append(camera_id)
        for camera_id, camera in wanted.items():
            if camera_id not in self._actors:
                self._place(config, camera)
                change.added.append(camera_id)
            elif self._specs[camera_id] != camera_spec(config, camera):
                self._remove(camera_id)
                self._place(config, camera)
                change.replaced.append(camera_id)
        self.config = config
        return change

    def stop(self, timeout: float = 10.0) -> None:
        for camera_id in list(self._actors):
            self._remove(camera_id, timeout)

    def __enter__(self) -> RayFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- watching --
    @property
    def camera_ids(self) -> List[str]:
        return list(self._actors)

    def actor(self, camera_id: str) -> Any:
        return self._actors[camera_id]

    def _gather(self, method: str, timeout: float) -> Dict[str, Any]:
        """`method` of every actor; cameras that do not answer within `timeout` (restarting) are left out."""
        pending = {getattr(actor, method).remote(): camera_id for camera_id, actor in self._actors.items()}
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=timeout)
        answers: Dict[str, Any] = {}
        for ref in ready:
            try:
                answers[pending[ref]] = ray.get(ref)
            except Exception as error:  # the actor died while answering
                log.debug("camera %s: %s failed: %s", pending[ref], method, error)
        return answers

    def progress(self, timeout: float = 5.0) -> Dict[str, Optional[Dict[str, Any]]]:
        """Each camera's CameraProgress (as a dict, plus pid and node_id); None for one not answering."""
        answers = self._gather("progress", timeout)
        return {camera_id: answers.get(camera_id) for camera_id in self._actors}

    def metrics_texts(self, timeout: float = 2.0) -> Dict[str, str]:
        """Each answering camera's Prometheus exposition text."""
        return self._gather("metrics_text", timeout)
