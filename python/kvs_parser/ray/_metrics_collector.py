"""Every camera's metrics on one endpoint: a Prometheus collector that asks each actor at scrape time.

Each actor keeps its own registry (its camera's ``kvs_getmedia_*`` and ``kvs_checkpoint_*`` series);
the collector merges them family by family, so the driver's one /metrics shows the whole fleet, plus
``kvs_ray_camera_up`` (1 when the camera's actor answered this scrape, 0 while it is down or restarting).
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Protocol

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector


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
        merged: Dict[str, Metric] = {}
        for text in texts.values():
            for family in text_string_to_metric_families(text):
                target = merged.get(family.name)
                if target is None:
                    target = merged[family.name] = Metric(family.name, family.documentation, family.type,
                                                          family.unit)
                target.samples.extend(family.samples)
        up = GaugeMetricFamily("kvs_ray_camera_up", "1 when the camera's actor answered this scrape",
                               labels=["camera"])
        for camera_id in self.fleet.camera_ids:
            up.add_metric([camera_id], 1.0 if camera_id in texts else 0.0)
        yield from merged.values()
        yield up
