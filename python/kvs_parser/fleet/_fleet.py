"""Fleet: the cameras of a cameras.yaml sharded over worker processes, supervised from the parent.

Each worker has its own interpreter lock, so Python's per-frame work scales with the cores, and one
camera's crash takes down at most its worker, which is restarted: its cameras resume from the checkpoint
store after the last fragment they completely delivered, and the fragment that was in flight comes again
marked ``redelivered`` (nothing lost). Without a store URL the fleet keeps a private SQLite file for the
run's own restarts.

    with Fleet(load_config("cameras.yaml"), workers=4, share_frames=True) as fleet:
        frame = fleet.read("front-door", timeout=1.0)   # a numpy view into shared memory, no copy
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing import connection
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union
from urllib.parse import quote

from prometheus_client import CollectorRegistry, Counter

from ..camera import CameraState, CameraStatus, HookSpec
from ..metrics import MergedMetricsCollector
from ..queue import QueuePolicy
from ..web import StatusServer, read_local
from ._ring import FrameRing, RingClosed, RingFrame
from ._worker import WorkerSpec, worker_main

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
    context.set_forkserver_preload(["kvs_parser.fleet._worker", "kvs_parser.camera", "kvs_parser.source",
                                    "kvs_parser.metrics"])
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
    base_url: Optional[str] = None  # the worker's status server (metrics, thumbnails), on loopback
    done: bool = False  # exited on its own after all its cameras ended
    failures: List[str] = field(default_factory=list)


class Fleet:
    """Runs `config`'s cameras over `workers` processes (default: one per core).

    hook: "module:function" or a picklable (module-level) function, called in the worker with
        (camera_id, SourceFrame) for every frame; when it raises, `on_hook_error` "stop" stops that camera,
        "continue" logs, counts and goes on (as `kvs-parser run --on-hook-error`).
    share_frames: also copy every frame into a shared-memory ring per camera (`ring_frames` deep, full-ring
        policy `ring_policy`, slots of `max_frame_bytes`) that the parent reads with read()/frames().
    metrics_port: serve every worker's metrics on one http://HOST:PORT/metrics (0: any free port), HOST
        being `metrics_host` (default 127.0.0.1), with the fleet's status page, /api/cameras, thumbnails,
        /healthz and /readyz beside them (kvs_parser.web.StatusServer, as `kvs-parser run` serves).
    checkpoint: the checkpoint store's URL (sqlite:///path or redis://...); default: the config's, else a
        private SQLite file for this fleet's own worker restarts, removed at stop().
    """

    def __init__(
        self, config: Any, workers: Optional[int] = None, *, hook: HookSpec = None, on_hook_error: str = "stop",
        share_frames: bool = False,
        ring_frames: int = 4, ring_policy: Union[QueuePolicy, str] = QueuePolicy.DROP_OLDEST,
        max_frame_bytes: int = HD_BGR_BYTES, metrics_port: Optional[int] = None, metrics_host: str = "127.0.0.1",
        status_interval: float = 1.0, restart_delay: float = 1.0, log_level: int = logging.WARNING,
        checkpoint: Optional[str] = None,
    ) -> None:
        self.config = config
        if hook is not None and not isinstance(hook, str):
            try:
                pickle.dumps(hook)
            except Exception as error:  # said here, before any process or shared memory exists
                raise TypeError(f"the hook {hook!r} cannot be sent to the worker processes ({error}): give a "
                                "module-level function, or \"module:function\"") from None
        camera_ids = [camera.id for camera in config.cameras]
        count = min(workers or default_workers(), len(camera_ids))
        self._context = _context()
        # Short: macOS limits shared-memory names to 31 characters.
        self._prefix = f"kvsf{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._workers = [_Worker(i, cameras) for i, cameras in enumerate(shard(camera_ids, count))]
        self._rows = {camera_id: row for row, camera_id in enumerate(camera_ids)}
        self._checkpoint = checkpoint or config.checkpoint
        self._private_dir: Optional[str] = None  # holds the private store when no URL was given
        self._hook, self._on_hook_error, self._share = hook, on_hook_error, share_frames
        self._ring_frames, self._ring_policy, self._slot_bytes = ring_frames, QueuePolicy(ring_policy), max_frame_bytes
        self._metrics_port, self._metrics_host, self._status_interval = metrics_port, metrics_host, status_interval
        self._restart_delay, self._log_level = restart_delay, log_level
        self._stop = self._context.RawValue("b", 0)
        self._rings: Dict[str, FrameRing] = {}
        self._status: Dict[str, CameraStatus] = {}
        self._lock = threading.Lock()
        self._supervisor: Optional[threading.Thread] = None
        self._stopping = threading.Event()
        self._server: Optional[StatusServer] = None
        self.registry = CollectorRegistry()
        self._restarts = Counter("kvs_fleet_worker_restarts", "Worker processes restarted after dying",
                                 registry=self.registry)
        self.registry.register(MergedMetricsCollector(self._worker_metric_texts))
        self.restarts = 0
        self._started = False

    # -- lifecycle --
    def start(self) -> Fleet:
        if self._started:
            raise RuntimeError("a fleet starts once")
        self._started = True
        try:
            if self._checkpoint is None:
                self._private_dir = tempfile.mkdtemp(prefix="kvs-fleet-")
                self._checkpoint = f"sqlite:///{os.path.join(self._private_dir, 'checkpoints.db')}"
            if self._share:
                for camera_id in self._rows:
                    self._rings[camera_id] = FrameRing.create(
                        camera_id, f"{self._prefix}-r{self._rows[camera_id]}", self._ring_frames,
                        self._slot_bytes, self._ring_policy, self._context)
            if self._metrics_port is not None:
                self._server = StatusServer(self.registry, self, port=self._metrics_port,
                                            bind=self._metrics_host).start()
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
            if process is not None and process.pid is None:  # its start failed: nothing to join
                continue
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
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir, self._checkpoint = None, None
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
        return None if self._server is None else f"{self._server.url}metrics"

    @property
    def running(self) -> bool:
        return any(w.process is not None and w.process.is_alive() for w in self._workers)

    def worker_pids(self) -> List[Optional[int]]:
        return [None if w.process is None else w.process.pid for w in self._workers]

    def worker_of(self, camera_id: str) -> int:
        return next(w.index for w in self._workers if camera_id in w.cameras)

    def statuses(self) -> List[CameraStatus]:
        """Each camera's status as its worker last reported it (NOT_ANSWERING while that worker is down)."""
        with self._lock:
            reported = dict(self._status)
            alive = {c: w.process is not None and w.process.is_alive() for w in self._workers for c in w.cameras}
        out = []
        for camera_id in self._rows:
            status = reported.get(camera_id) or CameraStatus(camera_id, CameraState.STARTING)
            live = status.state in (CameraState.RUNNING, CameraState.STARTING)
            if live and not alive.get(camera_id) and not self._stopping.is_set():
                status = CameraStatus(camera_id, CameraState.NOT_ANSWERING, error="its worker is restarting",
                                      where=status.where)
            out.append(status)
        return out

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
        assert self._checkpoint is not None
        worker.base_url = None
        if worker.events is not None:
            worker.events.close()
        worker.events, sender = self._context.Pipe(duplex=False)
        spec = WorkerSpec(
            worker.index, self.config, worker.cameras, self._checkpoint,
            {c: self._rings[c].spec for c in worker.cameras if c in self._rings}, self._hook, self._on_hook_error,
            self._stop, sender, os.getpid(), self._status_interval, recover,
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
                worker.base_url = payload
            elif kind == "status":
                for status in payload:
                    self._status[status.camera_id] = status
            elif kind == "done":
                failures, ended = payload
                worker.failures.extend(failures)
                worker.done = ended  # its cameras all ended by themselves: nothing to restart

    def _worker_urls(self, camera_id: Optional[str] = None) -> List[str]:
        """The status servers of the live workers (of the one holding `camera_id`)."""
        with self._lock:
            return [w.base_url for w in self._workers if w.base_url and w.process is not None
                    and w.process.is_alive() and (camera_id is None or camera_id in w.cameras)]

    def _worker_metric_texts(self) -> Iterator[str]:
        for url in self._worker_urls():
            try:
                yield read_local(url + "metrics", 2.0).decode()
            except OSError as error:  # a worker that just died or is restarting: its cameras are absent once
                log.warning("metrics of %s not available: %s", url, error)

    def latest_jpeg(self, camera_id: str, max_width: int = 320) -> Optional[bytes]:
        """The camera's latest picture as a JPEG, asked of its worker now; None while it has none."""
        if camera_id not in self._rows:
            raise KeyError(camera_id)
        for url in self._worker_urls(camera_id):
            try:
                return read_local(f"{url}cameras/{quote(camera_id, safe='')}/latest.jpg?width={max_width}", 2.0)
            except OSError:  # 404 before its first picture, or its worker restarting
                return None
        return None
