"""Fleet: the cameras of a cameras.yaml sharded over worker processes, supervised from the parent.

Each worker has its own interpreter lock, so Python's per-frame work scales with the cores, and one
camera's crash takes down at most its worker, which is restarted: its cameras resume after the last
fragment they fully delivered, skipping what they had delivered of the next (no frame lost or repeated).

    with Fleet(load_config("cameras.yaml"), workers=4, share_frames=True) as fleet:
        frame = fleet.read("front-door", timeout=1.0)   # a numpy view into shared memory, no copy
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing import connection
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from prometheus_client import CollectorRegistry, Counter

from ..metrics import MetricsServer
from ..queue import QueuePolicy
from ._metrics import WorkerMetricsCollector
from ._progress import ProgressTable
from ._ring import FrameRing, RingClosed, RingFrame
from ._worker import HookSpec, WorkerSpec, worker_main

log = logging.getLogger(__name__)

HD_BGR_BYTES = 1920 * 1080 * 3


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _context() -> Any:
    """Workers come from a fork server (no threads or locks inherited from this process) that has already
    imported the pipeline, so a start or restart costs a fork instead of a fresh interpreter's imports."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")  # Windows
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["kvs_parser.fleet._worker", "kvs_parser.source", "kvs_parser.metrics"])
    return context


def shard(camera_ids: List[str], workers: int) -> List[List[str]]:
    """Round-robin: worker i gets cameras i, i + workers, ..."""
    return [camera_ids[i::workers] for i in range(workers)]


@dataclass
class _Worker:
    index: int
    cameras: List[str]
    process: Any = None
    events: Any = None  # the parent's end of this worker's pipe
    metrics_url: Optional[str] = None
    done: bool = False  # exited on its own after all its cameras ended
    failures: List[str] = field(default_factory=list)


class Fleet:
    """Runs `config`'s cameras over `workers` processes (default: one per core).

    hook: "module:function" or a picklable (module-level) function, called in the worker with
        (camera_id, SourceFrame) for every frame; when it raises, `on_hook_error` "stop" stops that camera,
        "continue" logs, counts and goes on (as `kvs-parser run --on-hook-error`).
    share_frames: also copy every frame into a shared-memory ring per camera (`ring_frames` deep, full-ring
        policy `ring_policy`, slots of `max_frame_bytes`) that the parent reads with read()/frames().
    metrics_port: serve every worker's metrics on one http://127.0.0.1:PORT/metrics (0: any free port).
    """

    def __init__(
        self, config: Any, workers: Optional[int] = None, *, hook: HookSpec = None, on_hook_error: str = "stop",
        share_frames: bool = False,
        ring_frames: int = 4, ring_policy: Union[QueuePolicy, str] = QueuePolicy.DROP_OLDEST,
        max_frame_bytes: int = HD_BGR_BYTES, metrics_port: Optional[int] = None, status_interval: float = 1.0,
        restart_delay: float = 1.0, log_level: int = logging.WARNING,
    ) -> None:
        self.config = config
        camera_ids = [camera.id for camera in config.cameras]
        count = min(workers or default_workers(), len(camera_ids))
        self._context = _context()
        # Short: macOS limits shared-memory names to 31 characters.
        self._prefix = f"kvsf{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._workers = [_Worker(i, cameras) for i, cameras in enumerate(shard(camera_ids, count))]
        self._rows = {camera_id: row for row, camera_id in enumerate(camera_ids)}
        self._hook, self._on_hook_error, self._share = hook, on_hook_error, share_frames
        self._ring_frames, self._ring_policy, self._slot_bytes = ring_frames, QueuePolicy(ring_policy), max_frame_bytes
        self._metrics_port, self._status_interval = metrics_port, status_interval
        self._restart_delay, self._log_level = restart_delay, log_level
        self._stop = self._context.RawValue("b", 0)
        self._rings: Dict[str, FrameRing] = {}
        self._progress: Optional[ProgressTable] = None
        self._status: Dict[str, Any] = {}
        self._hook_status: Dict[str, str] = {}
        self._lock = threading.Lock()
        self._supervisor: Optional[threading.Thread] = None
        self._stopping = threading.Event()
        self._server: Optional[MetricsServer] = None
        self.registry = CollectorRegistry()
        self._restarts = Counter("kvs_fleet_worker_restarts", "Worker processes restarted after dying",
                                 registry=self.registry)
        self.restarts = 0
        self._started = False

    # -- lifecycle --
    def start(self) -> Fleet:
        if self._started:
            raise RuntimeError("a fleet starts once")
        self._started = True
        try:
            self._progress = ProgressTable.create(f"{self._prefix}-p", len(self._rows))
            if self._share:
                for camera_id in self._rows:
                    self._rings[camera_id] = FrameRing.create(
                        camera_id, f"{self._prefix}-r{self._rows[camera_id]}", self._ring_frames,
                        self._slot_bytes, self._ring_policy, self._context)
            if self._metrics_port is not None:
                self.registry.register(WorkerMetricsCollector(self._worker_metric_urls))
                self._server = MetricsServer(self.registry, port=self._metrics_port).start()
            for worker in self._workers:
                self._spawn(worker, recover=False)
            self._supervisor = threading.Thread(target=self._supervise, name="kvs-fleet-supervisor", daemon=True)
            self._supervisor.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stops every worker (SIGKILL after `timeout`), then removes every shared-memory segment."""
        self._stopping.set()
        self._stop.value = 1
        deadline = time.monotonic() + timeout
        # The supervisor drains the pipes too: it ends first, so only this thread reads them from now on.
        # Wait for it however long a restart in progress takes: a worker it spawned after the loop below would
        # outlive stop() (and keep the parent's stdout open).
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join()
        for worker in self._workers:
            process = worker.process
            while process is not None and process.is_alive() and time.monotonic() < deadline:
                self._drain(0.1)  # a worker flushing its last events must not block on a full pipe
        for worker in self._workers:
            process = worker.process
            if process is not None and process.is_alive():
                log.warning("worker %d did not stop in time: killing it", worker.index)
                process.kill()
            if process is not None:
                process.join(5)
        self._drain(0)
        if self._server is not None:
            self._server.stop()
            self._server = None
        for ring in self._rings.values():
            ring.mark_closed()
            ring.close()
        self._rings.clear()
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        for worker in self._workers:
            if worker.events is not None:
                worker.events.close()
                worker.events = None

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the parent sees --
    @property
    def metrics_url(self) -> Optional[str]:
        return None if self._server is None else self._server.url

    @property
    def running(self) -> bool:
        return any(w.process is not None and w.process.is_alive() for w in self._workers)

    def worker_pids(self) -> List[Optional[int]]:
        return [None if w.process is None else w.process.pid for w in self._workers]

    def worker_of(self, camera_id: str) -> int:
        return next(w.index for w in self._workers if camera_id in w.cameras)

    def camera_metrics(self) -> Dict[str, Any]:
        """The latest SourceMetrics of each camera, as its worker last reported them."""
        with self._lock:
            return dict(self._status)

    def hook_status(self, camera_id: str) -> str:
        """What the hook did to this camera ("  STOPPED: hook raised ...", "  hook errors N ..."), or ""."""
        with self._lock:
            return self._hook_status.get(camera_id, "")

    def failures(self) -> List[str]:
        with self._lock:
            return [failure for worker in self._workers for failure in worker.failures]

    def read(self, camera_id: str, timeout: Optional[float] = 1.0) -> Optional[RingFrame]:
        """The next frame of `camera_id` from its ring (share_frames=True), None on timeout. The image is
        a view into shared memory, valid until the next read of this camera. Raises RingClosed once the
        fleet has stopped and the ring is drained."""
        ring = self._rings.get(camera_id)
        if ring is None:
            raise KeyError(f"no shared frames for camera {camera_id!r} (share_frames=True?)")
        return ring.read(timeout)

    def frames(self, poll: float = 0.005) -> Iterator[Tuple[str, RingFrame]]:
        """(camera_id, frame) from every camera as they come, until the fleet stops."""
        rings = list(self._rings.items())
        while rings and not self._stopping.is_set():
            idle = True
            for camera_id, ring in rings:
                try:
                    frame = ring.read(timeout=0)
                except RingClosed:
                    continue
                if frame is not None:
                    idle = False
                    yield camera_id, frame
            if idle:
                time.sleep(poll)

    # -- supervision --
    def _spawn(self, worker: _Worker, recover: bool) -> None:
        assert self._progress is not None
        worker.metrics_url = None
        if worker.events is not None:
            worker.events.close()
        worker.events, sender = self._context.Pipe(duplex=False)
        resume = {camera_id: self._progress.read(self._rows[camera_id]) for camera_id in worker.cameras}
        spec = WorkerSpec(
            worker.index, self.config, worker.cameras, {c: self._rows[c] for c in worker.cameras},
            self._progress.name, len(self._rows), resume,
            {c: self._rings[c].spec for c in worker.cameras if c in self._rings}, self._hook, self._on_hook_error,
            self._stop,
            sender, os.getpid(), self._metrics_port is not None, self._status_interval, recover,
            self._log_level,
        )
        worker.process = self._context.Process(target=worker_main, args=(spec,), daemon=True,
                                               name=f"kvs-fleet-worker-{worker.index}")
        worker.process.start()
        sender.close()  # the worker has its copy; EOF on ours then means it is gone

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            self._drain(0.2)
            for worker in self._workers:
                process = worker.process
                if self._stopping.is_set() or worker.done or process is None or process.is_alive():
                    continue
                self._drain(0)  # its last events, if it managed to send them
                if worker.done:
                    continue
                log.warning("worker %d (cameras %s) died with exit code %s: restarting it", worker.index,
                            ", ".join(worker.cameras), process.exitcode)
                process.join(0)
                if self._stopping.wait(self._restart_delay):
                    return
                self.restarts += 1
                self._restarts.inc()
                self._spawn(worker, recover=True)

    def _drain(self, wait: float) -> None:
        """Handles what the workers sent, waiting up to `wait` seconds for the first message."""
        with self._lock:
            pipes = {w.events: w for w in self._workers if w.events is not None}
        ready_pipes: List[Any] = connection.wait(list(pipes), timeout=wait)  # some of `pipes`, as given
        for ready in ready_pipes:
            while True:
                try:
                    if not ready.poll():
                        break
                    event = ready.recv()
                except (EOFError, OSError):
                    break  # the worker is gone: the supervisor sees it
                except Exception as error:  # a message cut short by a kill: nothing more can be read
                    log.info("worker %d: unreadable message (%s), its pipe is dropped", pipes[ready].index, error)
                    with self._lock:
                        if pipes[ready].events is ready:
                            pipes[ready].events = None
                    ready.close()
                    break
                self._handle(event)

    def _handle(self, event: Tuple[Any, ...]) -> None:
        kind, index, payload = event
        worker = self._workers[index]
        with self._lock:
            if kind == "metrics":
                worker.metrics_url = payload
            elif kind == "status":
                for metrics, hook_status in payload:
                    self._status[metrics.camera_id] = metrics
                    self._hook_status[metrics.camera_id] = hook_status
            elif kind == "done":
                failures, ended = payload
                worker.failures.extend(failures)
                worker.done = ended  # its cameras all ended by themselves: nothing to restart

    def _worker_metric_urls(self) -> List[str]:
        with self._lock:
            return [w.metrics_url for w in self._workers
                    if w.metrics_url and w.process is not None and w.process.is_alive()]
