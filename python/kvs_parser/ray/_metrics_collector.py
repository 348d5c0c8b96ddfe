"""Every camera's metrics on one endpoint: a Prometheus collector that asks each actor at scrape time.

Each actor keeps its own registry (its camera's ``kvs_getmedia_*`` and ``kvs_checkpoint_*`` series);
the collector merges them family by family, so the driver's one /metrics shows the whole fleet, plus
``kvs_ray_camera_up`` (1 when the camera's actor answered this scrape, 0 while it is down or restarting).
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Protocol

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..metrics import merged_families


class MetricsSource(Protocol):
    @property
    def camera_ids(self) -> List[str]: ...

    def metrics_texts(self, timeout: float = 2.0) -> Dict[str, str]: ...


class FleetMetricsCollector(Collector):
    """Register on a CollectorRegistry served by ``kvs_parser.metrics.MetricsServer``."""

    def __init__(self, fleet: MetricsSource, timeout: float = 2.0) -> None:
        self.fleet, self.timeout = fleet, timeout

    def collect(self) -> Iterable[Metric]:
        texts = self.fleet.metrics_texts(self.timeout)
        up = GaugeMetricFamily("kvs_ray_camera_up", "1 when the camera's actor answered this scrape",
                               labels=["camera"])
        for camera_id in self.fleet.camera_ids:
            up.add_metric([camera_id], 1.0 if camera_id in texts else 0.0)
        yield from merged_families(texts.values())
        yield up
