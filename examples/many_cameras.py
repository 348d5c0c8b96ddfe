"""Many cameras at once: one frame source (reader thread) and one consumer thread per camera.

    python examples/many_cameras.py front-door yard garage --region eu-west-1 --seconds 30

Each source decodes on its own thread into a bounded queue (drop_oldest: a slow consumer stays live). The
consumers here count frames; put your per-frame work in `handle`. For a fixed set of cameras, a
cameras.yaml and `kvs-parser run --hook module:function` does the same with status lines and metrics.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter

from kvs_parser.source import FrameTimeout, KVSGetMediaFrameSource, SourceEnded, SourceFrame

counts: Counter = Counter()


def handle(frame: SourceFrame) -> None:
    counts[frame.camera_id] += 1  # your work on frame.image (a numpy array) goes here


def consume(source: KVSGetMediaFrameSource, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            handle(source.read(timeout=0.5))
        except FrameTimeout:
            continue  # no frame in 0.5 s: check `stop`, then wait on
        except SourceEnded:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("streams", nargs="+", help="KVS stream names")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
    parser.add_argument("--endpoint-url", help="e.g. the local emulator's URL (default: AWS)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to run (default 10)")
    parser.add_argument("--fps", type=float, default=5.0, help="frames per second per camera (default 5)")
    args = parser.parse_args()

    sources = [KVSGetMediaFrameSource(name, stream_name=name, region=args.region, endpoint_url=args.endpoint_url,
                                      fps_target=args.fps, width=320) for name in args.streams]
    stop = threading.Event()
    consumers = [threading.Thread(target=consume, args=(source, stop)) for source in sources]
    for source in sources:
        source.start()
    for consumer in consumers:
        consumer.start()
    try:
        time.sleep(args.seconds)
    finally:
        stop.set()
        for source in sources:
            source.stop()
        for consumer in consumers:
            consumer.join()
    for source in sources:
        metrics = source.get_metrics()
        print(f"{source.camera_id}: {metrics.frames_read} frames read, latency p50 {metrics.latency_ms.p50} ms, "
              f"{metrics.connection_resets} reconnects")
        if source.error is not None:
            print(f"  {source.camera_id} failed: {source.error}")
    print("frames:", dict(counts))


if __name__ == "__main__":
    main()
