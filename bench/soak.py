"""One 720p15 camera for 10 minutes: RSS and CPU over time of KVSGetMediaFrameSource (full decode to bgr24)
next to the aws-samples way (bench/peers.py: ebmlite fragments, each decoded whole by PyAV) reading the same
stream at the same time, each in a process of its own; the emulator runs in a third process.

Flat RSS means no growth after the warm-up (the slope of a line fitted to RSS after it is printed in MB
per hour). The CPU of our process is split into parse, decode, colour conversion and Python overhead
(bench/profiling.py: thread CPU time measured in the calls, FFmpeg's own threads from /proc).

    python bench/soak.py [--seconds 600] [--quick]

Writes bench/results/soak.json and .png.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np

from emulator_process import KEYS, EmulatorProcess
from profiling import instrumented, split
from reporting import load_line, pyplot, save_plot, write_json
from resource_usage import Stopwatch, thread_cpu_seconds

BENCH = Path(__file__).resolve().parent
OURS, PEER = "ours (KVSGetMediaFrameSource)", "fragment-level peer (ebmlite + PyAV)"


def consume_ours(endpoint: str, seconds: float) -> Dict[str, Any]:
    import boto3

    from kvs_parser.source import KVSGetMediaFrameSource

    frames = 0
    deadline = time.monotonic() + seconds
    threads0: Dict[str, float] = {}
    totals0: Dict[str, float] = {}
    started = time.monotonic()
    with instrumented() as totals:
        source = KVSGetMediaFrameSource("soak", stream_name="cam0", session=boto3.Session(**KEYS),
                                        endpoint_url=endpoint)
        with source:
            while time.monotonic() < deadline:
                try:
                    source.read(timeout=1.0)
                except Exception:  # FrameTimeout while connecting
                    continue
                frames += 1
                if frames == 1:
                    threads0, totals0, started = thread_cpu_seconds(), dict(totals), time.monotonic()
            threads1, totals1 = thread_cpu_seconds(), dict(totals)
            metrics = source.get_metrics()
    span = time.monotonic() - started
    threads = {name: value - threads0.get(name, 0.0) for name, value in threads1.items()}
    return {"frames": frames, "latency_ms": metrics.latency_ms.__dict__, "errors": metrics.error,
            "queue_drops": metrics.frames_dropped, "connection_resets": metrics.connection_resets,
            "thread_cpu": {name: value / span * 100 for name, value in threads.items()},
            "cpu_split": split({k: totals1[k] - totals0.get(k, 0.0) for k in totals1}, threads, span)}


def consume_peer(endpoint: str, seconds: float) -> Dict[str, Any]:
    import av
    import boto3

    from peers import FragmentAssembler

    session = boto3.Session(**KEYS)
    control = session.client("kinesisvideo", endpoint_url=endpoint)
    data = control.get_data_endpoint(StreamName="cam0", APIName="GET_MEDIA")["DataEndpoint"]
    media = session.client("kinesis-video-media", endpoint_url=data)
    body = media.get_media(StreamName="cam0", StartSelector={"StartSelectorType": "NOW"})["Payload"]
    frames, deadline = 0, time.monotonic() + seconds
    assembler = FragmentAssembler()
    for chunk in body:
        for fragment in assembler.feed(chunk):
            with av.open(io.BytesIO(fragment.data), format="matroska") as container:
                for picture in container.decode(video=0):
                    picture.to_ndarray(format="bgr24")
                    frames += 1
        if time.monotonic() >= deadline:
            break
    body.close()
    return {"frames": frames}


@dataclass
class Track:
    consumer: str
    samples: List[Tuple[float, float, float]] = field(default_factory=list)  # (s, RSS MB, CPU s)
    result: Dict[str, Any] = field(default_factory=dict)

    def rss_after(self, warmup: float) -> List[Tuple[float, float]]:
        return [(t, rss) for t, rss, _ in self.samples if t >= warmup]

    def slope_mb_per_hour(self, start: float) -> float:
        points = [(t, rss) for t, rss, _ in self.samples if t >= start]
        if len(points) < 3:
            return float("nan")
        ts, rss = np.array(points).T
        return float(np.polyfit(ts, rss, 1)[0] * 3600)

    def cpu_percent(self, start: float) -> float:
        points = [(t, cpu) for t, _, cpu in self.samples if t >= start]
        if len(points) < 2:
            return float("nan")
        return (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0]) * 100

    def cpu_series(self) -> List[Tuple[float, float]]:
        return [(b[0], (b[2] - a[2]) / (b[0] - a[0]) * 100) for a, b in zip(self.samples, self.samples[1:])
                if b[0] > a[0]]


def plot(tracks: List[Track], warmup: float, split: Dict[str, float]) -> Any:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    for track in tracks:
        ts = [t / 60 for t, _, _ in track.samples]
        axes[0].plot(ts, [rss for _, rss, _ in track.samples], label=track.consumer)
        cpu = track.cpu_series()
        axes[1].plot([t / 60 for t, _ in cpu], [c for _, c in cpu], label=track.consumer, linewidth=0.8)
    for ax, label in ((axes[0], "RSS, MB"), (axes[1], "CPU, % of one core (per sample interval)")):
        ax.axvline(warmup / 60, color="grey", linestyle=":", label="end of warm-up")
        ax.set_xlabel("minutes")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    names = sorted(split, key=lambda k: -split[k])
    axes[2].barh(range(len(names)), [split[n] for n in names])
    axes[2].set_yticks(range(len(names)))
    axes[2].set_yticklabels(names, fontsize=8)
    axes[2].invert_yaxis()
    axes[2].set_xlabel("% of one core")
    axes[2].set_title("ours: where the CPU goes", fontsize=9)
    fig.suptitle(f"One 720p15 camera over time ({load_line()})", fontsize=10)
    return fig


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--interval", type=float, default=2.0, help="sampling interval, s")
    parser.add_argument("--quick", action="store_true", help="6 s (smoke test)")
    parser.add_argument("--consumer", choices=["ours", "peer"], help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.consumer:
        run = consume_ours if args.consumer == "ours" else consume_peer
        print(json.dumps(run(args.endpoint, args.seconds), default=str))
        return 0
    if args.quick:
        args.seconds, args.interval = 6.0, 0.5
    warmup = min(60.0, args.seconds / 4)
    print(load_line())
    with EmulatorProcess(streams=1) as emulator:
        procs = {name: subprocess.Popen([sys.executable, str(BENCH / "soak.py"), "--consumer", kind, "--endpoint",
                                         emulator.url, "--seconds", str(args.seconds)], stdout=subprocess.PIPE,
                                        text=True)
                 for name, kind in ((OURS, "ours"), (PEER, "peer"))}
        watches = {name: Stopwatch(args.interval, proc.pid) for name, proc in procs.items()}
        watches["emulator"] = Stopwatch(args.interval, emulator.pid)
        for watch in watches.values():
            watch.start()
        outputs = {name: proc.communicate(timeout=args.seconds + 120)[0] for name, proc in procs.items()}
        for watch in watches.values():
            watch.stop()
    tracks = []
    for name, watch in watches.items():
        samples = [s for s in watch.samples if s[1] == s[1]]  # RSS is NaN once the process has ended
        result = json.loads(outputs[name].strip().splitlines()[-1]) if name in outputs else {}
        tracks.append(Track(name, samples, result))
    ours, peer = tracks[0], tracks[1]
    cpu_split: Dict[str, float] = ours.result.get("cpu_split", {})
    end = args.seconds
    print(f"\n{'process':<38} {'frames':>7} {'fps':>6} {'CPU %':>6} {'RSS@warm':>9} {'RSS end':>8} {'RSS max':>8} "
          f"{'MB/hour':>8}")
    for track in tracks:
        after = track.rss_after(warmup)
        frames = track.result.get("frames")
        print(f"{track.consumer:<38} {frames if frames is not None else '-':>7} "
              f"{frames / end if frames else 0:>6.1f} {track.cpu_percent(warmup):>6.1f} "
              f"{after[0][1] if after else float('nan'):>9.1f} {after[-1][1] if after else float('nan'):>8.1f} "
              f"{max(r for _, r in after) if after else float('nan'):>8.1f} {track.slope_mb_per_hour(warmup):>8.2f}")
    print(f"\npeer/ours in the same run: CPU x{peer.cpu_percent(warmup) / ours.cpu_percent(warmup):.2f}, "
          f"RSS x{peer.samples[-1][1] / ours.samples[-1][1]:.2f}")
    latency = ours.result.get("latency_ms", {})
    if latency:
        print(f"ours, producer -> read() over the last frames: p50 {latency.get('p50') or 0:.1f} ms, "
              f"p99 {latency.get('p99') or 0:.1f} ms; queue drops {ours.result.get('queue_drops')}, "
              f"resets {ours.result.get('connection_resets')}")
    if cpu_split:
        total = sum(cpu_split.values())
        print(f"\nours, where the CPU goes ({total:.1f} % of one core over the run; thread CPU time in parse(),"
              " the decoder and the colour conversion, FFmpeg's own threads counted as decode):")
        for name, value in sorted(cpu_split.items(), key=lambda item: -item[1]):
            print(f"  {value:5.2f} % of a core ({value / total * 100:4.1f} %)  {name}")
    figures = {"seconds": args.seconds, "warmup": warmup,
               "tracks": [{"consumer": t.consumer, "result": t.result, "cpu_percent": t.cpu_percent(warmup),
                           "rss_slope_mb_per_hour": t.slope_mb_per_hour(warmup), "samples": t.samples}
                          for t in tracks],
               "cpu_split_pct_of_core": cpu_split}
    name = "soak_quick" if args.quick else "soak"
    print(f"\nwrote {write_json(name, figures)} and {save_plot(plot(tracks, warmup, cpu_split), name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
