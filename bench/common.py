"""Shared pieces of the benchmarks: a camera with realistic pre-encoded content, an emulator in its own
process, percentiles, machine load, and the JSON / PNG outputs under bench/results/.

    python bench/common.py serve --streams 16 [--size 1280x720 --fps 15 --fragment 2 --bitrate 1500000]

runs the emulator with live streams cam0..camN-1 (one shared pre-encoded camera) and prints its URL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import av
import numpy as np

from kvs_parser.emulator import (
    BytesSent,
    Emulator,
    Limits,
    Scene,
    SceneSpec,
    SyntheticCamera,
    load_file,
    recording,
    scene_encoder_options,
)
from kvs_parser.emulator._encode import EncodedGop
from kvs_parser.emulator._nal import avcc, length_prefixed, split_annexb

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = Path(os.environ.get("KVS_BENCH_RESULTS", BENCH / "results"))  # the smoke test writes elsewhere
KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-west-2"}


# -- a camera whose pictures cost what a real camera's cost to decode --


def encode_content(width: int, height: int, fps: int, bitrate: int, first: int, count: int,
                   scene: Scene) -> EncodedGop:
    """One group of pictures of the realistic scene from a fresh encoder set as the recordings are
    (kvs_parser.emulator's scene: H.264 High, CABAC, deblocking, veryfast, no B-frames, VBV-capped),
    opening with an IDR."""
    spec = SceneSpec("h264", width, height, fps, bitrate, count / fps, count / fps)
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base, encoder.framerate = Fraction(1, fps), Fraction(fps, 1)
    encoder.bit_rate, encoder.gop_size, encoder.max_b_frames = bitrate, count, 0
    encoder.flags |= av.codec.context.Flags.global_header
    encoder.options = scene_encoder_options(spec)
    encoder.open()
    packets: List[av.Packet] = []
    for i in range(count):
        picture = av.VideoFrame.from_ndarray(scene.picture(first + i), format="yuv420p")
        picture.pts = i
        packets += encoder.encode(picture)
    packets += encoder.encode(None)
    private = avcc(split_annexb(bytes(encoder.extradata or b"")))
    return EncodedGop(private, tuple(length_prefixed(split_annexb(bytes(p))) for p in packets))


@dataclass
class ContentCamera(SyntheticCamera):
    """A SyntheticCamera whose fragments are `distinct` groups of pictures of the realistic scene,
    encoded once up front and then replayed in a loop, so the emulator spends no CPU on encoding while a
    benchmark runs (the emulator shares the machine's 2 cores with the consumer under test)."""

    distinct: int = 3
    _gops: List[EncodedGop] = field(default_factory=list, init=False, repr=False)

    def prepare(self) -> ContentCamera:
        if not self._gops:
            scene = Scene(self.width, self.height)
            count = self.frames_per_fragment
            self._gops = [encode_content(self.width, self.height, self.fps, self.bitrate, i * count, count, scene)
                          for i in range(self.distinct)]
        return self

    def fragment(self, fragment_index: int) -> EncodedGop:
        self.prepare()
        return self._gops[fragment_index % len(self._gops)]

    @property
    def achieved_kbit_s(self) -> float:
        self.prepare()
        size = sum(len(p) for gop in self._gops for p in gop.packets)
        frames = sum(len(gop.packets) for gop in self._gops)
        return size * 8 * self.fps / frames / 1000


def camera_720p15(fragment_duration: float = 2.0, bitrate: int = 2_000_000) -> ContentCamera:
    return ContentCamera(width=1280, height=720, fps=15, bitrate=bitrate, fragment_duration=fragment_duration)


# -- realistic recordings, encoded once and cached (git-ignored) --

MEDIA = Path(os.environ.get("KVS_BENCH_MEDIA", BENCH / "media"))


def content(resolution: str = "720p", codec: str = "h264", seconds: float = 20.0) -> Path:
    """The cached recording of the realistic scene: 720p15 ~2 Mbit/s or 1080p15 ~4 Mbit/s, GOP 2 s."""
    spec = SceneSpec.p720(codec, seconds) if resolution == "720p" else SceneSpec.p1080(codec, seconds)
    return recording(spec, MEDIA)


def getmedia_bytes(path: Path) -> bytes:
    """What GetMedia sends for `path` read from its start: one Segment per fragment (a GOP), with the KVS
    tags (fragment number, timestamps; continuation token and MillisBehindNow after each Cluster)."""
    from kvs_parser.mkv import FragmentInfo, FragmentWriter, end_tags, start_tags

    media = load_file(str(path))
    writer = FragmentWriter(media.tracks, known_cluster_size=True)
    base = 1_700_000_000_000
    out = []
    for index, frames in enumerate(media.fragments):
        number = str(91343852333181432392682062607743920146159169392 + index * (1 << 92))
        info = FragmentInfo(number, base + frames[0].timecode + 300, base + frames[0].timecode)
        out.append(writer.fragment(frames, start_tags(info), end_tags(0, number)))
    return b"".join(out)


# -- the emulator in a process of its own, so its CPU and memory are not the consumer's --


@dataclass
class EmulatorProcess:
    """`python bench/common.py serve` as a child process; close() ends it."""

    streams: int
    size: str = "1280x720"
    fps: int = 15
    fragment: float = 2.0
    bitrate: int = 2_000_000
    file: Optional[Path] = None  # replay this recording on every stream instead of a ContentCamera
    url: str = ""
    _proc: Optional[subprocess.Popen] = None

    def __enter__(self) -> EmulatorProcess:
        source = ["--file", str(self.file)] if self.file else []
        self._proc = subprocess.Popen(
            [sys.executable, str(BENCH / "common.py"), "serve", "--streams", str(self.streams), "--size", self.size,
             "--fps", str(self.fps), "--fragment", str(self.fragment), "--bitrate", str(self.bitrate), *source],
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


def serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="common.py serve")
    parser.add_argument("--streams", type=int, default=1)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--fragment", type=float, default=2.0)
    parser.add_argument("--bitrate", type=int, default=2_000_000)
    parser.add_argument("--file", help="replay this recording (loaded once, shared by every stream)")
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
                emu.add_replay_stream(f"cam{index}", media)
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


# -- figures --


@dataclass(frozen=True)
class Dist:
    """A latency distribution in milliseconds."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Dist:
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan)
        array = np.asarray(values, dtype=np.float64)
        p50, p95, p99 = np.percentile(array, [50, 95, 99])
        return cls(len(array), float(p50), float(p95), float(p99), float(array.max()), float(array.mean()))

    def row(self) -> str:
        return f"{self.p50:9.2f} {self.p95:9.2f} {self.p99:9.2f} {self.max:9.2f}"


def machine() -> Dict[str, Any]:
    """What the figures were measured on, including the load at the time."""
    load1, load5, load15 = os.getloadavg()
    return {"cpus": os.cpu_count(), "loadavg_1_5_15": [load1, load5, load15], "python": sys.version.split()[0],
            "pyav": av.__version__, "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def load_line() -> str:
    load = os.getloadavg()
    return f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"


def write_json(name: str, figures: Any, path: Optional[Path] = None) -> Path:
    path = path or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), "figures": figures}, indent=1, default=_plain) + "\n")
    return path


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON: {type(value)}")


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_plot(fig: Any, name: str, path: Optional[Path] = None) -> Path:
    path = path or RESULTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    pyplot().close(fig)
    return path


class CpuClock:
    """Process CPU seconds (user + system, all threads) of this or another process, via /proc."""

    def __init__(self, pid: Optional[int] = None) -> None:
        self.pid = pid or os.getpid()
        self.tick = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick


def thread_cpu_seconds() -> Dict[str, float]:
    """CPU seconds of this process's threads, grouped: Python threads by name (digits dropped, so the
    readers of all cameras add up), every thread Python does not know (FFmpeg's decoder pools) as native."""
    import threading as _threading

    names = {thread.native_id: "".join(c for c in thread.name if not c.isdigit()).rstrip("-_ ")
             for thread in _threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    groups: Dict[str, float] = {}
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        group = names.get(int(task), "native threads (FFmpeg decoder pools)")
        groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return groups


def rss_mb(pid: Optional[int] = None) -> float:
    with open(f"/proc/{pid or os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Stopwatch(threading.Thread):
    """Samples RSS and CPU of a process every `interval` seconds until stopped."""

    def __init__(self, interval: float, pid: Optional[int] = None) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.interval, self.pid = interval, pid or os.getpid()
        self.samples: List[Tuple[float, float, float]] = []  # (seconds since start, RSS MB, CPU seconds)
        self._stop_event = threading.Event()
        self._clock = CpuClock(self.pid)

    def run(self) -> None:
        start = time.monotonic()
        while True:
            self.samples.append((time.monotonic() - start, rss_mb(self.pid), self._clock.seconds()))
            if self._stop_event.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve(sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
