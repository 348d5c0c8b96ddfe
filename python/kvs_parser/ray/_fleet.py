"""RayFleet: the cameras of a cameras.yaml as Ray actors across a cluster, one camera per actor.

Each actor asks for ``cpus_per_camera`` CPUs (and ``gpus_per_camera`` GPUs when the camera decodes with
the ``nvdec`` backend), is spread over the nodes (SPREAD scheduling: nodes added later take new
placements), restarts up to ``max_restarts`` times (-1: always) after a crash or a node loss, and resumes
from its checkpoint. ``apply(config)`` adds, removes or replaces only the cameras that changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from .._extras import missing_extra

try:
    import ray
except ImportError as error:
    raise missing_extra("ray", error) from error

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from .._redact import redact
from ..camera import CameraState, CameraStatus, HookSpec
from ..config import AppConfig, CameraConfig
from ..metrics import MergedMetricsCollector
from ._actor import CameraActor

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
    >>> fleet.statuses()[0].frames_delivered
    >>> fleet.apply(load_config("cameras.yaml"))   # after editing it: only changed cameras move
    >>> fleet.stop()

    ``hook``: ``module:function`` imported on each node, or a picklable callable ``(camera_id, frame)``;
    it runs inside the camera's actor under ``on_hook_error``. ``address``: the Ray cluster (None:
    ``ray.init()``'s own choice, "auto" an existing cluster); Ray is not initialised again if it already is.
    ``registry`` serves every camera's metrics, asked of the actors at each scrape, and
    ``kvs_ray_camera_up`` (1 when the camera's actor answered that scrape, 0 while it is down or restarting).
    """

    def __init__(
        self,
        config: AppConfig,
        *,
        checkpoint_url: str,
        hook: HookSpec = None,
        on_hook_error: str = "stop",
        address: Optional[str] = None,
        cpus_per_camera: float = 0.5,
        gpus_per_camera: float = 0.25,
        max_restarts: int = -1,
        namespace: str = NAMESPACE,
        init_options: Optional[Dict[str, Any]] = None,
        config_source: Optional[Callable[[], Optional[AppConfig]]] = None,
    ) -> None:
        self.config = config
        self.checkpoint_url, self.hook, self.on_hook_error, self.address = checkpoint_url, hook, on_hook_error, address
        self.cpus_per_camera, self.gpus_per_camera = cpus_per_camera, gpus_per_camera
        self.max_restarts, self.namespace = max_restarts, namespace
        self._init_options = init_options or {}
        self._config_source = config_source  # tick() applies what it returns (an edited cameras.yaml)
        self._actors: Dict[str, Any] = {}
        self._specs: Dict[str, Dict[str, Any]] = {}
        self._resources: Dict[str, Dict[str, float]] = {}
        self._dead: Dict[str, str] = {}  # camera id -> why its actor cannot run (its constructor raised)
        self.registry = CollectorRegistry()
        self.registry.register(FleetMetricsCollector(self))

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
        self._actors[camera.id] = actor_class.remote(app, camera, self.hook, self.checkpoint_url, self.on_hook_error)
        self._specs[camera.id] = camera_spec(app, camera)
        self._resources[camera.id] = resources
        self._dead.pop(camera.id, None)
        log.info("camera %s placed (%s)", camera.id, resources)

    def _remove(self, *camera_ids: str, timeout: float = 10.0) -> None:
        """Stops these cameras' actors together (a fleet of hundreds stops in one timeout, not one each),
        then kills them."""
        actors = {camera_id: self._actors.pop(camera_id) for camera_id in camera_ids}
        for camera_id in camera_ids:
            self._specs.pop(camera_id, None)
            self._resources.pop(camera_id, None)
            self._dead.pop(camera_id, None)
        stopping = {actor.stop.remote(): camera_id for camera_id, actor in actors.items()}
        stopped, late = ray.wait(list(stopping), num_returns=len(stopping), timeout=timeout) if stopping else ([], [])
        for ref in stopped:
            try:
                ray.get(ref)
            except Exception as error:  # dead or restarting: it is killed below either way
                log.warning("camera %s did not stop cleanly: %s", stopping[ref], error)
        for ref in late:
            log.warning("camera %s did not stop within %.0f s: killing it", stopping[ref], timeout)
        for actor in actors.values():
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

    def tick(self) -> Optional[str]:
        """Applies a new config from `config_source`, if it has one; says what moved."""
        new_config = None if self._config_source is None else self._config_source()
        if new_config is None:
            return None
        change = self.apply(new_config)
        return f"config changed: added {change.added}, removed {change.removed}, replaced {change.replaced}"

    def stop(self, timeout: float = 10.0) -> None:
        self._remove(*self._actors, timeout=timeout)

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
        """`method` of every actor; cameras that do not answer within `timeout` (restarting) are left out.
        An actor whose constructor raised is remembered with the cause, in one line."""
        pending = {getattr(actor, method).remote(): camera_id for camera_id, actor in self._actors.items()
                   if camera_id not in self._dead}
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=timeout) if pending else ([], [])
        answers: Dict[str, Any] = {}
        for ref in ready:
            try:
                answers[pending[ref]] = ray.get(ref)
            except ray.exceptions.RayActorError as error:
                if _creation_failed(error):
                    self._dead[pending[ref]] = _cause(error)
                log.debug("camera %s: %s failed: %s", pending[ref], method, error)
            except Exception as error:  # the actor died while answering
                log.debug("camera %s: %s failed: %s", pending[ref], method, error)
        return answers

    def statuses(self, timeout: float = 2.0) -> List[CameraStatus]:
        """Each camera's status; one whose actor cannot start shows why (FAILED), one no node can place yet
        what it waits for (PENDING), one restarting or on a lost node NOT_ANSWERING."""
        answers = self._gather("status", timeout)
        free = _free_resources()
        out = []
        for camera_id in self._actors:
            status = answers.get(camera_id)
            if status is None:
                status = self._silent(camera_id, free)
            out.append(status)
        return out

    def _silent(self, camera_id: str, free: Dict[str, float]) -> CameraStatus:
        if camera_id in self._dead:
            return CameraStatus(camera_id, CameraState.FAILED, error=f"its actor cannot start: {self._dead[camera_id]}")
        needs = self._resources.get(camera_id, {})
        cpus, gpus = needs.get("num_cpus", 0.0), needs.get("num_gpus", 0.0)
        if free.get("CPU", 0.0) < cpus or free.get("GPU", 0.0) < gpus:
            wanted = f"{cpus:g} CPU" + (f" and {gpus:g} GPU" if gpus else "")
            return CameraStatus(camera_id, CameraState.PENDING,
                                error=f"pending: needs {wanted}, {free.get('CPU', 0.0):g} CPU free")
        return CameraStatus(camera_id, CameraState.NOT_ANSWERING,
                            error="not answering: restarting, or its node is down")

    def latest_jpeg(self, camera_id: str, max_width: int = 320, timeout: float = 2.0) -> Optional[bytes]:
        """The camera's latest picture as a JPEG, asked of its actor now; None while it has none or does not
        answer."""
        actor = self._actors[camera_id]  # KeyError for an unknown camera
        try:
            picture: Optional[bytes] = ray.get(actor.latest_jpeg.remote(max_width), timeout=timeout)
        except Exception:  # restarting, on a lost node, or never started: no picture for now
            return None
        return picture

    @property
    def running(self) -> bool:
        """False once no camera can run any more (each failed for good or ended)."""
        return any(camera_id not in self._dead for camera_id in self._actors)

    def failures(self) -> List[str]:
        return [f"{camera_id}: its actor cannot start: {cause}" for camera_id, cause in self._dead.items()]

    def metrics_texts(self, timeout: float = 2.0) -> Dict[str, str]:
        """Each answering camera's Prometheus exposition text."""
        return self._gather("metrics_text", timeout)


def FleetMetricsCollector(fleet: RayFleet, timeout: float = 2.0) -> MergedMetricsCollector:
    """Every camera's metrics of `fleet` on one endpoint (register it on any CollectorRegistry)."""
    answered: Dict[str, str] = {}

    def texts() -> List[str]:
        answered.clear()
        answered.update(fleet.metrics_texts(timeout))
        return list(answered.values())

    def up() -> List[Metric]:
        family = GaugeMetricFamily("kvs_ray_camera_up", "1 when the camera's actor answered this scrape",
                                   labels=["camera"])
        for camera_id in fleet.camera_ids:
            family.add_metric([camera_id], 1.0 if camera_id in answered else 0.0)
        return [family]

    return MergedMetricsCollector(texts, up)


def _creation_failed(error: Exception) -> bool:
    return "creation task" in str(error)


def _cause(error: Exception) -> str:
    """The constructor's exception in one line, from the error Ray raises for a dead actor."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    raised = [line for line in lines if not line.startswith(("File ", "Traceback", "^", "~"))
              and (":" in line and line.split(":", 1)[0].replace(".", "").isidentifier())
              and line.split(":", 1)[0].endswith(("Error", "Exception"))]
    return redact(raised[-1] if raised else lines[-1] if lines else type(error).__name__)


def _free_resources() -> Dict[str, float]:
    try:
        free: Dict[str, Any] = ray.available_resources()  # type: ignore[no-untyped-call]
        return {name: float(value) for name, value in free.items()}
    except Exception:  # not connected: nothing can be placed
        return {}
