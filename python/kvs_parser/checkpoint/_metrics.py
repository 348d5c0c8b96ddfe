"""Prometheus metrics of checkpointed delivery, per camera, on a caller-owned registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge


@dataclass(frozen=True)
class CameraCheckpointMetrics:
    saves: Counter
    errors: Counter
    redelivered: Counter
    producer_time_ms: Gauge


class CheckpointMetrics:
    """``kvs_checkpoint_*`` and ``kvs_frames_redelivered_total``, labelled by ``camera``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("camera",)
        self.saves = Counter("kvs_checkpoint_saves", "Checkpoints written (fragment ends and in-flight marks)",
                             labels, registry=registry)
        self.errors = Counter("kvs_checkpoint_errors", "Failed checkpoint store calls (each is retried)", labels,
                              registry=registry)
        self.redelivered = Counter("kvs_frames_redelivered", "Frames delivered again after a restart (marked)",
                                   labels, registry=registry)
        self.producer_time_ms = Gauge("kvs_checkpoint_producer_time_ms",
                                      "Producer time of the last completely delivered fragment", labels,
                                      registry=registry)

    def camera(self, camera_id: str) -> CameraCheckpointMetrics:
        return CameraCheckpointMetrics(self.saves.labels(camera_id), self.errors.labels(camera_id),
                                       self.redelivered.labels(camera_id), self.producer_time_ms.labels(camera_id))
