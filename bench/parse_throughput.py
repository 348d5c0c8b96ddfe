"""Parse throughput: this parser (Python callback per frame, and the C++ core alone) against PyAV's own
Matroska demuxer, measured in the same run on the same bytes.

    python bench/parse_throughput.py [--repeats 5] [--fixtures ../shared/fixtures] [--json out.json]

Prints MB/s, frames/s and the per-frame cost for each parser, and the ratios against PyAV.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List

import av

import kvs_parser

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ["output_get_media", "vogels_480", "clusters", "bezos_vogels"]
SYNTHETIC = ["synthetic_720p30_60s", "synthetic_1080p30_30s"]


@dataclass
class Result:
    parser: str
    bytes: int
    frames: int
    seconds: float

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6

    @property
    def us_per_frame(self) -> float:
        return self.seconds / self.frames * 1e6


def best_of(repeats: int, run: Callable[[], int]) -> tuple[float, int]:
    best, frames = float("inf"), 0
    for _ in range(repeats):
        start = time.perf_counter()
        frames = run()
        best = min(best, time.perf_counter() - start)
    return best, frames


def ours(blobs: List[bytes], chunk: int) -> int:
    count = 0

    def on_frame(frame: kvs_parser.Frame) -> None:
        nonlocal count
        count += 1

    for blob in blobs:
        parser = kvs_parser.KVSStreamParser(on_frame=on_frame)
        view = memoryview(blob)
        step = chunk or len(blob)
        for at in range(0, len(blob), step):
            parser.parse(view[at : at + step])
        parser.close()
    return count


def pyav(blobs: List[bytes]) -> int:
    count = 0
    for blob in blobs:
        with av.open(io.BytesIO(blob), format="matroska") as container:
            for packet in container.demux():
                if packet.size:
                    count += 1
    return count


def split_segments(blob: bytes) -> List[bytes]:
    """Cut a GetMedia stream at each EBML header, using our parser's fragment offsets."""
    starts = []
    parser = kvs_parser.KVSStreamParser(on_fragment_start=lambda s: starts.append(s.offset))
    parser.parse(blob)
    parser.close()
    ebml = [blob.rfind(b"\x1a\x45\xdf\xa3", 0, s + 1) for s in starts]
    bounds = [*sorted(set(e if e >= 0 else 0 for e in ebml)), len(blob)]
    return [blob[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def cpp_core(files: List[Path], repeats: int, chunk: int) -> Result:
    compiler = shutil.which(os.environ.get("CXX", "g++"))
    if compiler is None:
        raise SystemExit("a C++ compiler is needed for the core benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "parse_bench"
        sources = sorted(str(p) for p in (ROOT / "cpp" / "src").glob("*.cc"))
        subprocess.run(
            [
                compiler,
                "-O2",
                "-std=c++17",
                "-I",
                str(ROOT / "cpp" / "include"),
                "-I",
                str(ROOT / "cpp" / "src"),
                str(ROOT / "bench" / "parse_bench.cc"),
                *sources,
                "-o",
                str(binary),
            ],
            check=True,
        )
        out = subprocess.run(
            [str(binary), str(repeats), str(chunk), *map(str, files)], check=True, capture_output=True, text=True
        ).stdout
    figures = json.loads(out)
    return Result(
        f"C++ core ({'whole' if chunk == 0 else f'{chunk // 1024} KiB chunks'})",
        figures["bytes"],
        figures["frames"],
        figures["seconds"],
    )


def measure(name: str, files: List[Path], repeats: int) -> List[Result]:
    blobs = [f.read_bytes() for f in files]
    total = sum(len(b) for b in blobs)
    segments = [s for b in blobs for s in split_segments(b)]
    results = []
    seconds, frames = best_of(repeats, lambda: pyav(blobs))
    results.append(Result("PyAV matroska demuxer (one open per stream)", total, frames, seconds))
    seconds, frames = best_of(repeats, lambda: pyav(segments))
    results.append(Result("PyAV matroska demuxer (one open per Segment)", total, frames, seconds))
    for chunk in (0, 65536):
        seconds, frames = best_of(repeats, lambda chunk=chunk: ours(blobs, chunk))
        label = "whole" if chunk == 0 else "64 KiB chunks"
        results.append(Result(f"kvs_parser, Python callback per frame ({label})", total, frames, seconds))
    results.append(cpp_core(files, max(repeats, 20), 0))
    results.append(cpp_core(files, max(repeats, 20), 65536))
    print(f"\n## {name}: {len(files)} file(s), {total / 1e6:.1f} MB, {results[0].frames} frames")
    print("(ratios are against PyAV opening the whole stream once; the frames column shows all parsers agree)")
    print(f"{'parser':58} {'frames':>7} {'MB/s':>9} {'frames/s':>11} {'us/frame':>9} {'x PyAV':>8}")
    for r in results:
        ratio = r.mb_per_s / results[0].mb_per_s
        print(
            f"{r.parser:58} {r.frames:7} {r.mb_per_s:9.0f} {r.frames / r.seconds:11.0f} {r.us_per_frame:9.2f} "
            f"{ratio:8.1f}"
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--fixtures", type=Path, default=Path(os.environ.get("KVS_FIXTURES", ROOT.parent / "shared" / "fixtures"))
    )
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args()
    if not (args.fixtures / "kvs").is_dir():
        print(f"fixtures not found at {args.fixtures}", file=sys.stderr)
        return 2
    sets: Dict[str, List[Path]] = {"real GetMedia captures": [args.fixtures / "kvs" / f"{n}.mkv" for n in CAPTURES]}
    for name in SYNTHETIC:
        path = args.fixtures / "synthetic" / f"{name}.mkv"
        if path.exists():
            sets[name] = [path]
    report = {name: [asdict(r) for r in measure(name, files, args.repeats)] for name, files in sets.items()}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
