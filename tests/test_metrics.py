"""Metrics on a caller-owned registry, scraped over HTTP from 127.0.0.1; in-process latency and rate."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from kvs_parser.metrics import (
    LATENCY_BUCKETS_MS,
    KVSMetrics,
    LatencyRecorder,
    MetricsServer,
    RateMeter,
    merged_families,
)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_are_scraped_per_camera_over_http() -> None:
    registry = CollectorRegistry()
    metrics = KVSMetrics(registry)
    door, yard = metrics.camera("door"), metrics.camera("yard")
    for latency in (3, 40, 40, 900, 25_000):
        door.latency_ms.observe(latency)
    door.frames_read.inc(5)
    door.frames_dropped.inc(2)
    door.decode_errors.inc()
    door.parse_errors.inc(3)
    door.connection_resets.inc()
    door.bytes_read.inc(12_345)
    door.millis_behind_now.set(1500)
    yard.frames_read.inc(7)

    with MetricsServer(registry) as server:
        assert server.url.startswith("http://127.0.0.1:")
        samples = scrape(server.url)
    door_label = (("camera", "door"),)
    assert samples[("kvs_getmedia_frames_read_total", door_label)] == 5
    assert samples[("kvs_getmedia_frames_read_total", (("camera", "yard"),))] == 7
    assert samples[("kvs_getmedia_frames_dropped_total", door_label)] == 2
    assert samples[("kvs_getmedia_decode_errors_total", door_label)] == 1
    assert samples[("kvs_getmedia_parse_errors_total", door_label)] == 3
    assert samples[("kvs_getmedia_connection_resets_total", door_label)] == 1
    assert samples[("kvs_getmedia_bytes_total", door_label)] == 12_345
    assert samples[("kvs_getmedia_millis_behind_now", door_label)] == 1500
    assert samples[("kvs_getmedia_latency_ms_count", door_label)] == 5
    assert samples[("kvs_getmedia_latency_ms_sum", door_label)] == 3 + 40 + 40 + 900 + 25_000
    bucket = "kvs_getmedia_latency_ms_bucket"
    assert samples[(bucket, (("camera", "door"), ("le", "50.0")))] == 3
    assert samples[(bucket, (("camera", "door"), ("le", "1000.0")))] == 4
    assert samples[(bucket, (("camera", "door"), ("le", "30000.0")))] == 5


def test_stop_releases_the_port() -> None:
    server = MetricsServer(CollectorRegistry()).start()
    url = server.url
    scrape(url)
    server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)
    assert not [t for t in threading.enumerate() if t.name.startswith("kvs-metrics-http") and t.is_alive()]


def test_registries_are_independent() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    KVSMetrics(first).camera("a").frames_read.inc()
    KVSMetrics(second)  # same names on another registry: no "Duplicated timeseries"
    assert first.get_sample_value("kvs_getmedia_frames_read_total", {"camera": "a"}) == 1
    assert second.get_sample_value("kvs_getmedia_frames_read_total", {"camera": "a"}) is None


def test_one_registry_many_kvs_metrics() -> None:
    """Per-source KVSMetrics on one shared registry: the second shares the first's metrics, no
    DuplicatedTimeseries, and every camera shows up in one scrape."""
    registry = CollectorRegistry()
    door, yard = KVSMetrics(registry), KVSMetrics(registry)
    door.camera("door").frames_read.inc(3)
    yard.camera("yard").frames_read.inc(2)
    yard.camera("door").frames_read.inc()  # the same camera id through either: one series
    assert registry.get_sample_value("kvs_getmedia_frames_read_total", {"camera": "door"}) == 4
    assert registry.get_sample_value("kvs_getmedia_frames_read_total", {"camera": "yard"}) == 2
    yard.camera("yard").latency_ms.observe(12)
    assert registry.get_sample_value("kvs_getmedia_latency_ms_count", {"camera": "yard"}) == 1


def test_a_foreign_metric_under_the_same_name_is_refused() -> None:
    from prometheus_client import Gauge

    registry = CollectorRegistry()
    Gauge("kvs_getmedia_frames_read", "someone else's", registry=registry)
    with pytest.raises(ValueError, match="already registered"):
        KVSMetrics(registry)


def test_latency_buckets_span_1ms_to_30s() -> None:
    assert LATENCY_BUCKETS_MS[0] == 1 and LATENCY_BUCKETS_MS[-1] == 30_000
    assert list(LATENCY_BUCKETS_MS) == sorted(set(LATENCY_BUCKETS_MS))


def test_latency_recorder_percentiles() -> None:
    recorder = LatencyRecorder()
    assert recorder.summary().count == 0 and recorder.summary().p50 is None
    for ms in range(1, 101):
        recorder.record(ms)
    summary = recorder.summary()
    assert (summary.count, summary.p50, summary.p95, summary.p99, summary.max) == (100, 50, 95, 99, 100)


def test_latency_recorder_memory_is_bounded_to_recent_samples() -> None:
    recorder = LatencyRecorder(capacity=10)
    for ms in range(1000):
        recorder.record(ms)
    assert len(recorder) == 10 and recorder.total == 1000
    assert recorder.summary().p50 == 994  # only 990..999 remain


def test_latency_recorder_is_thread_safe() -> None:
    recorder = LatencyRecorder(capacity=100_000)
    threads = [threading.Thread(target=lambda: [recorder.record(1) for _ in range(5000)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert recorder.total == len(recorder) == 20_000


def test_rate_meter() -> None:
    meter = RateMeter(window_seconds=5)
    assert meter.rate(now=0) == 0
    for i in range(31):
        meter.mark(now=100 + i / 30)  # 30 events per second for one second
    assert meter.rate(now=101) == pytest.approx(30)
    assert meter.rate(now=103) == pytest.approx(10)  # stalled: decays
    assert meter.rate(now=110) == 0  # all marks out of the window


@pytest.mark.parametrize("bad", [lambda: LatencyRecorder(capacity=0), lambda: RateMeter(window_seconds=0)])
def test_bad_arguments(bad) -> None:
    with pytest.raises(ValueError):
        bad()


def test_merged_families_serve_two_processes_cameras_as_one_family_each() -> None:
    from prometheus_client import generate_latest

    texts = []
    for camera, frames in (("door", 3), ("yard", 5)):
        metrics = KVSMetrics(CollectorRegistry())
        metrics.camera(camera).frames_read.inc(frames)
        metrics.camera(camera).latency_ms.observe(12.0)
        texts.append(generate_latest(metrics.registry).decode())
    families = {family.name: family for family in merged_families(texts)}
    frames_read = families["kvs_getmedia_frames_read"]
    totals = {s.labels["camera"]: s.value for s in frames_read.samples if s.name.endswith("_total")}
    assert totals == {"door": 3.0, "yard": 5.0}
    counts = {s.labels["camera"]: s.value for s in families["kvs_getmedia_latency_ms"].samples
              if s.name.endswith("_count")}
    assert counts == {"door": 1.0, "yard": 1.0}
