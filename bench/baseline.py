"""The bare decoder: PyAV alone decoding a recording and converting each picture, as cheaply as PyAV can
(one decoder thread, one kept libswscale context with one thread), so the pipeline's CPU per frame has a
peer measured in the same run on the same content.

    python bench/baseline.py FILE [--format bgr24] [--repeats 3] [--threads 1]

    python bench/baseline.py FILE --paced 15   # the same, one frame every 1/15 s, as a live camera

Prints one JSON line: CPU ms per frame (process CPU, every thread, over the decode loop only: opening the
file and reading its packets into memory are excluded), wall ms per frame, frames.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Dict, List

import av
from av.video.reformatter import VideoReformatter


def packets_of(path: str) -> tuple:
    """The video stream's packets in memory, and what a decoder needs to open."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        packets = [bytes(p) for p in container.demux(stream) if p.size]
        return stream.codec_context.name, bytes(stream.codec_context.extradata or b""), packets


def decode_all(codec: str, extradata: bytes, packets: List[bytes], pixel_format: str, threads: int,
               fps: float = 0.0) -> int:
    """Decodes and converts every packet; `fps` > 0 hands them over at that rate, as a live camera does
    (between frames the process sleeps and other work takes the core and its caches)."""
    ctx = av.CodecContext.create(codec, "r")
    ctx.extradata = extradata
    ctx.thread_type, ctx.thread_count = "SLICE", threads
    ctx.open()
    scaler = VideoReformatter()
    frames = 0
    start = time.monotonic()

    def convert(picture: Any) -> None:
        scaler.reformat(picture, format=pixel_format, threads=1).to_ndarray()

    for index, data in enumerate(packets):
        if fps:
            time.sleep(max(0.0, start + index / fps - time.monotonic()))
        for picture in ctx.decode(av.Packet(data)):
            convert(picture)
            frames += 1
    for picture in ctx.decode(None):
        convert(picture)
        frames += 1
    return frames


def measure(path: str, pixel_format: str = "bgr24", repeats: int = 3, threads: int = 1,
            paced: float = 0.0) -> Dict[str, float]:
    """Best of `repeats` passes (the least disturbed by other work on the machine); `paced`: one pass of
    the first 6 s of packets at that frame rate instead."""
    codec, extradata, packets = packets_of(path)
    if paced:
        packets, repeats = packets[: round(6 * paced)], 1
    decode_all(codec, extradata, packets[: min(len(packets), 30)], pixel_format, threads)  # warm caches
    best: Dict[str, float] = {}
    for _ in range(repeats):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        frames = decode_all(codec, extradata, packets, pixel_format, threads, paced)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        if not best or cpu / frames * 1000 < best["cpu_ms_per_frame"]:
            best = {"cpu_ms_per_frame": cpu / frames * 1000, "wall_ms_per_frame": wall / frames * 1000,
                    "frames": frames, "threads": threads, "paced_fps": paced}
    return best


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--format", default="bgr24")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--paced", type=float, default=0.0, metavar="FPS",
                        help="hand packets over at this rate, as a live camera does (6 s, one pass)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.file, args.format, args.repeats, args.threads, args.paced)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
