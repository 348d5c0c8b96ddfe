"""Per-camera Prometheus metrics on a caller-owned registry, a /metrics server, and in-process recorders.

Nothing is registered globally: each ``KVSMetrics`` lives on the ``CollectorRegistry`` it is given, so
tests and several pipelines in one process never collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, TypeVar

from ._extras import missing_extra

try:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
    from prometheus_client.metrics import MetricWrapperBase
    from prometheus_client.metrics_core import Metric
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as error:
    raise missing_extra("app", error) from error

from ._recorders import LatencyRecorder, LatencySummary, RateMeter
from .web import StatusServer

__all__ = ["LATENCY_BUCKETS_MS", "CameraMetrics", "KVSMetrics", "LatencyRecorder", "LatencySummary",
           "MergedMetricsCollector", "MetricsServer", "RateMeter", "merged_families"]

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
    frames_sampled_out: Counter
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
        self.frames_dropped = counter("frames_dropped", "Pictures dropped by a full queue (delivery: live)")
        self.frames_sampled_out = counter("frames_sampled_out", "Pictures kept out by fps_target sampling")
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
            frames_sampled_out=self.frames_sampled_out.labels(camera_id),
            decode_errors=self.decode_errors.labels(camera_id),
            parse_errors=self.parse_errors.labels(camera_id),
            connection_resets=self.connection_resets.labels(camera_id),
            bytes_read=self.bytes_read.labels(camera_id),
            millis_behind_now=self.millis_behind_now.labels(camera_id),
        )


_Metric = TypeVar("_Metric", bound=MetricWrapperBase)


def _shared(
    registry: CollectorRegistry, kind: type[_Metric], name: str, doc: str, labels: tuple[str, ...], **options: Any
) -> _Metric:
    """The `kind` metric `name` on `registry`: registered now, or the one an earlier KVSMetrics registered."""
    # prometheus_client has no public lookup by name; its registry keeps one map of names to collectors.
    names: Dict[str, Any] = getattr(registry, "_names_to_collectors", {})
    existing = names.get(name)
    if existing is None:
        return kind(name, doc, labels, registry=registry, **options)
    if type(existing) is not kind or tuple(getattr(existing, "_labelnames", ())) != labels:
        raise ValueError(f"{name} is already registered on this registry as another metric")
    shared: _Metric = existing  # checked above: exactly `kind`
    return shared


class MetricsServer:
    """Serves ``registry`` on ``http://host:port/metrics`` from background threads until stop(): a
    ``kvs_parser.web.StatusServer`` with no cameras (its /healthz and /readyz answer too).

    Binds 127.0.0.1 by default: metrics are for a local scraper or a sidecar, not the open network.
    ``port=0`` picks a free port, readable from ``.port`` afterwards. A context manager.
    """

    def __init__(self, registry: CollectorRegistry, port: int = 0, host: str = "127.0.0.1") -> None:
        self.registry = registry
        self.host = host
        self._server = StatusServer(registry, port=port, bind=host, name="kvs-metrics-http")

    @property
    def port(self) -> int:
        if not self._server.running:
            raise RuntimeError("metrics server is not running")
        return self._server.port

    @property
    def url(self) -> str:
        return f"{self._server.url}metrics"

    def start(self) -> MetricsServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def merged_families(texts: Iterable[str]) -> List[Metric]:
    """The metric families of several processes' /metrics texts, merged family by family, for a collector
    that serves them on one endpoint (the fleet's workers, the Ray fleet's actors). Each camera lives in
    one process, so no two texts carry the same series."""
    families: Dict[str, Metric] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            merged = families.get(family.name)
            if merged is None:
                merged = families[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
            merged.samples.extend(family.samples)
    return list(families.values())


class MergedMetricsCollector:
    """One /metrics for cameras in other processes: at each scrape, `texts()` gives each process's /metrics
    text (the fleet's workers over loopback, the Ray fleet's actors), served merged, plus `extra()`'s own
    families. Register it on the CollectorRegistry a MetricsServer serves."""

    def __init__(self, texts: Callable[[], Iterable[str]],
                 extra: Callable[[], Iterable[Metric]] = lambda: ()) -> None:
        self._texts, self._extra = texts, extra

    def collect(self) -> Iterable[Metric]:
        yield from merged_families(self._texts())
        yield from self._extra()
