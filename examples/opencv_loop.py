"""Numpy frames from a camera into an OpenCV / ML-style loop: `ok, image = source.read_frame()`.

    python examples/opencv_loop.py my-camera --region eu-west-1
    python examples/opencv_loop.py cam --endpoint-url http://127.0.0.1:4566   # `kvs-parser emulate --live cam`

Frames are bgr24 numpy arrays (h, w, 3), as `cv2.VideoCapture.read()` gives them, so they go straight into
OpenCV or a model. `read_frame()` waits for the next frame (a slow start or a reconnect is not the end) and
returns False only once the stream has ended or the source was stopped. The "model" here is a stand-in
that needs only numpy: mean brightness and motion (mean absolute difference to the previous frame); with
OpenCV installed, the frame is also converted to gray with cv2, as a real pipeline would.
"""

from __future__ import annotations

import argparse
from typing import Any, Optional

import numpy as np

from kvs_parser.source import KVSGetMediaFrameSource

try:  # optional: the example runs without OpenCV
    import cv2
except ImportError:
    cv2 = None


def to_gray(image: np.ndarray) -> np.ndarray:
    if cv2 is not None:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return (image[..., 0] * 0.114 + image[..., 1] * 0.587 + image[..., 2] * 0.299).astype(np.uint8)


def model(gray: np.ndarray, previous: Optional[np.ndarray]) -> dict[str, Any]:
    motion = 0.0 if previous is None else float(np.abs(gray.astype(np.int16) - previous).mean())
    return {"brightness": round(float(gray.mean()), 1), "motion": round(motion, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stream", help="KVS stream name")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
    parser.add_argument("--endpoint-url", help="e.g. the local emulator's URL (default: AWS)")
    parser.add_argument("--start", default="now", help="now | earliest | ... (default now)")
    parser.add_argument("--frames", type=int, default=50, help="frames to process (default 50)")
    parser.add_argument("--fps", type=float, help="deliver at most this many frames per second (default: all)")
    args = parser.parse_args()

    previous = None
    with KVSGetMediaFrameSource(args.stream, stream_name=args.stream, region=args.region,
                                endpoint_url=args.endpoint_url, start_selector=args.start,
                                fps_target=args.fps, width=320) as source:
        for count in range(1, args.frames + 1):
            ok, image = source.read_frame()
            if not ok:  # the stream ended or the source was stopped: not a hiccup
                break
            gray = to_gray(image)
            print(f"frame {count}: {image.shape} {model(gray, previous)}")
            previous = gray.astype(np.int16)
        print(source.get_metrics().latency_ms)


if __name__ == "__main__":
    main()
