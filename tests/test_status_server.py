"""The status server over real sockets on 127.0.0.1, its cameras real GetMedia sources reading the emulator:
/api/cameras, thumbnails, /healthz and /readyz, and a server that idle, trickling or non-reading clients
cannot hold (scrapes answered, idle connections closed, stop() bounded)."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Iterator, List, Tuple

import av
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge

from kvs_parser.emulator import Emulator, SyntheticCamera
from kvs_parser.metrics import KVSMetrics, MetricsServer
from kvs_parser.source import KVSGetMediaFrameSource
from kvs_parser.web import ServerLimits, StatusServer
from status_host import SourcesHost

pytestmark = pytest.mark.timeout(120)


def get(url: str, timeout: float = 5.0) -> Tuple[int, Dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(url: str) -> Tuple[int, Any]:
    status, _, body = get(url)
    return status, json.loads(body)


def wait_for_cameras(url: str, want: Dict[str, str], seconds: float = 30.0) -> List[Dict[str, Any]]:
    """/api/cameras once every camera of `want` is in its state (polled, bounded)."""
    deadline = time.monotonic() + seconds
    cameras: List[Dict[str, Any]] = []
    while time.monotonic() < deadline:
        cameras = get_json(url + "api/cameras")[1]["cameras"]
        states = {camera["camera_id"]: camera["state"] for camera in cameras}
        if all(states.get(camera_id) == state for camera_id, state in want.items()):
            return cameras
        time.sleep(0.2)
    raise AssertionError(f"cameras never reached {want}: {cameras}")


def jpeg_size(data: bytes) -> Tuple[int, int]:
    with av.open(io.BytesIO(data), format="image2pipe", options={"vcodec": "mjpeg"}) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        for name in ("door", "yard"):
            emu.add_live_stream(name, SyntheticCamera(width=320, height=180, fps=10, fragment_duration=0.5))
        yield emu


def sources(emu: Emulator, registry: CollectorRegistry, streams: Dict[str, str]) -> List[KVSGetMediaFrameSource]:
    metrics = KVSMetrics(registry)
    return [KVSGetMediaFrameSource(camera_id, stream_name=stream, endpoint_url=emu.endpoint_url, metrics=metrics,
                                   read_timeout=3.0) for camera_id, stream in streams.items()]


@pytest.fixture
def served(emulator: Emulator) -> Iterator[Tuple[StatusServer, SourcesHost]]:
    registry = CollectorRegistry()
    streams = {"front-door": "door", "yard": "yard", "gone": "no-such-stream"}
    with SourcesHost(sources(emulator, registry, streams)) as host, StatusServer(registry, host) as server:
        yield server, host


def test_cameras_json_thumbnails_and_metrics(served: Tuple[StatusServer, SourcesHost]) -> None:
    server, _ = served
    assert server.url.startswith("http://127.0.0.1:")
    cameras = wait_for_cameras(server.url, {"front-door": "running", "yard": "running", "gone": "failed"})
    assert [camera["camera_id"] for camera in cameras] == ["front-door", "yard", "gone"]
    door = cameras[0]
    assert door["delivering"] and door["frames_delivered"] > 0 and door["latency_p50_ms"] is not None
    gone = cameras[2]
    assert not gone["delivering"] and "StreamNotFoundError" in gone["error"] and "no-such-stream" in gone["error"]

    status, headers, picture = get(server.url + "cameras/front-door/latest.jpg")
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and headers["Cache-Control"] == "no-store"
    assert jpeg_size(picture) == (320, 180)
    status, _, small = get(server.url + "cameras/yard/latest.jpg?width=64")
    assert status == 200 and jpeg_size(small) == (64, 36)
    assert get(server.url + "cameras/front%2Ddoor/latest.jpg")[0] == 200  # ids are percent-decoded
    assert get(server.url + "cameras/gone/latest.jpg")[0] == 404  # failed before its first picture
    status, _, body = get(server.url + "cameras/nobody/latest.jpg")
    assert status == 404 and b"no such camera" in body

    status, headers, text = get(server.url + "metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert b'kvs_getmedia_frames_read_total{camera="front-door"}' in text

    status, headers, page = get(server.url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy  # only the page's own script
    assert b"api/cameras" in page and b"http" not in page.split(b"<script>")[1]  # nothing loaded from elsewhere
    assert get(server.url + "nowhere")[0] == 404


def test_readyz_lists_the_cameras_not_delivering_and_why(served: Tuple[StatusServer, SourcesHost]) -> None:
    server, host = served
    assert get_json(server.url + "healthz") == (200, {"status": "ok"})
    wait_for_cameras(server.url, {"front-door": "running", "yard": "running", "gone": "failed"})
    status, body = get_json(server.url + "readyz")
    assert status == 503 and body["ready"] is False and body["cameras"] == 3
    assert [(c["camera_id"], c["state"]) for c in body["not_delivering"]] == [("gone", "failed")]
    assert "StreamNotFoundError" in body["not_delivering"][0]["why"]

    host.sources["yard"].stop()  # stopped: no longer delivering, with no error
    wait_for_cameras(server.url, {"yard": "ended"})
    status, body = get_json(server.url + "readyz")
    assert status == 503
    assert {c["camera_id"]: c["state"] for c in body["not_delivering"]} == {"gone": "failed", "yard": "ended"}
    assert get_json(server.url + "healthz")[0] == 200  # alive all along: not a reason to restart


def test_readyz_is_200_when_every_camera_delivers(emulator: Emulator) -> None:
    registry = CollectorRegistry()
    with SourcesHost(sources(emulator, registry, {"front-door": "door", "yard": "yard"})) as host, \
            StatusServer(registry, host) as server:
        deadline = time.monotonic() + 30
        status, body = get_json(server.url + "readyz")
        while status != 200 and time.monotonic() < deadline:
            assert status == 503 and body["not_delivering"]  # starting: not ready yet
            time.sleep(0.2)
            status, body = get_json(server.url + "readyz")
        assert (status, body) == (200, {"ready": True, "cameras": 2, "not_delivering": []})


def open_connection(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    return sock


def trickle(sockets: List[socket.socket], stop: threading.Event) -> None:
    """A header byte every 0.2 s on each socket, never the blank line that ends the head (slowloris)."""
    for sock in sockets:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    while not stop.wait(0.2):
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.sendall(b"X")


def test_50_idle_and_trickling_connections_do_not_hold_scrapes() -> None:
    registry = CollectorRegistry()
    Counter("kvs_test_scrapes", "scrapes", registry=registry).inc()
    limits = ServerLimits(workers=4, header_timeout=3.0)
    with StatusServer(registry, limits=limits) as server:
        idle = [open_connection(server.port) for _ in range(25)]
        trickling = [open_connection(server.port) for _ in range(25)]
        stop = threading.Event()
        sender = threading.Thread(target=trickle, args=(trickling, stop), daemon=True)
        sender.start()
        try:
            time.sleep(0.5)
            for _ in range(5):
                started = time.monotonic()
                status, _, body = get(server.url + "metrics", timeout=1.0)
                assert status == 200 and b"kvs_test_scrapes_total 1.0" in body
                assert time.monotonic() - started < 1.0
            # Past header_timeout every one of them has been closed by the server (recv sees the end).
            for sock in idle + trickling:
                sock.settimeout(6.0)
                with contextlib.suppress(ConnectionResetError):
                    assert sock.recv(1024) == b""
        finally:
            stop.set()
            sender.join(5)
            for sock in idle + trickling:
                sock.close()


def big_registry(series: int) -> CollectorRegistry:
    registry = CollectorRegistry()
    counter = Counter("kvs_test_big", "many series", ["camera"], registry=registry)
    for index in range(series):
        counter.labels(f"camera-with-a-long-name-{index:06d}").inc()
    return registry


def huge_registry(megabytes: int) -> CollectorRegistry:
    """A /metrics answer of about `megabytes` MB, quick to make: a few series with very long labels."""
    registry = CollectorRegistry()
    gauge = Gauge("kvs_test_huge", "long labels", ["note"], registry=registry)
    for index in range(megabytes * 20):
        gauge.labels(f"{index:04d}" + "x" * 50_000).set(1)
    return registry


def test_stop_returns_within_5_seconds_whatever_the_clients_do() -> None:
    server = StatusServer(huge_registry(8), limits=ServerLimits(workers=2, write_timeout=60.0)).start()
    port = server.port
    idle = [open_connection(port) for _ in range(20)]
    trickling = [open_connection(port) for _ in range(5)]
    stop_trickle = threading.Event()
    threading.Thread(target=trickle, args=(trickling, stop_trickle), daemon=True).start()
    non_reading = []
    for _ in range(4):  # 8 MB answers nobody reads: each written as far as its socket takes
        sock = open_connection(port)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        non_reading.append(sock)
    time.sleep(2.0)
    try:
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 5.0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        for thread in [t for t in threading.enumerate() if t.name.startswith("kvs-web")]:
            thread.join(5)
            assert not thread.is_alive()
        answered = [sock.recv(16) for sock in non_reading]
        assert answered == [b"HTTP/1.1 200 OK\r"] * 4  # each was being written when the server stopped
    finally:
        stop_trickle.set()
        for sock in idle + trickling + non_reading:
            sock.close()


def test_clients_that_do_not_read_their_answers_do_not_hold_the_workers() -> None:
    limits = ServerLimits(workers=2, write_timeout=30.0, max_pending_bytes=256 * 1024 * 1024)
    with StatusServer(huge_registry(12), limits=limits) as server:
        readers = []
        for index in range(6):  # 12 MB answers nobody reads yet, three times as many as there are workers
            sock = open_connection(server.port)
            if index:  # the first keeps normal buffers: it reads its whole answer below
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            readers.append(sock)
        try:
            time.sleep(3.0)  # every answer made and stalled on its socket
            started = time.monotonic()
            assert get_json(server.url + "healthz") == (200, {"status": "ok"})
            assert time.monotonic() - started < 1.0
            chunks = []
            readers[0].settimeout(10)
            while chunk := readers[0].recv(1 << 20):  # a slow reader that reads at last gets the whole answer
                chunks.append(chunk)
            answer = b"".join(chunks)
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and len(answer) > 12_000_000
            assert answer.endswith(b"} 1.0\n")
        finally:
            for sock in readers:
                sock.close()


def test_past_max_pending_bytes_the_oldest_slow_reader_is_dropped() -> None:
    limits = ServerLimits(workers=2, max_pending_bytes=8 * 1024 * 1024)
    with StatusServer(huge_registry(12), limits=limits) as server:
        readers = []
        for _ in range(3):  # 12 MB answers, each alone over the budget: only the newest is kept
            sock = open_connection(server.port)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            readers.append(sock)
            time.sleep(1.0)  # in this order
        try:
            assert [reset_by_server(sock) for sock in readers] == [True, True, False]
        finally:
            for sock in readers:
                sock.close()


def reset_by_server(sock: socket.socket) -> bool:
    """True when the server resets or closes the connection within 3 s of reading from it."""
    deadline = time.monotonic() + 3.0
    sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1 << 16):
                return True
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True
    return False


def raw(port: int, request: bytes) -> bytes:
    with open_connection(port) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_bad_requests_get_a_status_not_a_hang() -> None:
    with StatusServer(CollectorRegistry()) as server:
        assert raw(server.port, b"POST /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405 ")
        assert raw(server.port, b"garbage\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        assert raw(server.port, b"GET /x HTTP/2.0\r\n\r\n").startswith(b"HTTP/1.1 505 ")
        huge = b"GET / HTTP/1.1\r\n" + b"X-Filler: " + b"a" * 40_000
        assert raw(server.port, huge).startswith(b"HTTP/1.1 431 ")
        head = raw(server.port, b"HEAD /healthz HTTP/1.1\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ") and head.endswith(b"\r\n\r\n")  # headers only


def test_metrics_server_keeps_its_interface_and_gains_the_probes() -> None:
    registry = CollectorRegistry()
    KVSMetrics(registry).camera("door").frames_read.inc(3)
    with MetricsServer(registry) as server:
        assert server.url == f"http://127.0.0.1:{server.port}/metrics"
        status, _, body = get(server.url)
        assert status == 200 and b'kvs_getmedia_frames_read_total{camera="door"} 3.0' in body
        assert get_json(f"http://127.0.0.1:{server.port}/readyz") == (
            200, {"ready": True, "cameras": 0, "not_delivering": []})
    with pytest.raises(RuntimeError):
        _ = server.port


def test_metrics_are_gzipped_for_scrapers_that_ask() -> None:
    with StatusServer(big_registry(200)) as server:
        request = urllib.request.Request(server.url + "metrics", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert b"camera-with-a-long-name-000199" in gzip.decompress(response.read())


def test_a_stopped_server_starts_again_on_a_port_of_its_own() -> None:
    server = StatusServer(CollectorRegistry())
    for _ in range(2):
        server.start()
        assert get_json(server.url + "healthz") == (200, {"status": "ok"})
        server.stop()
        assert not server.running


class BrokenHost:
    """A host whose every call fails, as one whose control plane is unreachable."""

    def statuses(self) -> List[Any]:
        raise RuntimeError("control plane unreachable")

    def latest_jpeg(self, camera_id: str, max_width: int = 320) -> Any:
        raise RuntimeError("control plane unreachable")


def test_a_failing_host_is_reported_and_the_server_keeps_serving() -> None:
    with StatusServer(CollectorRegistry(), BrokenHost()) as server:
        status, _, body = get(server.url + "api/cameras")
        assert status == 500 and b"RuntimeError: control plane unreachable" in body
        status, ready = get_json(server.url + "readyz")
        assert status == 503 and ready["error"] == "RuntimeError: control plane unreachable"
        assert get(server.url + "cameras/door/latest.jpg")[0] == 500
        assert get(server.url)[0] == 200 and get_json(server.url + "healthz")[0] == 200


def closed_by_server(sock: socket.socket, wait: float = 2.0) -> bool:
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_past_max_connections_the_oldest_waiting_one_is_dropped() -> None:
    with StatusServer(CollectorRegistry(), limits=ServerLimits(max_connections=10)) as server:
        held = [open_connection(server.port) for _ in range(30)]
        try:
            time.sleep(0.5)
            started = time.monotonic()
            assert get_json(server.url + "healthz") == (200, {"status": "ok"})
            assert time.monotonic() - started < 1.0
            assert all(closed_by_server(sock) for sock in held[:20])  # the oldest made room for the others
            assert not closed_by_server(held[-1], wait=0.5)  # the newest still waits for its request
        finally:
            for sock in held:
                sock.close()
