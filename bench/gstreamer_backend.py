"""The gstreamer decode backend (``h264parse ! avdec_h264``) against the PyAV backend, in the same run on the
same realistic 720p15 H.264 content (~2 Mbit/s, GOP 2 s):

- live: a GetMedia frame source per backend on the emulator's live camera (the emulator in a process of its
  own), in alternating rounds: producer timestamp -> decoded picture in the consumer's hands (the source's
  ``latency_ms``), p50/p95/p99, and the consumer process's CPU ms per frame (GetMedia, parsing, decoding,
  conversion to bgr24);
- decode call: the same blocks fed to ``FrameDecoder`` directly: wall ms of each ``decode()`` and thread CPU
  ms per frame, and how many pictures came back from the call of their own block (none held back by the
  pipeline beyond the decoder's need: GStreamer runs in the caller's thread, no queue, appsink sync=false).

    python bench/gstreamer_backend.py [--seconds 20] [--rounds 2] [--quick]

Prints a table per part; writes bench/results/gstreamer_backend.json (dated inside).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import boto3

from content import camera_720p15
from emulator_process import KEYS, EmulatorProcess
from gpu_content import BenchFrame
from kvs_parser.decode import DecodeOptions, FrameDecoder, gstreamer_available
from kvs_parser.source import KVSGetMediaFrameSource
from reporting import load_line, write_json
from resource_usage import CpuClock
from stats import Dist

BACKENDS = ("pyav", "gstreamer")
PIPELINE = "h264parse ! avdec_h264"


@dataclass(frozen=True)
class Track:
    number: int
    type: int
    codec_id: str
    codec_private: bytes
    pixel_width: int
    pixel_height: int
    uid: int = 1
    name: str = ""


def options(backend: str) -> DecodeOptions:
    return DecodeOptions(pixel_format="bgr24", pipeline=PIPELINE if backend == "gstreamer" else None)


def live_round(url: str, backend: str, seconds: float) -> Dict[str, Any]:
    session = boto3.Session(**KEYS)
    latencies: List[float] = []
    clock = CpuClock()
    with KVSGetMediaFrameSource("cam0", "cam0", session=session, endpoint_url=url, backend=backend,
                                decode_options=options(backend)) as source:
        # GetMedia from NOW starts with the fragment in progress, a backlog delivered at once: measure from
        # the first keyframe after it, the live steady state.
        first = source.read(timeout=30)
        while not source.read(timeout=30).is_keyframe:
            pass
        cpu_start, frames = clock.seconds(), 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            frame = source.read(timeout=10)
            frames += 1
            if frame.latency_ms is not None:
                latencies.append(frame.latency_ms)
        cpu = clock.seconds() - cpu_start
        assert first is not None
    return {"frames": frames, "latency": latencies, "cpu_s": cpu}


def decode_calls(backend: str, gops: List[Any], width: int, height: int) -> Dict[str, Any]:
    track = Track(1, 1, "V_MPEG4/ISO/AVC", gops[0].codec_private, width, height)
    decoder = FrameDecoder(options(backend), backend)
    decoder.update_tracks([track])
    walls: List[float] = []
    own = frames = 0
    cpu_start = time.thread_time()
    pts = 0
    for gop in gops:
        for index, packet in enumerate(gop.packets):
            block = BenchFrame(1, packet, pts, index == 0)
            pts += 67
            start = time.perf_counter()
            pictures = decoder.decode(block)
            walls.append((time.perf_counter() - start) * 1000)
            frames += 1
            own += sum(1 for picture in pictures if picture.pts_ms == block.pts_ms)
    late = len(decoder.flush())
    cpu = time.thread_time() - cpu_start
    decoder.close()
    return {"frames": frames, "wall_ms": walls, "cpu_ms_per_frame": cpu * 1000 / frames,
            "returned_by_own_call": own, "returned_at_flush": late}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per backend and round, live part")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a few seconds, to check that it runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds = 3.0, 1
    reason = gstreamer_available()
    if reason:
        print(f"gstreamer backend unavailable: {reason}", file=sys.stderr)
        return 1
    print(load_line())
    camera = camera_720p15().prepare()
    gops = [camera.fragment(i) for i in range(camera.distinct)]
    calls = {backend: decode_calls(backend, gops, camera.width, camera.height) for backend in BACKENDS}
    print(f"\ndecode() on {calls['pyav']['frames']} blocks of 720p15 H.264 High, bgr24 out")
    print(f"{'backend':10} {'wall p50':>9} {'wall p99':>9} {'CPU ms/frame':>13} {'own call':>9} {'at flush':>9}")
    call_figures: Dict[str, Any] = {}
    for backend, result in calls.items():
        wall = Dist.of(result["wall_ms"])
        call_figures[backend] = {"wall_ms": wall, "cpu_ms_per_frame": result["cpu_ms_per_frame"],
                                 "frames": result["frames"], "returned_by_own_call": result["returned_by_own_call"],
                                 "returned_at_flush": result["returned_at_flush"]}
        print(f"{backend:10} {wall.p50:9.2f} {wall.p99:9.2f} {result['cpu_ms_per_frame']:13.2f} "
              f"{result['returned_by_own_call']:9d} {result['returned_at_flush']:9d}")

    live: Dict[str, Dict[str, Any]] = {backend: {"frames": 0, "latency": [], "cpu_s": 0.0} for backend in BACKENDS}
    with EmulatorProcess(streams=1) as emulator:
        for _ in range(args.rounds):
            for backend in BACKENDS:  # alternating, so a change in the machine's load hits both
                result = live_round(emulator.url, backend, args.seconds)
                live[backend]["frames"] += result["frames"]
                live[backend]["latency"] += result["latency"]
                live[backend]["cpu_s"] += result["cpu_s"]
    print(f"\nlive 720p15 camera, producer time -> decoded picture, {args.rounds} x {args.seconds:.0f} s each")
    print(f"{'backend':10} {'frames':>7} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'max ms':>9} {'CPU ms/frame':>13}")
    live_figures: Dict[str, Any] = {}
    for backend, result in live.items():
        latency = Dist.of(result["latency"])
        cpu_ms = result["cpu_s"] * 1000 / max(result["frames"], 1)
        live_figures[backend] = {"frames": result["frames"], "latency_ms": latency, "cpu_ms_per_frame": cpu_ms}
        print(f"{backend:10} {result['frames']:7d} {latency.row()} {cpu_ms:13.2f}")
    print(load_line())
    name = "gstreamer_backend_quick" if args.quick else "gstreamer_backend"
    path = write_json(name, {"content": "720p15 H.264 High ~2 Mbit/s, GOP 2 s (bench/content.py camera_720p15)",
                             "pipeline": PIPELINE, "pixel_format": "bgr24", "decode_calls": call_figures,
                             "live": live_figures, "seconds_per_round": args.seconds, "rounds": args.rounds})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
