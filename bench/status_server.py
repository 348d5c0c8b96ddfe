"""The status server's two costs, each next to a peer in the same run:

(a) a thumbnail: ``jpeg_thumbnail`` (PyAV: area scale + MJPEG) of decoded realistic 720p frames to 320
    wide, next to Pillow (box resize + JPEG quality 85) on the same frames; what one camera's tile costs
    per refresh while someone looks at the page (nothing while nobody does).
(b) a /metrics scrape of a 200-camera registry from 127.0.0.1, with no other client and with 200 idle
    connections held open, on ``kvs_parser.web.StatusServer`` next to prometheus_client's own
    ``start_http_server`` (a thread per connection) and the single-threaded wsgiref server the package
    used before (an idle connection holds it: its scrapes time out).

    python bench/status_server.py [--quick]

Writes bench/results/status_server.json and .png.
"""

from __future__ import annotations

import argparse
import io
import socket
import threading
import time
import urllib.request
from typing import Any, Callable, Dict, List, Tuple
from wsgiref.simple_server import WSGIRequestHandler, make_server

import av
import numpy as np
from PIL import Image
from prometheus_client import CollectorRegistry, make_wsgi_app, start_http_server

from content import content
from kvs_parser.camera._thumbnail import jpeg_thumbnail
from kvs_parser.metrics import KVSMetrics
from kvs_parser.web import StatusServer
from reporting import load_line, pyplot, save_plot, write_json
from stats import Dist

SCRAPE_TIMEOUT = 2.0  # seconds: a scrape slower than this counts as failed (Prometheus' default is 10 s)


def frames_720p(count: int) -> List[np.ndarray]:
    with av.open(str(content("720p", seconds=4.0))) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="bgr24"))
            if len(frames) == count:
                return frames
    return frames


def pillow_thumbnail(image: np.ndarray, max_width: int = 320) -> bytes:
    height, width = image.shape[:2]
    small = Image.fromarray(image[:, :, ::-1]).resize((max_width, round(height * max_width / width)), Image.BOX)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85)
    return out.getvalue()


def time_each(encode: Callable[[np.ndarray], bytes], frames: List[np.ndarray]) -> Tuple[Dist, float]:
    times, sizes = [], []
    for frame in frames:
        started = time.perf_counter()
        sizes.append(len(encode(frame)))
        times.append((time.perf_counter() - started) * 1000)
    return Dist.of(times), float(np.mean(sizes))


def thumbnails(count: int) -> Dict[str, Any]:
    frames = frames_720p(count)
    yuv = [av.VideoFrame.from_ndarray(f, format="bgr24").to_ndarray(format="yuv420p") for f in frames]
    results = {}
    for name, encode, inputs in (
        ("jpeg_thumbnail bgr24", lambda f: jpeg_thumbnail(f, "bgr24"), frames),
        ("jpeg_thumbnail yuv420p", lambda f: jpeg_thumbnail(f, "yuv420p"), yuv),
        ("Pillow bgr24 (peer)", pillow_thumbnail, frames),
    ):
        encode(inputs[0])  # warm-up
        dist, size = time_each(encode, inputs)
        results[name] = {"ms": dist, "bytes": size}
        print(f"  {name:24s} p50 {dist.p50:6.2f} ms  p95 {dist.p95:6.2f} ms  {size / 1000:5.1f} kB")
    return results


def registry_of(cameras: int) -> CollectorRegistry:
    registry = CollectorRegistry()
    metrics = KVSMetrics(registry)
    rng = np.random.default_rng(1)
    for index in range(cameras):
        camera = metrics.camera(f"camera-{index:03d}")
        for latency in rng.gamma(2.0, 60.0, 50):
            camera.latency_ms.observe(float(latency))
        camera.frames_read.inc(1000)
        camera.bytes_read.inc(10**6)
    return registry


class Servers:
    """The three servers under test on free loopback ports; stop() closes them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.ours = StatusServer(registry).start()
        self.peer, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
        self.old = make_server("127.0.0.1", 0, make_wsgi_app(registry), handler_class=_Quiet)
        threading.Thread(target=self.old.serve_forever, daemon=True).start()

    def urls(self) -> Dict[str, str]:
        return {"StatusServer": f"{self.ours.url}metrics",
                "prometheus_client start_http_server (peer)": f"http://127.0.0.1:{self.peer.server_port}/metrics",
                "wsgiref single thread (before)": f"http://127.0.0.1:{self.old.server_port}/metrics"}

    def stop(self) -> None:
        self.ours.stop()
        for server in (self.peer, self.old):
            server.shutdown()
            server.server_close()


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def scrapes(url: str, count: int) -> Dict[str, Any]:
    times, failed = [], 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=SCRAPE_TIMEOUT) as response:
                response.read()
            times.append((time.perf_counter() - started) * 1000)
        except OSError:
            failed += 1
    return {"ms": Dist.of(times), "failed": failed, "count": count}


def hold_idle(url: str, count: int) -> List[socket.socket]:
    """Up to `count` connections that send nothing (fewer when the server's backlog fills: the old server
    accepts none while one is held)."""
    port = int(url.split(":")[2].split("/")[0])
    held = []
    for _ in range(count):
        try:
            held.append(socket.create_connection(("127.0.0.1", port), timeout=1))
        except OSError:
            break
    return held


def scraping(cameras: int, count: int, idle: int) -> Dict[str, Any]:
    servers = Servers(registry_of(cameras))
    results: Dict[str, Any] = {}
    try:
        for name, url in servers.urls().items():
            quiet = scrapes(url, count)
            held = hold_idle(url, idle)
            time.sleep(0.2)
            busy = scrapes(url, max(3, count // 4))  # fewer: a held server fails each after SCRAPE_TIMEOUT
            for sock in held:
                sock.close()
            busy["idle_connections_opened"] = len(held)
            results[name] = {"no other client": quiet, f"{idle} idle connections": busy}
            for label, figures in results[name].items():
                dist = figures["ms"]
                print(f"  {name:44s} {label:22s} p50 {dist.p50:7.2f} ms  p99 {dist.p99:7.2f} ms  "
                      f"failed {figures['failed']}/{figures['count']}")
    finally:
        servers.stop()
    return results


def plot(figures: Dict[str, Any], name: str) -> None:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(figures["thumbnail_720p_to_320"])
    left.bar(names, [figures["thumbnail_720p_to_320"][n]["ms"].p50 for n in names], color="#4c72b0")
    left.set_ylabel("ms per thumbnail (p50)")
    left.set_title("720p frame to a 320-wide JPEG")
    left.tick_params(axis="x", labelsize=7)
    servers = list(figures["scrape"])
    for offset, label in enumerate(list(figures["scrape"][servers[0]])):
        runs = [figures["scrape"][server][label] for server in servers]
        values = [run["ms"].p50 if run["ms"].n else 0 for run in runs]
        right.bar(np.arange(len(servers)) + offset * 0.4, values, width=0.4, label=label)
        for index, run in enumerate(runs):
            if run["failed"]:
                right.text(index + offset * 0.4, 5, f"{run['failed']}/{run['count']}\ntimed out", ha="center",
                           fontsize=7, color="#c44e52")
    right.set_xticks(np.arange(len(servers)) + 0.2, [s.replace(" (", "\n(").replace(" start_", "\nstart_")
                                                     for s in servers], fontsize=7)
    right.set_ylabel("ms per /metrics scrape (p50; failed ones excluded)")
    right.set_title(f"/metrics of {figures['cameras']} cameras")
    right.legend(fontsize=7)
    save_plot(fig, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds: fewer frames and scrapes")
    args = parser.parse_args()
    count, cameras, idle = (8, 20, 20) if args.quick else (60, 200, 200)
    print(load_line())
    print("(a) thumbnails of realistic 720p frames")
    figures: Dict[str, Any] = {"thumbnail_720p_to_320": thumbnails(count), "cameras": cameras, "idle": idle}
    print(f"(b) /metrics of {cameras} cameras, {idle} idle connections held in the second half")
    figures["scrape"] = scraping(cameras, count, idle)
    name = "status_server_quick" if args.quick else "status_server"
    print(f"wrote {write_json(name, figures)}")
    plot(figures, name)


if __name__ == "__main__":
    main()
