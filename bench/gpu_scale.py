"""Cameras per GPU: N live cameras decoded by NVDEC into device arrays, against the CPU path (PyAV) on the
same machine's cores, in the same run.

    python bench/gpu_scale.py                      # full run: NVIDIA GPU + PyNvVideoCodec + CuPy or PyTorch
    python bench/gpu_scale.py --quick --cpu-only   # the CPU half, small: runs on any machine

Each camera is a realistic stream (bench/gpu_content.py: H.264 High / H.265 Main, CABAC, deblocking,
textured panning scene with sensor noise, 2 s GOPs, constant bit rate) parsed by kvs_parser. Its blocks
arrive in real time (15 fps, cameras evenly phased) and go through ``FrameDecoder`` with backend ``nvdec``
(planar RGB, C x H x W, on the GPU) or ``pyav`` (bgr24 numpy, one thread per decoder). An inference-loop
thread takes the newest picture of every camera as one N x C x H x W batch (``LatestFrames``) at 15 Hz.

Per trial, over the steady window (the warm-up, decoder creation and content encoding are excluded):
latency = block arrival -> picture complete in memory (GPU stream synchronised), p50/p99/max; dropped =
blocks that arrived but were decoded later than ``--deadline-ms`` or not at all; host CPU (process time
of every worker process) per camera; GPU memory used (nvidia-smi, whole device) per camera. A trial
passes with < 1 % dropped and p99 under the deadline; each profile climbs its camera ladder until one
fails. Results: bench/results/gpu_scale.json, and $OUT/gpu_scale.json when OUT is set.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

BENCH = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("KVS_BENCH_RESULTS", BENCH / "results"))
NO_GPU_EXIT = 2

# Camera ladders per profile (the full run), run in this order, GPU then CPU per profile so that the peer
# is measured even when the time budget cuts the run short; each ladder stops at its first failing trial.
GPU_LADDERS = {"720p15-h264": [320, 512, 640], "1080p15-h264": [256], "720p15-hevc": [512]}
CPU_LADDERS = {"720p15-h264": [160, 320], "1080p15-h264": [96]}


@dataclass(frozen=True)
class Trial:
    backend: str  # "nvdec" or "pyav"
    profile: str
    cameras: int
    processes: int
    threads: int  # decode threads per process
    warmup_s: float
    measure_s: float
    setup_s: float  # process start, imports, decoder objects (NVDEC sessions open at the first keyframe)
    deadline_ms: float
    pixel_format: str
    array_module: Optional[str]


# -- one worker process: its share of the cameras --


def _decode_share(trial: Trial, stream: bytes, cameras: Sequence[int], t0: float, queue: Any) -> None:
    """Decode ``cameras`` (indices into 0..trial.cameras-1) in real time from monotonic ``t0``; put the
    counts on ``queue``. CLOCK_MONOTONIC is one clock for every process of the machine."""
    sys.path.insert(0, str(BENCH))
    from gpu_content import PROFILES, parse_kvs
    from kvs_parser.batch import LatestFrames
    from kvs_parser.decode import DecodeOptions, FrameDecoder, NumpyArrays, array_module

    profile = PROFILES[trial.profile]
    content = parse_kvs(stream)
    options = DecodeOptions(pixel_format=trial.pixel_format, latency="low", thread_count=1)  # type: ignore[arg-type]
    decoders = {c: FrameDecoder(options, trial.backend) for c in cameras}
    for decoder in decoders.values():
        decoder.update_tracks([content.track])
    arrays = NumpyArrays() if trial.backend == "pyav" else array_module(trial.array_module, 0)
    latest = LatestFrames()
    interval = 1.0 / profile.fps
    measure_from, end = t0 + trial.warmup_s, t0 + trial.warmup_s + trial.measure_s
    lock = threading.Lock()
    result: Dict[str, Any] = {"latencies_ms": [], "arrived": 0, "decoded": 0, "late": 0, "pictures": 0}

    def worker(mine: List[int]) -> None:
        # (arrival time, camera, frame index): the earliest block of any of this thread's cameras first.
        schedule = [(t0 + (c / trial.cameras) * interval, c, 0) for c in mine]
        heapq.heapify(schedule)
        latencies: List[float] = []
        decoded = late = pictures = 0
        while schedule:
            arrival, camera, index = heapq.heappop(schedule)
            if arrival >= end:
                continue  # this camera is done: nothing after the window is scheduled
            now = time.monotonic()
            if arrival > now:
                time.sleep(arrival - now)
            out = decoders[camera].decode(content.frame(index, profile.fps))
            done = time.monotonic()
            for picture in out:
                latest.put(str(camera), picture)
            pictures += len(out)
            if arrival >= measure_from:
                latency = (done - arrival) * 1000
                decoded += 1
                if latency > trial.deadline_ms:
                    late += 1
                latencies.append(latency)
            heapq.heappush(schedule, (arrival + interval, camera, index + 1))
            if done > end + 2 * trial.deadline_ms / 1000:
                break  # hopelessly behind: what is left counts as not decoded
        with lock:
            result["latencies_ms"] += latencies
            result["decoded"] += decoded
            result["late"] += late
            result["pictures"] += pictures

    batches: List[float] = []
    batch_sizes: List[int] = []
    stop_batching = threading.Event()

    def inference_loop() -> None:
        next_at = measure_from
        while not stop_batching.is_set():
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
            started = time.monotonic()
            batch = latest.newest_batch(arrays)
            if batch.tensor is not None:
                _sync(arrays)
                batches.append((time.monotonic() - started) * 1000)
                batch_sizes.append(len(batch))

    groups = [list(cameras[i :: trial.threads]) for i in range(min(trial.threads, len(cameras)))]
    threads = [threading.Thread(target=worker, args=(g,), daemon=True) for g in groups]
    batcher = threading.Thread(target=inference_loop, daemon=True)
    queue.put({"ready": time.monotonic()})
    for t in threads:
        t.start()
    batcher.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    cpu_start = time.process_time()
    for t in threads:
        t.join(trial.warmup_s + trial.measure_s + 60)
    cpu_seconds = time.process_time() - cpu_start
    stop_batching.set()
    batcher.join(5)
    # Blocks each camera delivers inside the window: k with measure_from <= t0 + phase + k / fps < end.
    result["arrived"] = sum(
        math.ceil((end - t0 - phase) * profile.fps) - math.ceil((measure_from - t0 - phase) * profile.fps)
        for phase in ((c / trial.cameras) * interval for c in cameras)
    )
    stats = [d.stats for d in decoders.values()]
    result.update(
        cpu_seconds=cpu_seconds,
        decode_errors=sum(s.decode_errors for s in stats),
        superseded=latest.stats.superseded,
        batches=len(batches),
        batch_ms=batches,
        batch_sizes=batch_sizes,
    )
    for decoder in decoders.values():
        decoder.close()
    queue.put(result)


def _sync(arrays: Any) -> None:
    """Wait for the batch's stack on the current stream (CuPy or PyTorch)."""
    if arrays.name == "cupy":
        import cupy

        cupy.cuda.get_current_stream().synchronize()
    elif arrays.name == "torch":
        import torch

        torch.cuda.current_stream().synchronize()


# -- machine readings --


def gpu_memory_used_mib() -> Optional[float]:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        query = ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"]
        out = subprocess.run(query, capture_output=True, text=True, timeout=20, check=True).stdout
        return float(out.strip().splitlines()[0])
    except (subprocess.SubprocessError, ValueError, IndexError):
        return None


def gpu_description() -> Optional[str]:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20, check=True).stdout.strip()
    except subprocess.SubprocessError:
        return None


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# -- one trial: processes, schedule, aggregation --


def run_trial(trial: Trial, stream: bytes) -> Dict[str, Any]:
    context = multiprocessing.get_context("spawn")  # CUDA contexts do not survive fork
    queue = context.Queue()
    shares = [list(range(p, trial.cameras, trial.processes)) for p in range(min(trial.processes, trial.cameras))]
    idle_mib = gpu_memory_used_mib() if trial.backend == "nvdec" else None
    t0 = time.monotonic() + trial.setup_s
    procs = [context.Process(target=_decode_share, args=(trial, stream, share, t0, queue), daemon=True)
             for share in shares]
    for proc in procs:
        proc.start()
    ready: List[float] = []
    results: List[Dict[str, Any]] = []
    deadline = t0 + trial.warmup_s + trial.measure_s + 120
    mid_mib: Optional[float] = None
    while len(results) < len(procs) and time.monotonic() < deadline:
        halfway = t0 + trial.warmup_s + trial.measure_s / 2
        if mid_mib is None and trial.backend == "nvdec" and time.monotonic() > halfway:
            mid_mib = gpu_memory_used_mib()
        try:
            message = queue.get(timeout=1.0)
        except Exception:
            if not any(p.is_alive() for p in procs):
                break
            continue
        if "ready" in message:
            ready.append(message["ready"])
        else:
            results.append(message)
    for proc in procs:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    if len(results) < len(procs):
        return {"trial": trial.__dict__, "error": f"{len(procs) - len(results)} worker processes gave no result "
                f"(crashed or did not finish; exit codes {[p.exitcode for p in procs]})"}
    latencies = [v for r in results for v in r["latencies_ms"]]
    arrived = sum(r["arrived"] for r in results)
    on_time = sum(r["decoded"] - r["late"] for r in results)
    dropped = max(0, arrived - on_time)
    cpu_cores = sum(r["cpu_seconds"] for r in results) / trial.measure_s
    batch_ms = [v for r in results for v in r["batch_ms"]]
    row: Dict[str, Any] = {
        "trial": trial.__dict__,
        "arrived": arrived,
        "dropped": dropped,
        "dropped_pct": round(100 * dropped / arrived, 3) if arrived else None,
        "latency_ms": {q: _round(percentile(latencies, p)) for q, p in (("p50", 50), ("p99", 99), ("max", 100))},
        "decoded_fps": round(sum(r["decoded"] for r in results) / trial.measure_s, 1),
        "decode_errors": sum(r["decode_errors"] for r in results),
        "host_cpu_cores": round(cpu_cores, 2),
        "host_cpu_pct_of_core_per_camera": round(100 * cpu_cores / trial.cameras, 2),
        "batch": {"count": sum(r["batches"] for r in results), "p99_ms": _round(percentile(batch_ms, 99)),
                  "pictures_superseded": sum(r["superseded"] for r in results)},
        "setup_missed": any(t > t0 for t in ready),  # a process started after the schedule did
    }
    if idle_mib is not None and mid_mib is not None:
        row["gpu_memory_mib"] = {"idle": idle_mib, "running": mid_mib,
                                 "per_camera": round((mid_mib - idle_mib) / trial.cameras, 1)}
    p99 = row["latency_ms"]["p99"]
    row["passed"] = bool(arrived and dropped / arrived < 0.01 and p99 is not None and p99 <= trial.deadline_ms)
    return row


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 2)


# -- the run --


def nvdec_problem(array_module_name: Optional[str]) -> Optional[str]:
    """Why the GPU half cannot run here (None when it can): the same checks, in the same order, as
    choosing the nvdec backend (PyNvVideoCodec and its driver, then an array library and the GPU)."""
    from kvs_parser.decode import DecodeOptions, NvdecBackend, array_module
    from kvs_parser.decode._nvdec_session import load_pynvvideocodec
    from kvs_parser.errors import KVSError

    try:
        load_pynvvideocodec()
        NvdecBackend(DecodeOptions(pixel_format="rgbp"), arrays=array_module(array_module_name, 0))
    except KVSError as error:
        return str(error)
    return None


def ladder(spec: Dict[str, List[int]], override: Optional[str]) -> Dict[str, List[int]]:
    """``--cameras 720p15-h264=64,256`` (repeatable, ';'-separated) replaces the default ladders."""
    if not override:
        return spec
    out: Dict[str, List[int]] = {}
    for item in override.split(";"):
        name, counts = item.split("=")
        out[name.strip()] = [int(c) for c in counts.split(",")]
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small run to check the harness (not a result)")
    parser.add_argument("--cpu-only", action="store_true", help="only the CPU (PyAV) half; runs without a GPU")
    parser.add_argument("--gpu-cameras", help="GPU ladders, e.g. '720p15-h264=64,512;1080p15-h264=128'")
    parser.add_argument("--cpu-cameras", help="CPU ladders, same form")
    parser.add_argument("--setup", type=float, default=12.0, help="seconds for worker processes to start")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds excluded at the start of a trial")
    parser.add_argument("--measure", type=float, default=8.0, help="seconds measured per trial")
    parser.add_argument("--deadline-ms", type=float, default=500.0, help="later than this counts as dropped")
    parser.add_argument("--content-seconds", type=float, default=4.0, help="distinct content, looped")
    parser.add_argument("--gpu-processes", type=int, default=8)
    parser.add_argument("--gpu-threads", type=int, default=8, help="decode threads per GPU worker process")
    parser.add_argument("--cpu-processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cpu-threads", type=int, default=1, help="decode threads per CPU worker process")
    parser.add_argument("--array-module", choices=["cupy", "torch"], default=None)
    parser.add_argument("--budget-seconds", type=float, default=270.0, help="skip trials that would end later")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(BENCH))
    from gpu_content import PROFILES, bitrate_kbit_s, encode_kvs, parse_kvs

    started = time.monotonic()
    gpu_ladders = ladder(GPU_LADDERS, args.gpu_cameras)
    cpu_ladders = ladder(CPU_LADDERS, args.cpu_cameras)
    if args.quick:
        args.setup, args.warmup, args.measure, args.content_seconds = 5.0, 1.0, 3.0, 2.0
        gpu_ladders = ladder({"720p15-h264": [8, 32]}, args.gpu_cameras)
        cpu_ladders = ladder({"720p15-h264": [2]}, args.cpu_cameras)
        args.cpu_processes = min(args.cpu_processes, 2)
    if not args.cpu_only:
        problem = nvdec_problem(args.array_module)
        if problem is not None:
            print(f"gpu_scale: the GPU half cannot run on this machine: {problem}\n"
                  f"(run it on a machine with an NVIDIA GPU, or give --cpu-only for the CPU half alone)",
                  file=sys.stderr)
            return NO_GPU_EXIT

    contents: Dict[str, bytes] = {}
    content_info: Dict[str, Any] = {}
    for name in sorted(set(cpu_ladders) | (set() if args.cpu_only else set(gpu_ladders))):
        profile = PROFILES[name]
        contents[name] = encode_kvs(profile, args.content_seconds)
        parsed = parse_kvs(contents[name])
        private = bytes(parsed.track.codec_private)
        content_info[name] = {
            "codec_id": parsed.track.codec_id, "size": f"{profile.width}x{profile.height}", "fps": profile.fps,
            "kbit_s": round(bitrate_kbit_s(parsed, profile.fps)), "frames": len(parsed.blocks),
            "encoder": "libx264 medium, High profile, CABAC, deblocking, no B-frames" if profile.codec == "h264"
            else "libx265 fast, Main profile, no B-frames",
            "h264_profile_idc": private[1] if profile.codec == "h264" else None,
        }
        print(f"content {name}: {content_info[name]}", flush=True)

    def climb(backend: str, ladders: Dict[str, List[int]], processes: int, threads: int,
              pixel_format: str) -> List[Dict]:
        rows: List[Dict] = []
        for name, counts in ladders.items():
            for cameras in counts:
                elapsed = time.monotonic() - started
                if elapsed + args.setup + args.warmup + args.measure + 10 > args.budget_seconds:
                    rows.append({"trial": {"backend": backend, "profile": name, "cameras": cameras},
                                 "skipped": f"time budget ({elapsed:.0f} s used of {args.budget_seconds:.0f})"})
                    continue
                setup = (args.setup if backend == "nvdec" else min(args.setup, 6.0)) + 0.01 * cameras
                trial = Trial(backend, name, cameras, min(processes, cameras), threads, args.warmup, args.measure,
                              setup, args.deadline_ms, pixel_format, args.array_module)
                row = run_trial(trial, contents[name])
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "trial"}, default=str),
                      f"<- {backend} {name} x{cameras}", flush=True)
                if not row.get("passed"):
                    break
        return rows

    gpu_rows: List[Dict] = []
    cpu_rows: List[Dict] = []
    for name in dict.fromkeys([*([] if args.cpu_only else gpu_ladders), *cpu_ladders]):
        if not args.cpu_only and name in gpu_ladders:
            gpu_rows += climb("nvdec", {name: gpu_ladders[name]}, args.gpu_processes, args.gpu_threads, "rgbp")
        if name in cpu_ladders:
            cpu_rows += climb("pyav", {name: cpu_ladders[name]}, args.cpu_processes, args.cpu_threads, "bgr24")

    def sustained(rows: List[Dict], profile: str) -> Optional[int]:
        passing = [r["trial"]["cameras"] for r in rows if r.get("passed") and r["trial"]["profile"] == profile]
        return max(passing) if passing else None

    profiles = sorted({r["trial"]["profile"] for r in gpu_rows + cpu_rows})
    report = {
        "benchmark": "gpu_scale",
        "quick": args.quick,
        "cpu_only": args.cpu_only,
        "machine": {"gpu": gpu_description(), "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
                    "python": platform.python_version()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "content": content_info,
        "summary": {p: {"gpu_cameras_sustained": sustained(gpu_rows, p),
                        "cpu_cameras_sustained": sustained(cpu_rows, p)} for p in profiles},
        "gpu_trials": gpu_rows,
        "cpu_trials": cpu_rows,
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str)
    (args.results / "gpu_scale.json").write_text(text)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"]).mkdir(parents=True, exist_ok=True)
        (Path(os.environ["OUT"]) / "gpu_scale.json").write_text(text)
    print(json.dumps(report["summary"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
