"""One line of live status per camera, for terminals and logs."""

from __future__ import annotations

from typing import Optional

from ..source import SourceMetrics


def format_ms(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def status_line(metrics: SourceMetrics) -> str:
    latency = metrics.latency_ms
    state = "" if metrics.error is None else f"  ERROR {metrics.error}"
    return (
        f"{metrics.camera_id}: {metrics.fps:5.1f} fps  latency p50 {format_ms(latency.p50)}  "
        f"p95 {format_ms(latency.p95)}  frames {metrics.frames_read}  drops {metrics.frames_dropped}  "
        f"resets {metrics.connection_resets}{state}"
    )
