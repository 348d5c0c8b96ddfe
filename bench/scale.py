"""Many cameras in one process: N concurrent 720p15 H.264 cameras (N = 1, 4, 8, 16, 32, 64) read with
KVSGetMediaFrameSource, in three modes: full decode, fps_target=5 and keyframes only.

The emulator runs in a process of its own (bench/common.py serve) with 32 live streams sharing one
ContentCamera whose few groups of pictures were encoded once at start-up and are replayed, so while a point
runs the emulator only writes bytes (its CPU is measured and printed). Each point runs in a fresh worker
process (its RSS is its own): N sources plus one reading thread each, a warm-up, then a measured window.

    python bench/scale.py [--seconds 12] [--counts 1,4,8,16,32,64] [--modes full,fps5,keyframes] [--quick]

Per point: delivered fps per camera, dropped (frames not delivered within the window, full-queue drops
included), CPU per camera (% of one core), RSS per camera, latency producer -> read(), emulator CPU.
Also where each point's CPU goes (bench/profiling.py). Writes bench/results/scale.json and .png.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from common import (
    BENCH,
    KEYS,
    CpuClock,
    Dist,
    EmulatorProcess,
    load_line,
    pyplot,
    rss_mb,
    save_plot,
    thread_cpu_seconds,
    write_json,
)
from profiling import COLOUR, DECODE, OTHER, PARSE, instrumented, split

FPS, FRAGMENT = 15, 2.0
MODES: Dict[str, Dict[str, Any]] = {
    "full": {},
    "fps5": {"fps_target": 5.0},
    "keyframes": {"keyframes_only": True},
}
EXPECTED_FPS = {"full": FPS, "fps5": 5.0, "keyframes": 1 / FRAGMENT}
GOAL_DROP, GOAL_RSS_MB = 0.01, 40.0


@dataclass
class Point:
    mode: str
    cameras: int
    seconds: float
    fps_per_camera: float
    expected_fps: float
    dropped: float  # fraction of expected frames not delivered in the window
    queue_drops: int
    cpu_per_camera: float  # % of one core
    cpu_total: float  # % of one core, the whole worker process
    rss_per_camera_mb: float  # (RSS at the end - RSS before the sources) / N
    rss_total_mb: float
    rss_base_mb: float
    latency_ms: Dist  # producer time -> read()
    emulator_cpu: float = 0.0  # % of one core
    thread_cpu: Dict[str, float] = field(default_factory=dict)  # thread group -> % of one core (whole process)
    gc: Dict[str, float] = field(default_factory=dict)  # Python's cyclic GC in the window: runs, % of wall time
    cpu_split: Dict[str, float] = field(default_factory=dict)  # category -> % of one core (profiling.split)
    errors: List[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.dropped < GOAL_DROP and self.rss_per_camera_mb < GOAL_RSS_MB and not self.errors


class GcWatch:
    """Counts the cyclic garbage collector's runs per generation and the wall time they take (each run holds
    the GIL, so every camera's thread waits for it)."""

    def __init__(self) -> None:
        self.runs = [0, 0, 0]
        self.seconds = 0.0
        self._started = 0.0
        self.on = False

    def __call__(self, phase: str, info: Dict[str, Any]) -> None:
        if not self.on:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.runs[info["generation"]] += 1
            self.seconds += time.perf_counter() - self._started


def worker(endpoint: str, cameras: int, mode: str, seconds: float, warmup: float, first: int = 0,
           gc_freeze: bool = False) -> Dict[str, Any]:
    with instrumented() as totals:
        return _worker(endpoint, cameras, mode, seconds, warmup, first, gc_freeze, totals)


def _worker(endpoint: str, cameras: int, mode: str, seconds: float, warmup: float, first: int, gc_freeze: bool,
            totals: Dict[str, float]) -> Dict[str, Any]:
    import gc

    import boto3

    from kvs_parser.source import KVSGetMediaFrameSource

    base_rss = rss_mb()
    sources = [KVSGetMediaFrameSource(f"cam{i}", stream_name=f"cam{i}", session=boto3.Session(**KEYS),
                                      endpoint_url=endpoint, queue_max_size=30, **MODES[mode])
               for i in range(first, first + cameras)]
    window: Dict[str, float] = {}
    counts = [0] * cameras
    lags: List[List[float]] = [[] for _ in range(cameras)]
    stop = threading.Event()

    def read(index: int) -> None:
        source = sources[index]
        while not stop.is_set():
            try:
                frame = source.read(timeout=0.5)
            except Exception:  # FrameTimeout while starting, SourceEnded when stopped
                continue
            now = time.time() * 1000
            if "start" in window and frame.producer_time_ms is not None and \
                    window["start"] <= frame.producer_time_ms < window["end"]:
                counts[index] += 1
                lags[index].append(now - frame.producer_time_ms)

    for source in sources:
        source.start()
    readers = [threading.Thread(target=read, args=(i,), name=f"app-reader-{i}", daemon=True) for i in range(cameras)]
    for thread in readers:
        thread.start()
    time.sleep(warmup)
    if gc_freeze:  # everything made so far (boto3's clients above all) is left out of later collections
        gc.freeze()
    watch = GcWatch()
    gc.callbacks.append(watch)
    watch.on = True
    clock = CpuClock()
    cpu0, wall0, threads0, totals0 = clock.seconds(), time.monotonic(), thread_cpu_seconds(), dict(totals)
    window["end"] = time.time() * 1000 + seconds * 1000
    window["start"] = time.time() * 1000
    time.sleep(seconds)
    cpu1, wall1, threads1, totals1 = clock.seconds(), time.monotonic(), thread_cpu_seconds(), dict(totals)
    watch.on = False
    rss_end = rss_mb()
    time.sleep(1.0)  # a frame produced at the window's end gets this long to arrive
    stop.set()
    metrics = [source.get_metrics() for source in sources]
    errors = [f"{m.camera_id}: {m.error}" for m in metrics if m.error]
    for source in sources:
        source.stop()
    for thread in readers:
        thread.join(2)
    expected = EXPECTED_FPS[mode] * seconds * cameras
    delivered = sum(counts)
    cpu = (cpu1 - cpu0) / (wall1 - wall0) * 100
    return asdict(Point(
        mode, cameras, seconds, delivered / seconds / cameras, EXPECTED_FPS[mode],
        max(0.0, 1 - delivered / expected), sum(m.frames_dropped for m in metrics), cpu / cameras, cpu,
        (rss_end - base_rss) / cameras, rss_end, base_rss, Dist.of([x for lag in lags for x in lag]),
        errors=errors, thread_cpu={name: (threads1[name] - threads0.get(name, 0.0)) / (wall1 - wall0) * 100
                                   for name in threads1},
        gc={"gen0": watch.runs[0], "gen1": watch.runs[1], "gen2": watch.runs[2],
            "percent_of_wall": watch.seconds / (wall1 - wall0) * 100},
        cpu_split=split({k: totals1[k] - totals0[k] for k in totals1},
                        {k: v - threads0.get(k, 0.0) for k, v in threads1.items()}, wall1 - wall0)))


def spawn_worker(endpoint: str, cameras: int, mode: str, seconds: float, warmup: float,
                 first: int = 0, gc_freeze: bool = False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(BENCH / "scale.py"), "--worker", endpoint, "--cameras", str(cameras),
                             "--mode", mode, "--seconds", str(seconds), "--warmup", str(warmup), "--first", str(first),
                             *(["--gc-freeze"] if gc_freeze else [])],
                            stdout=subprocess.PIPE, text=True)


def worker_point(out: str, emulator_cpu: float) -> Point:
    figures = json.loads(out.strip().splitlines()[-1])
    figures["latency_ms"] = Dist(**figures["latency_ms"])
    figures["emulator_cpu"] = emulator_cpu
    return Point(**figures)


def run_point(endpoint: str, emulator_pid: int, cameras: int, mode: str, seconds: float, warmup: float) -> Point:
    proc = spawn_worker(endpoint, cameras, mode, seconds, warmup)
    emulator = CpuClock(emulator_pid)
    time.sleep(warmup + 1.0)  # the worker's imports, then its warm-up
    cpu0, wall0 = emulator.seconds(), time.monotonic()
    out, _ = proc.communicate(timeout=seconds + warmup + 120)
    return worker_point(out, (emulator.seconds() - cpu0) / (time.monotonic() - wall0) * 100)


def run_split(endpoint: str, emulator_pid: int, cameras: int, processes: int, mode: str, seconds: float,
              warmup: float) -> Point:
    """The same N cameras shared out over several worker processes (each has its own GIL), summed up."""
    share = cameras // processes
    procs = [spawn_worker(endpoint, share, mode, seconds, warmup, first=i * share) for i in range(processes)]
    emulator = CpuClock(emulator_pid)
    time.sleep(warmup + 1.0)
    cpu0, wall0 = emulator.seconds(), time.monotonic()
    outs = [proc.communicate(timeout=seconds + warmup + 120)[0] for proc in procs]
    emulator_cpu = (emulator.seconds() - cpu0) / (time.monotonic() - wall0) * 100
    parts = [worker_point(out, emulator_cpu) for out in outs]
    n = sum(p.cameras for p in parts)
    cpu = sum(p.cpu_total for p in parts)
    worst = max(parts, key=lambda p: p.latency_ms.p99)
    return Point(f"{mode}, {processes} processes", n, seconds, sum(p.fps_per_camera * p.cameras for p in parts) / n,
                 parts[0].expected_fps, sum(p.dropped * p.cameras for p in parts) / n,
                 sum(p.queue_drops for p in parts), cpu / n, cpu,
                 sum(p.rss_total_mb - p.rss_base_mb for p in parts) / n, sum(p.rss_total_mb for p in parts),
                 sum(p.rss_base_mb for p in parts), worst.latency_ms, emulator_cpu=emulator_cpu,
                 errors=[e for p in parts for e in p.errors],
                 thread_cpu={k: sum(p.thread_cpu.get(k, 0.0) for p in parts) for p in parts for k in p.thread_cpu},
                 cpu_split={k: sum(p.cpu_split.get(k, 0.0) for p in parts) for p in parts for k in p.cpu_split},
                 gc={k: sum(p.gc.get(k, 0.0) for p in parts) for p in parts for k in p.gc})


def plot(points: List[Point]) -> Any:
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
    for mode in MODES:
        rows = [p for p in points if p.mode == mode]
        if not rows:
            continue
        xs = [p.cameras for p in rows]
        axes[0].plot(xs, [p.fps_per_camera / p.expected_fps * 100 for p in rows], marker="o", label=mode)
        axes[1].plot(xs, [p.cpu_per_camera for p in rows], marker="o", label=mode)
        axes[2].plot(xs, [p.rss_per_camera_mb for p in rows], marker="o", label=mode)
        axes[3].plot(xs, [p.latency_ms.p99 for p in rows], marker="o", label=mode)
    titles = ["delivered, % of the mode's frame rate", "CPU per camera, % of one core", "RSS per camera, MB",
              "latency producer -> read(), p99 ms"]
    counts = sorted({p.cameras for p in points})
    for ax, title in zip(axes, titles):
        ax.set_xscale("log", base=2)
        ax.set_xticks(counts)
        ax.set_xticklabels([str(c) for c in counts])
        ax.set_xlabel("cameras")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
    axes[0].axhline(99, color="grey", linestyle=":")
    axes[0].set_ylim(0, 105)
    axes[1].set_ylim(bottom=0)
    axes[2].set_ylim(bottom=0)
    axes[2].axhline(GOAL_RSS_MB, color="grey", linestyle=":")
    axes[3].set_yscale("log")
    fig.suptitle(f"N x 720p15 H.264 cameras on {load_line()}", fontsize=10)
    return fig


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="measured window per point")
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--counts", default="1,4,8,16,32,64", help="64: past the brief, to find the limit")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--quick", action="store_true", help="2 cameras, 1.5 s, full decode only (smoke test)")
    parser.add_argument("--worker", metavar="ENDPOINT", help=argparse.SUPPRESS)
    parser.add_argument("--cameras", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--gc-freeze", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--split", type=int, default=2,
                        help="also run full decode at the largest N over this many processes (0: not)")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.cameras, args.mode, args.seconds, args.warmup, args.first,
                                args.gc_freeze), default=str))
        return 0
    if args.quick:
        args.seconds, args.warmup, args.counts, args.modes = 1.5, 2.0, "2", "full"
        args.split = 0
    counts = [int(c) for c in args.counts.split(",")]
    modes = args.modes.split(",")
    print(load_line())
    points: List[Point] = []
    with EmulatorProcess(streams=max(counts), fps=FPS, fragment=FRAGMENT) as emulator:
        for mode in modes:
            for cameras in counts:
                points.append(run_point(emulator.url, emulator.pid, cameras, mode, args.seconds, args.warmup))
                p = points[-1]
                print(f"  {mode:9} N={cameras:2}: {p.fps_per_camera:5.2f} fps/camera, "
                      f"dropped {p.dropped * 100:5.1f} %, "
                      f"CPU {p.cpu_per_camera:5.1f} %/camera, RSS {p.rss_per_camera_mb:5.1f} MB/camera, "
                      f"p99 {p.latency_ms.p99:8.1f} ms", flush=True)
        if args.split > 1 and "full" in modes:
            points.append(run_split(emulator.url, emulator.pid, max(counts), args.split, "full", args.seconds,
                                    args.warmup))
    print(f"\n{'mode':<18} {'N':>3} {'fps/cam':>8} {'of':>5} {'dropped':>8} {'CPU/cam':>8} {'CPU all':>8} "
          f"{'RSS/cam':>8} {'RSS all':>8} {'p50 ms':>8} {'p99 ms':>8} {'emu CPU':>8}  holds")
    for p in points:
        print(f"{p.mode:<18} {p.cameras:>3} {p.fps_per_camera:>8.2f} {p.expected_fps:>5.1f} {p.dropped * 100:>7.2f}% "
              f"{p.cpu_per_camera:>7.1f}% {p.cpu_total:>7.0f}% {p.rss_per_camera_mb:>7.1f}M {p.rss_total_mb:>7.0f}M "
              f"{p.latency_ms.p50:>8.1f} {p.latency_ms.p99:>8.1f} {p.emulator_cpu:>7.0f}%  "
              f"{'yes' if p.holds else 'no'}{' ' + '; '.join(p.errors)[:60] if p.errors else ''}")
    print("\nCPU by thread (% of one core): the source reader threads parse, run the decoder and convert colours;"
          " FFmpeg's own decoder threads are the native ones")
    for p in points:
        split = ", ".join(f"{name} {share:.0f}%" for name, share in sorted(p.thread_cpu.items(), key=lambda i: -i[1])
                          if share >= 0.5)
        print(f"  {p.mode:<10} N={p.cameras:<3} {split}")
    one = {p.mode: p for p in points if p.cameras == counts[0]}
    print("\nratios against full decode at the same N (CPU per camera), and largest N that holds "
          f"(< {GOAL_DROP:.0%} dropped, < {GOAL_RSS_MB:.0f} MB/camera):")
    largest: Dict[str, Optional[int]] = {}
    for mode in modes:
        rows = [p for p in points if p.mode == mode]
        holding = [p.cameras for p in rows if p.holds]
        largest[mode] = max(holding) if holding else None
        full = {p.cameras: p for p in points if p.mode == "full"}
        ratio = ", ".join(f"N={p.cameras} x{full[p.cameras].cpu_per_camera / p.cpu_per_camera:.1f}"
                          for p in rows if p.cameras in full and p.cpu_per_camera > 0)
        print(f"  {mode:<10} largest N {largest[mode]}; full/this CPU per camera: {ratio}")
    for p in points:
        if p.mode not in MODES:
            print(f"  {p.mode}: N={p.cameras} {'holds' if p.holds else 'does not hold'} "
                  f"({p.dropped * 100:.2f} % dropped, {p.cpu_total:.0f} % CPU)")
    if one:
        print(f"  (1 camera, full decode: {one.get(modes[0]).cpu_per_camera:.1f} % of a core)")
    print("\nwhere the worker's CPU goes, % of one core (thread CPU time in parse(), the decoder and the colour"
          " conversion, measured in the calls; FFmpeg's own threads count as decode; GC: Python's cyclic collector)")
    print(f"{'mode':<18} {'N':>3} {'parse':>7} {'decode':>7} {'colour':>7} {'Python':>7} {'total':>7} {'GC runs':>8}")
    for p in points:
        s = p.cpu_split
        print(f"{p.mode:<18} {p.cameras:>3} {s.get(PARSE, 0):>7.1f} {s.get(DECODE, 0):>7.1f} {s.get(COLOUR, 0):>7.1f} "
              f"{s.get(OTHER, 0):>7.1f} {sum(s.values()):>7.1f} "
              f"{int(p.gc.get('gen0', 0) + p.gc.get('gen1', 0) + p.gc.get('gen2', 0)):>8}")
    figures = {"points": points, "largest_n": largest,
               "camera": {"size": "1280x720", "fps": FPS, "fragment_s": FRAGMENT}}
    name = "scale_quick" if args.quick else "scale"
    print(f"\nwrote {write_json(name, figures)} and {save_plot(plot(points), name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
