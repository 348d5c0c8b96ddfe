"""Frame latency of the GetMedia client: from the emulator writing a frame's last byte to the frame
callback, against a fragment-level peer (frames handed out when their fragment ends, as consumers that read
whole fragments do), measured in the same run on the same live streams over 127.0.0.1.

    python bench/latency.py [--seconds 6] [--json out.json]

Prints p50/p95/p99 in milliseconds per bitrate and consumer, and the peer/ours ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Iterator, List

import boto3

from kvs_parser import KVSStreamParser
from kvs_parser.emulator import Emulator, Limits, SyntheticCamera
from kvs_parser.emulator import body as emulator_body
from kvs_parser.emulator.encode import EncodedGop
from kvs_parser.getmedia import GetMediaClient, StartSelector
from kvs_parser.getmedia import body as body_io

KEYS = {"aws_access_key_id": "x", "aws_secret_access_key": "x", "region_name": "us-west-2"}


@dataclass
class PaddedCamera(SyntheticCamera):
    """The synthetic camera at a real bitrate: its test pattern compresses to almost nothing, so each
    frame is padded with an H.264 filler NAL unit (type 12) up to bitrate / fps bytes."""

    def fragment(self, fragment_index: int) -> EncodedGop:
        gop = super().fragment(fragment_index)
        target = self.bitrate // 8 // self.fps
        return replace(gop, packets=tuple(_pad(packet, target) for packet in gop.packets))


def _pad(packet: bytes, target: int) -> bytes:
    size = target - len(packet) - 4  # the filler NAL after its 4-byte length
    if size < 2:
        return packet
    return packet + size.to_bytes(4, "big") + b"\x0c" + b"\xff" * (size - 2) + b"\x80"


CAMERAS = {  # name -> camera; the achieved bitrate is measured and printed
    "100 kbit/s": PaddedCamera(width=160, height=120, fps=10, bitrate=100_000, fragment_duration=1.0),
    "4 Mbit/s": PaddedCamera(width=640, height=480, fps=30, bitrate=4_000_000, fragment_duration=1.0),
}


@dataclass
class Row:
    stream: str
    consumer: str
    frames: int
    kbit_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@contextlib.contextmanager
def frame_write_times() -> Iterator[List[float]]:
    """perf_counter() as the emulator writes each frame (one connection at a time). Without faults a
    frame's block goes out in one write, so this is when its last byte is handed to the socket; taken just
    before the write, since the reader may run before the writer's thread gets the GIL back."""
    times: List[float] = []
    original = emulator_body.BodySender.send

    def send(self: Any, piece: Any) -> None:
        if piece.frame:
            times.append(time.perf_counter())
        original(self, piece)

    emulator_body.BodySender.send = send  # type: ignore[method-assign]
    try:
        yield times
    finally:
        emulator_body.BodySender.send = original  # type: ignore[method-assign]


def ours(client: GetMediaClient, name: str, seconds: float, on_frame: Callable[[Any], None]) -> None:
    stream = client.stream(name, start=StartSelector.now(), on_frame=on_frame)
    timer = threading.Timer(seconds, stream.stop)
    timer.start()
    try:
        stream.run()
    finally:
        timer.cancel()


def fragment_level(client: GetMediaClient, name: str, seconds: float, on_frame: Callable[[Any], None]) -> None:
    """The peer: the same bytes and parser, but a fragment's frames are handed out when it ends."""
    media = client.resolver.media({"StreamName": name})
    body = media.get_media(StreamName=name, StartSelector={"StartSelectorType": "NOW"})["Payload"]
    held: List[Any] = []

    def release(_fragment: Any) -> None:
        for frame in held:
            on_frame(frame)
        held.clear()

    parser = KVSStreamParser(on_frame=held.append, on_fragment_end=release)
    read = body_io.reader(body)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            chunk = read(64 * 1024)
            if not chunk:
                break
            parser.parse(chunk)
    finally:
        body.close()


def measure(emu: Emulator, name: str, consumer: str, seconds: float) -> Row:
    delivered: List[float] = []
    sizes: List[int] = []
    run = ours if consumer == "ours (frame by frame)" else fragment_level

    def on_frame(frame: Any) -> None:
        delivered.append(time.perf_counter())
        sizes.append(frame.size)

    with frame_write_times() as written, \
            GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url) as client:
        run(client, name, seconds, on_frame)
    # NOW begins with the current fragment's backlog, sent at once: keep frames written after it.
    pairs = list(zip(written, delivered))[5:]
    lags = sorted((got - wrote) * 1000 for wrote, got in pairs)
    span = (pairs[-1][0] - pairs[0][0]) if len(pairs) > 1 else 1.0
    quantile = statistics.quantiles(lags, n=100, method="inclusive")
    return Row(name, consumer, len(lags), sum(sizes[5:]) * 8 / 1000 / span,
               quantile[49], quantile[94], quantile[98])


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per stream and consumer")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)
    rows: List[Row] = []
    with Emulator(limits=Limits(getmedia_tps_per_stream=1000)) as emu:
        for index, (label, camera) in enumerate(CAMERAS.items()):
            emu.add_live_stream(f"cam{index}", camera)
            time.sleep(1.0)  # let encoding get ahead
            for consumer in ("ours (frame by frame)", "fragment-level peer"):
                rows.append(measure(emu, f"cam{index}", consumer, args.seconds))
                rows[-1].stream = label
            emu.remove_stream(f"cam{index}")
    print(f"{'stream':<11} {'consumer':<22} {'frames':>6} {'kbit/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for row in rows:
        print(f"{row.stream:<11} {row.consumer:<22} {row.frames:>6} {row.kbit_s:>7.0f} "
              f"{row.p50_ms:>8.2f} {row.p95_ms:>8.2f} {row.p99_ms:>8.2f}")
    for ours_row, peer in zip(rows[::2], rows[1::2]):
        print(f"{ours_row.stream}: peer/ours p50 x{peer.p50_ms / ours_row.p50_ms:.0f}, "
              f"p99 x{peer.p99_ms / ours_row.p99_ms:.0f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump([asdict(row) for row in rows], out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
