"""The emulator for the benchmarks: in a process of its own, so its CPU and memory are not the consumer's
(EmulatorProcess), the credentials it accepts (KEYS), and when an in-process emulator writes each frame.

    python bench/emulator_process.py serve --streams 16 [--size 1280x720 --fps 15 --fragment 2 --bitrate 1500000]

runs the emulator with live streams cam0..camN-1 (one shared pre-encoded camera) and prints its URL.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

from content import ContentCamera
from kvs_parser.emulator import BytesSent, Emulator, FileMedia, Limits, load_file

KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-west-2"}


# -- the emulator in a process of its own, so its CPU and memory are not the consumer's --


@dataclass
class EmulatorProcess:
    """`python bench/emulator_process.py serve` as a child process; close() ends it."""

    streams: int
    size: str = "1280x720"
    fps: int = 15
    fragment: float = 2.0
    bitrate: int = 2_000_000
    file: Optional[Path] = None  # replay this recording on every stream instead of a ContentCamera
    aligned: bool = False  # every replayed stream's keyframes at the same instant (default: spread, see serve)
    url: str = ""
    _proc: Optional[subprocess.Popen] = None

    def __enter__(self) -> EmulatorProcess:
        source = ["--file", str(self.file)] if self.file else []
        source += ["--aligned"] if self.aligned else []
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve", "--streams", str(self.streams),
             "--size", self.size, "--fps", str(self.fps), "--fragment", str(self.fragment),
             "--bitrate", str(self.bitrate), *source],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.close()
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = line
        return self

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def close(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(Exception):
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the server ends when its stdin closes
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
        self._proc = None

    def __exit__(self, *exc: object) -> None:
        self.close()


def replay_phase_ms(index: int, media: FileMedia) -> int:
    """Where stream `index` starts within the recording's first fragment (its GOP): spread as independent
    cameras' keyframes are, by the golden-ratio sequence, so that any first k streams are spread evenly.
    Started together, every stream would send its keyframe (several times a P-frame's decode) at once."""
    fragments = media.fragments
    gop_ms = fragments[1][0].timecode - fragments[0][0].timecode if len(fragments) > 1 else 1000
    return round((index * 0.6180339887) % 1.0 * gop_ms)


def serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="emulator_process.py serve")
    parser.add_argument("--streams", type=int, default=1)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--fragment", type=float, default=2.0)
    parser.add_argument("--bitrate", type=int, default=2_000_000)
    parser.add_argument("--file", help="replay this recording (loaded once, shared by every stream)")
    parser.add_argument("--aligned", action="store_true",
                        help="start every replayed stream at once (default: each at its own phase of the GOP)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    media = load_file(args.file) if args.file else None
    camera = None if media else ContentCamera(width=width, height=height, fps=args.fps, bitrate=args.bitrate,
                                              fragment_duration=args.fragment).prepare()
    # One consumer per stream, but a benchmark may reconnect often: no throttling by the emulator.
    limits = Limits(getmedia_connections_per_stream=4, getmedia_tps_per_stream=1000)
    with Emulator(limits=limits) as emu:
        for index in range(args.streams):
            if media is not None:
                phase = 0 if args.aligned else replay_phase_ms(index, media)
                emu.add_replay_stream(f"cam{index}", media, phase_ms=phase)
            elif camera is not None:
                emu.add_live_stream(f"cam{index}", camera)
        print(emu.endpoint_url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    return 0


# -- timing of the emulator's writes (in-process emulator only) --


@contextlib.contextmanager
def frame_write_times(emu: Emulator) -> Iterator[List[float]]:
    """perf_counter() as the emulator writes each frame's block (one connection at a time). Without faults
    a block goes out in one write, so this is when its last byte is handed to the socket; taken just
    before the write (the hook runs then), since the reader may run before the writer's thread gets the
    GIL back."""
    times: List[float] = []

    def on_sent(event: BytesSent) -> None:
        if event.frame:
            times.append(time.perf_counter())

    with emu.hooks.on_bytes_sent(on_sent):
        yield times


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve(sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
