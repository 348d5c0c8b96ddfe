"""A camera fleet on one machine: N live cameras of realistic video (bench/content.py: content) read by
the product's pipeline over W worker processes, against the bare decoder on the same content.

    python bench/scale.py [--resolutions 720p,1080p] [--workers 1,2] [--counts 1,8,16,24,32,40,48,56]
                          [--seconds 12] [--warmup 5] [--codec h264] [--aligned] [--quick]

Per resolution: the bare decoder first (bench/baseline.py: PyAV decode + the same bgr24 conversion, one
thread, best of 3, in a process of its own). Then per point, an emulator process replaying the recording
on exactly the N streams read (the file loaded once and shared; each stream starts at its own phase of the
GOP as independent cameras do, --aligned: all at once, every keyframe in the same instant; a real KVS is
not on this machine at all, so it should cost no more than the streams read) and a fresh set of W worker
processes, each running its share of the cameras:
a kvs_parser.camera.Camera (the unit every host runs): KVSGetMediaFrameSource (GetMedia -> parse -> decode ->
bgr24 -> queue) and its consumer thread calling a hook that records each frame.
A count past two that do not hold ends that worker count's series.

Per point: delivered fps per camera; dropped (frames not delivered within the window + 1 s, queue drops
included); CPU of the worker processes (every thread, from /proc), per camera and per frame; the
pipeline's efficiency = bare CPU per frame / pipeline CPU per frame (1.0: no overhead at all); RSS per
camera; latency producer time -> hook. A point holds with < 1 % dropped and p99 < 250 ms. Where the
CPU goes (bench/profiling.py) is printed for every point, every thread counted. Writes
bench/results/scale.json and .png (scale_quick.* with --quick).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from content import content
from emulator_process import KEYS, EmulatorProcess
from profiling import COLOUR, DECODE, OTHER, PARSE, UNACCOUNTED, instrumented, split
from reporting import load_line, pyplot, save_plot, write_json
from resource_usage import CpuClock, rss_mb, thread_cpu_seconds
from stats import Dist

BENCH = Path(__file__).resolve().parent
FPS = 15
GOAL_DROP, GOAL_P99_MS, GOAL_RSS_MB, GOAL_EFFICIENCY = 0.01, 250.0, 40.0, 0.90


@dataclass
class Point:
    resolution: str
    workers: int
    cameras: int
    seconds: float
    fps_per_camera: float
    dropped: float  # fraction of expected frames not delivered in the window
    queue_drops: int
    cpu_total: float  # % of one core, all worker processes, every thread
    cpu_ms_per_frame: float
    efficiency: float  # bare CPU per frame / this
    rss_per_camera_mb: float  # (RSS at the end - RSS before the sources) / N, summed over workers
    rss_total_mb: float
    latency_ms: Dist  # producer time -> hook
    emulator_cpu: float = 0.0
    cpu_split: Dict[str, float] = field(default_factory=dict)
    errors: List[str] = field(default_factory=list)

    @property
    def cpu_per_camera(self) -> float:
        return self.cpu_total / self.cameras

    @property
    def holds(self) -> bool:
        return self.dropped < GOAL_DROP and self.latency_ms.p99 < GOAL_P99_MS and not self.errors


# -- one worker process: its share of the cameras --


def worker(endpoint: str, first: int, cameras: int, seconds: float, warmup: float,
           checkpoint: bool = False) -> Dict[str, Any]:
    with instrumented() as totals, tempfile.TemporaryDirectory() as scratch:
        return _worker(endpoint, first, cameras, seconds, warmup, totals,
                       f"sqlite:///{scratch}/checkpoints.db" if checkpoint else None)


def _worker(endpoint: str, first: int, cameras: int, seconds: float, warmup: float,
            totals: Dict[str, float], checkpoint: Optional[str]) -> Dict[str, Any]:
    import boto3

    from kvs_parser.camera import Camera, hook_runner
    from kvs_parser.checkpoint import open_store
    from kvs_parser.source import KVSGetMediaFrameSource

    base_rss = rss_mb()
    session = boto3.Session(**KEYS)
    store = open_store(checkpoint) if checkpoint else None  # each camera's fragments recorded, as `run` does
    sources = [KVSGetMediaFrameSource(f"cam{i}", stream_name=f"cam{i}", session=session, endpoint_url=endpoint,
                                      queue_max_size=30, checkpoint=store) for i in range(first, first + cameras)]
    window = {"start": float("inf"), "end": float("-inf")}
    counts: Dict[str, int] = {s.camera_id: 0 for s in sources}
    lags: List[float] = []

    def record(camera_id: str, frame: Any) -> None:
        produced = frame.producer_time_ms
        if produced is not None and window["start"] <= produced < window["end"]:
            counts[camera_id] += 1
            lags.append(time.time() * 1000 - produced)

    hook = hook_runner(record)
    units = [Camera(source, hook) for source in sources]
    for unit in units:
        unit.start()
    time.sleep(warmup)
    clock = CpuClock()
    cpu0, wall0, threads0, totals0 = clock.seconds(), time.monotonic(), thread_cpu_seconds(), dict(totals)
    window["end"] = time.time() * 1000 + seconds * 1000
    window["start"] = time.time() * 1000
    time.sleep(seconds)
    cpu1, wall1, threads1, totals1 = clock.seconds(), time.monotonic(), thread_cpu_seconds(), dict(totals)
    rss_end = rss_mb()
    time.sleep(1.0)  # a frame produced at the window's end gets this long to arrive
    metrics = [source.get_metrics() for source in sources]
    for unit in units:
        unit.stop(2)
    if store is not None:
        store.close()
    wall = wall1 - wall0
    return {
        "cameras": cameras, "frames": sum(counts.values()), "cpu_seconds": cpu1 - cpu0, "wall": wall,
        "rss_end": rss_end, "rss_base": base_rss, "lags": [round(x, 1) for x in lags],
        "queue_drops": sum(m.frames_dropped for m in metrics),
        "errors": [f"{m.camera_id}: {m.error}" for m in metrics if m.error],
        "cpu_split": split({k: totals1[k] - totals0[k] for k in totals1},
                           {k: v - threads0.get(k, 0.0) for k, v in threads1.items()}, wall, cpu1 - cpu0),
    }


# -- the parent: points, the bare baseline, the tables --


def bare_baseline(recording: Path, quick: bool) -> Dict[str, float]:
    """The bare decoder as fast as it goes (the reference), and paced at 15 fps like one live camera (how
    much of the gap is the pacing itself: cold caches after each sleep)."""
    def run(*extra: str) -> Dict[str, float]:
        out = subprocess.run([sys.executable, str(BENCH / "baseline.py"), str(recording), *extra], check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    figures = run("--repeats", "1" if quick else "3")
    figures["paced_cpu_ms_per_frame"] = run("--paced", str(FPS))["cpu_ms_per_frame"]
    return figures


def run_point(emulator: EmulatorProcess, resolution: str, workers: int, cameras: int, seconds: float,
              warmup: float, bare_ms: float, checkpoint: bool = False) -> Point:
    shares = [cameras // workers + (1 if i < cameras % workers else 0) for i in range(workers)]
    firsts = [sum(shares[:i]) for i in range(workers)]
    procs = [subprocess.Popen([sys.executable, str(BENCH / "scale.py"), "--worker", emulator.url, "--first",
                               str(first), "--cameras", str(share), "--seconds", str(seconds), "--warmup",
                               str(warmup), *(["--checkpoint"] if checkpoint else [])], stdout=subprocess.PIPE,
                              text=True)
             for first, share in zip(firsts, shares) if share]
    clock = CpuClock(emulator.pid)
    time.sleep(warmup + 1.0)
    cpu0, wall0 = clock.seconds(), time.monotonic()
    parts = [json.loads(p.communicate(timeout=seconds + warmup + 180)[0].strip().splitlines()[-1]) for p in procs]
    emulator_cpu = (clock.seconds() - cpu0) / (time.monotonic() - wall0) * 100
    frames = sum(p["frames"] for p in parts)
    cpu_seconds = sum(p["cpu_seconds"] for p in parts)
    wall = max(p["wall"] for p in parts)
    cpu_ms = cpu_seconds / frames * 1000 if frames else float("nan")
    split_total: Dict[str, float] = {}
    for part in parts:
        for key, value in part["cpu_split"].items():
            split_total[key] = split_total.get(key, 0.0) + value
    return Point(
        resolution, workers, cameras, seconds, frames / seconds / cameras,
        max(0.0, 1 - frames / (FPS * seconds * cameras)),
        sum(p["queue_drops"] for p in parts), cpu_seconds / wall * 100, cpu_ms, bare_ms / cpu_ms if frames else 0.0,
        sum(p["rss_end"] - p["rss_base"] for p in parts) / cameras, sum(p["rss_end"] for p in parts),
        Dist.of([x for p in parts for x in p["lags"]]), emulator_cpu, split_total,
        [e for p in parts for e in p["errors"]])


def plot(points: List[Point], load_at_start: str) -> Any:
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2))
    for resolution, workers in sorted({(p.resolution, p.workers) for p in points}):
        rows = [p for p in points if (p.resolution, p.workers) == (resolution, workers)]
        label = f"{resolution}, {workers} worker{'s' if workers > 1 else ''}"
        xs = [p.cameras for p in rows]
        axes[0].plot(xs, [(1 - p.dropped) * 100 for p in rows], marker="o", label=label)
        axes[1].plot(xs, [p.efficiency for p in rows], marker="o", label=label)
        axes[2].plot(xs, [p.latency_ms.p99 for p in rows], marker="o", label=label)
        axes[3].plot(xs, [p.rss_per_camera_mb for p in rows], marker="o", label=label)
    titles = ["delivered, % of 15 fps", "efficiency: bare decoder CPU/frame / pipeline CPU/frame",
              "latency producer -> hook, p99 ms", "RSS per camera, MB"]
    for ax, title in zip(axes, titles):
        ax.set_xlabel("cameras")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    axes[0].axhline(99, color="grey", linestyle=":")
    axes[0].set_ylim(0, 105)
    axes[1].axhline(GOAL_EFFICIENCY, color="grey", linestyle=":")
    axes[1].set_ylim(0, 1.1)
    axes[2].axhline(GOAL_P99_MS, color="grey", linestyle=":")
    axes[2].set_yscale("log")
    axes[3].axhline(GOAL_RSS_MB, color="grey", linestyle=":")
    axes[3].set_ylim(bottom=0)
    # The load at the start: by the end the run's own overloaded points have raised it.
    fig.suptitle(f"N live cameras, realistic H.264 High, 15 fps; {load_at_start} at the start", fontsize=10)
    return fig


def print_tables(points: List[Point], bare: Dict[str, Dict[str, float]]) -> Dict[str, Any]:
    print(f"\n{'res':<6} {'W':>2} {'N':>3} {'fps/cam':>8} {'dropped':>8} {'CPU all':>8} {'CPU/cam':>8} "
          f"{'ms/frame':>9} {'bare ms':>8} {'effic.':>7} {'paced':>6} {'RSS/cam':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'emu CPU':>8}  holds")
    for p in points:
        print(f"{p.resolution:<6} {p.workers:>2} {p.cameras:>3} {p.fps_per_camera:>8.2f} {p.dropped * 100:>7.2f}% "
              f"{p.cpu_total:>7.0f}% {p.cpu_per_camera:>7.1f}% {p.cpu_ms_per_frame:>9.2f} "
              f"{bare[p.resolution]['cpu_ms_per_frame']:>8.2f} {p.efficiency:>7.2f} "
              f"{bare[p.resolution]['paced_cpu_ms_per_frame'] / p.cpu_ms_per_frame:>6.2f} {p.rss_per_camera_mb:>7.1f}M "
              f"{p.latency_ms.p50:>8.1f} {p.latency_ms.p99:>8.1f} {p.emulator_cpu:>7.0f}%  "
              f"{'yes' if p.holds else 'no'}{' ' + '; '.join(p.errors)[:60] if p.errors else ''}")
    print("(effic.: bare decoder CPU per frame / the pipeline's; paced: the same against the bare decoder fed at "
          f"{FPS} fps like one live camera)")
    print("\nwhere the workers' CPU goes, % of one core (every thread: instrumented parse/decode/conversion "
          "time, FFmpeg's own threads as decode, the rest of the threads as Python + I/O, and CPU of threads that "
          "ended inside the window)")
    print(f"{'res':<6} {'W':>2} {'N':>3} {'parse':>7} {'decode':>7} {'colour':>7} {'Python':>7} {'ended':>7} "
          f"{'total':>7}")
    for p in points:
        s = p.cpu_split
        print(f"{p.resolution:<6} {p.workers:>2} {p.cameras:>3} {s.get(PARSE, 0):>7.1f} {s.get(DECODE, 0):>7.1f} "
              f"{s.get(COLOUR, 0):>7.1f} {s.get(OTHER, 0):>7.1f} {s.get(UNACCOUNTED, 0):>7.1f} {sum(s.values()):>7.1f}")
    summary: Dict[str, Any] = {}
    print(f"\nlargest N that holds (< {GOAL_DROP:.0%} dropped, p99 < {GOAL_P99_MS:.0f} ms), efficiency there "
          f"(goal >= {GOAL_EFFICIENCY})")
    for resolution, workers in sorted({(p.resolution, p.workers) for p in points}):
        rows = [p for p in points if (p.resolution, p.workers) == (resolution, workers)]
        holding = [p for p in rows if p.holds]
        best = max(holding, key=lambda p: p.cameras) if holding else None
        one = next((p for p in rows if p.cameras == 1), None)
        key = f"{resolution}/{workers}w"
        summary[key] = {"largest_n": best.cameras if best else None,
                        "efficiency_at_largest": best.efficiency if best else None,
                        "efficiency_at_1": one.efficiency if one else None,
                        "cpu_per_camera_at_largest": best.cpu_per_camera if best else None,
                        "rss_per_camera_at_largest": best.rss_per_camera_mb if best else None}
        print(f"  {key:<10} largest N {summary[key]['largest_n']}, efficiency at N=1 "
              f"{'-' if one is None else f'{one.efficiency:.2f}'}, at the largest "
              f"{'-' if best is None else f'{best.efficiency:.2f} ({best.cpu_per_camera:.1f} % of a core per camera)'}")
    for resolution in sorted({p.resolution for p in points}):
        one_w, two_w = summary.get(f"{resolution}/1w"), summary.get(f"{resolution}/2w")
        if one_w and two_w and one_w["largest_n"] and two_w["largest_n"]:
            print(f"  {resolution}: 1 -> 2 workers x{two_w['largest_n'] / one_w['largest_n']:.2f} cameras held")
    return summary


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolutions", default="720p,1080p")
    parser.add_argument("--workers", default="1,2", help="worker process counts to compare")
    parser.add_argument("--counts", default="1,8,16,24,32,40,48,56")
    parser.add_argument("--seconds", type=float, default=12.0, help="measured window per point")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--codec", default="h264", choices=["h264", "hevc"])
    parser.add_argument("--aligned", action="store_true",
                        help="every camera's keyframes at the same instant (default: spread over the GOP)")
    parser.add_argument("--quick", action="store_true", help="720p, 1 and 2 cameras on 1 worker, short windows")
    parser.add_argument("--checkpoint", action="store_true",
                        help="every camera records its fragments in a SQLite checkpoint store, as `run --checkpoint` "
                             "does (results as scale_checkpointed)")
    parser.add_argument("--out", help="name of the JSON/PNG under bench/results (default: scale, scale_checkpointed "
                                      "with --checkpoint, scale_quick with --quick)")
    parser.add_argument("--worker", metavar="ENDPOINT", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--cameras", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.first, args.cameras, args.seconds, args.warmup, args.checkpoint)))
        return 0
    if args.quick:
        args.resolutions, args.workers, args.counts, args.seconds, args.warmup = "720p", "1", "1,2", 2.0, 3.0
    counts = [int(c) for c in args.counts.split(",")]
    worker_counts = [int(w) for w in args.workers.split(",")]
    load_at_start = load_line()
    print(load_at_start)
    points: List[Point] = []
    bare: Dict[str, Dict[str, float]] = {}
    recordings: Dict[str, Any] = {}
    for resolution in args.resolutions.split(","):
        path = content(resolution, args.codec, seconds=6.0 if args.quick else 20.0)
        from kvs_parser.emulator import describe_recording

        recordings[resolution] = {"file": path.name, **describe_recording(path)}
        bare[resolution] = bare_baseline(path, args.quick)
        print(f"{resolution}: {recordings[resolution]}\n  bare PyAV decode + bgr24, 1 thread: "
              f"{bare[resolution]['cpu_ms_per_frame']:.2f} CPU ms/frame; paced at {FPS} fps like one live "
              f"camera: {bare[resolution]['paced_cpu_ms_per_frame']:.2f}", flush=True)
        for workers in worker_counts:
            failed = 0
            for cameras in counts:
                if cameras < workers or failed >= 2:
                    continue
                with EmulatorProcess(streams=cameras, file=path, aligned=args.aligned) as emulator:
                    point = run_point(emulator, resolution, workers, cameras, args.seconds, args.warmup,
                                      bare[resolution]["cpu_ms_per_frame"], args.checkpoint)
                points.append(point)
                failed = 0 if point.holds else failed + 1
                print(f"  W={workers} N={cameras:2}: {point.fps_per_camera:5.2f} fps/camera, dropped "
                      f"{point.dropped * 100:5.1f} %, CPU {point.cpu_ms_per_frame:.2f} ms/frame "
                      f"(efficiency {point.efficiency:.2f}), RSS {point.rss_per_camera_mb:5.1f} MB/camera, "
                      f"p99 {point.latency_ms.p99:7.1f} ms, emulator {point.emulator_cpu:.0f} % of a core"
                      f"{'' if point.holds else '  (does not hold)'}", flush=True)
    summary = print_tables(points, bare)
    figures = {"points": [dict(asdict(p), holds=p.holds, cpu_per_camera=p.cpu_per_camera) for p in points],
               "bare": bare, "recordings": recordings, "summary": summary, "aligned_keyframes": args.aligned,
               "load_at_start": load_at_start,
               "goals": {"dropped": GOAL_DROP, "p99_ms": GOAL_P99_MS, "efficiency": GOAL_EFFICIENCY,
                         "rss_per_camera_mb": GOAL_RSS_MB}}
    name = args.out or ("scale_quick" if args.quick else "scale_checkpointed" if args.checkpoint else "scale")
    print(f"\nwrote {write_json(name, figures)} and {save_plot(plot(points, load_at_start), name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
