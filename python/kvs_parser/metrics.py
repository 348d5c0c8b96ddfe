"""Per-camera Prometheus metrics on a caller-owned registry, a /metrics server, and in-process recorders.

Nothing is registered globally: each ``KVSMetrics`` lives on the ``CollectorRegistry`` it is given, so
tests and several pipelines in one process never collide.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Optional
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

# Frame latency (now minus producer time) spans ~1 ms on a LAN emulator to tens of seconds when a stream
# falls behind; roughly 1-2-5 steps keep the quantile error small at every scale.
LATENCY_BUCKETS_MS: tuple[float, ...] = (
    1, 2, 5, 10, 20, 50, 100, 150, 200, 300, 500, 750,
    1000, 1500, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000,
)  # fmt: skip


@dataclass(frozen=True)
class CameraMetrics:
    """The metric children of one camera, bound to its label so the hot path does no label lookup."""

    latency_ms: Histogram
    frames_read: Counter
    frames_dropped: Counter
    decode_errors: Counter
    parse_errors: Counter
    connection_resets: Counter
    bytes_read: Counter
    millis_behind_now: Gauge


class KVSMetrics:
    """The ``kvs_getmedia_*`` metrics, labelled by ``camera``, registered on ``registry``.

    Counters are exposed with Prometheus' ``_total`` suffix (``kvs_getmedia_frames_read_total``).
    Any number of ``KVSMetrics`` may be made on one registry (e.g. one per source): the first registers
    the metrics, the others share them (a camera id's series is shared too). A different metric already
    registered under one of these names is a ValueError.
    """

    def __init__(self, registry: CollectorRegistry, prefix: str = "kvs_getmedia") -> None:
        self.registry = registry
        labels = ("camera",)

        def counter(name: str, doc: str) -> Counter:
            return _shared(registry, Counter, f"{prefix}_{name}", doc, labels)

        self.latency_ms = _shared(
            registry, Histogram, f"{prefix}_latency_ms",
            "Delivery time minus the frame's producer timestamp, milliseconds", labels, buckets=LATENCY_BUCKETS_MS,
        )
        self.frames_read = counter("frames_read", "Frames delivered to the consumer")
        self.frames_dropped = counter("frames_dropped", "Frames dropped by sampling or a full queue")
        self.decode_errors = counter("decode_errors", "Frames the decoder rejected")
        self.parse_errors = counter("parse_errors", "Stream parse errors")
        self.connection_resets = counter("connection_resets", "GetMedia connections re-established")
        self.bytes_read = counter("bytes", "Bytes read from GetMedia")
        self.hook_errors = counter("hook_errors", "Exceptions raised by the per-frame hook of kvs-parser run")
        self.millis_behind_now = _shared(
            registry, Gauge, f"{prefix}_millis_behind_now", "Latest MillisBehindNow tag reported by KVS", labels
        )

    def camera(self, camera_id: str) -> CameraMetrics:
        return CameraMetrics(
            latency_ms=self.latency_ms.labels(camera_id),
            frames_read=self.frames_read.labels(camera_id),
            frames_dropped=self.frames_dropped.labels(camera_id),
            decode_errors=self.decode_errors.labels(camera_id),
            parse_errors=self.parse_errors.labels(camera_id),
            connection_resets=self.connection_resets.labels(camera_id),
            bytes_read=self.bytes_read.labels(camera_id),
            millis_behind_now=self.millis_behind_now.labels(camera_id),
        )


def _shared(registry: CollectorRegistry, kind: type, name: str, doc: str, labels: tuple, **options: object) -> Any:
    """The `kind` metric `name` on `registry`: registered now, or the one an earlier KVSMetrics registered."""
    # prometheus_client has no public lookup by name; its registry keeps one map of names to collectors.
    names: dict = getattr(registry, "_names_to_collectors", {})
    existing = names.get(name)
    if existing is None:
        return kind(name, doc, labels, registry=registry, **options)
    if type(existing) is not kind or tuple(getattr(existing, "_labelnames", ())) != labels:
        raise ValueError(f"{name} is already registered on this registry as another metric")
    return existing


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # scrapes every few seconds would flood stderr


class MetricsServer:
    """Serves ``registry`` on ``http://host:port/metrics`` from a background thread until stop().

    Binds 127.0.0.1 by default: metrics are for a local scraper or a sidecar, not the open network.
    ``port=0`` picks a free port, readable from ``.port`` afterwards. A context manager.
    """

    def __init__(self, registry: CollectorRegistry, port: int = 0, host: str = "127.0.0.1") -> None:
        self.registry = registry
        self.host = host
        self._requested_port = port
        self._server: Optional[WSGIServer] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("metrics server is not running")
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def start(self) -> MetricsServer:
        if self._server is not None:
            return self
        server = make_server(self.host, self._requested_port, make_wsgi_app(self.registry), handler_class=_QuietHandler)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="kvs-metrics-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass(frozen=True)
class LatencySummary:
    count: int
    p50: Optional[float]
    p95: Optional[float]
    p99: Optional[float]
    max: Optional[float]


def _percentile(ordered: list[float], fraction: float) -> float:
    # Nearest rank: always a value that was actually observed.
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class LatencyRecorder:
    """The most recent ``capacity`` latency samples (a ring), summarised as percentiles on demand.

    Memory is bounded whatever the uptime; percentiles describe the recent past, which is what a status
    line or ``get_metrics()`` should show. Thread-safe: the reader thread records, anyone summarises.
    """

    capacity: int = 1000
    total: int = field(default=0, init=False)
    _samples: Deque[float] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"capacity must be >= 1, not {self.capacity}")
        self._samples = deque(maxlen=self.capacity)

    def record(self, latency_ms: float) -> None:
        with self._lock:
            self._samples.append(float(latency_ms))
            self.total += 1

    def summary(self) -> LatencySummary:
        with self._lock:
            ordered = sorted(self._samples)
        if not ordered:
            return LatencySummary(0, None, None, None, None)
        return LatencySummary(
            len(ordered),
            _percentile(ordered, 0.50),
            _percentile(ordered, 0.95),
            _percentile(ordered, 0.99),
            ordered[-1],
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._samples)


@dataclass
class RateMeter:
    """Events per second over the last ``window_seconds`` (e.g. delivered fps), bounded like the recorder."""

    window_seconds: float = 5.0
    capacity: int = 10_000
    _times: Deque[float] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.window_seconds <= 0:
            raise ValueError(f"window_seconds must be > 0, not {self.window_seconds}")
        self._times = deque(maxlen=self.capacity)

    def mark(self, now: Optional[float] = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._times.append(now)
            # Marks older than the window are dropped here too, not only when rate() is read: otherwise a
            # meter nobody reads keeps up to `capacity` marks (~0.3 MB, seen growing in bench/soak.py).
            while self._times[0] < now - self.window_seconds:
                self._times.popleft()

    def rate(self, now: Optional[float] = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._times and self._times[0] < now - self.window_seconds:
                self._times.popleft()
            if len(self._times) < 2:
                return 0.0
            # Intervals since the oldest mark, up to now: a stream that started 1 s ago is not
            # under-reported, and one that stalled decays instead of showing its last rate.
            return (len(self._times) - 1) / max(now - self._times[0], 1e-9)
