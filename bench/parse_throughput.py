"""Parse throughput: this parser (Python callback per frame, and the C++ core alone) against PyAV's own
Matroska demuxer and against the pure-Python ebmlite approach of the aws-samples consumer library
(bench/peers.py), measured in the same run on the same bytes.

    python bench/parse_throughput.py [--repeats 5] [--fixtures tests/fixtures] [--quick]

Prints MB/s, frames/s and the per-frame cost for each parser, and the ratios against PyAV and ebmlite;
writes bench/results/parse_throughput.json and .png (--json / --plot to put them elsewhere).
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
from typing import Callable, Dict, List, Optional

import av

import kvs_parser
from content import content, getmedia_bytes
from peers import BOTOCORE_CHUNK, FragmentAssembler, fragment_tags, simple_blocks
from reporting import load_line, pyplot, save_plot, write_json

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ["output_get_media", "vogels_480", "clusters", "bezos_vogels"]
GENERATED = ["720p", "1080p"]  # bench/content.py content(): realistic H.264 High, 15 fps, GOP 2 s, 20 s


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

    def on_frame(frame: kvs_parser.ParsedFrame) -> None:
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


def pyav_opened(repeats: int, blobs: List[bytes]) -> tuple[float, int]:
    """PyAV in steady state: containers opened (header probed) before the clock starts, demux timed alone."""
    best, frames = float("inf"), 0
    for _ in range(repeats):
        containers = [av.open(io.BytesIO(blob), format="matroska") for blob in blobs]
        start = time.perf_counter()
        frames = 0
        for container in containers:
            for packet in container.demux():
                if packet.size:
                    frames += 1
        best = min(best, time.perf_counter() - start)
        for container in containers:
            container.close()
    return best, frames


def ebmlite(blobs: List[bytes], chunk: int) -> int:
    """The aws-samples way: buffer chunks, re-parse, cut fragments, read tags and SimpleBlocks from the DOM."""
    count = 0
    for blob in blobs:
        assembler = FragmentAssembler()
        fragments = []
        for at in range(0, len(blob), chunk):
            fragments += assembler.feed(blob[at : at + chunk])
        for fragment in fragments + assembler.finish():
            fragment_tags(fragment.dom)
            count += len(simple_blocks(fragment.dom))
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


def measure(name: str, files: List[Path], repeats: int, core: bool = True) -> List[Result]:
    blobs = [f.read_bytes() for f in files]
    total = sum(len(b) for b in blobs)
    segments = [s for b in blobs for s in split_segments(b)]
    results = []
    seconds, frames = pyav_opened(repeats, blobs)
    results.append(Result("PyAV matroska demuxer, steady state (opened before timing)", total, frames, seconds))
    seconds, frames = best_of(repeats, lambda: pyav(blobs))
    results.append(Result("PyAV matroska demuxer, open included (one per stream)", total, frames, seconds))
    seconds, frames = best_of(repeats, lambda: pyav(segments))
    results.append(Result("PyAV matroska demuxer (one open per Segment)", total, frames, seconds))
    for chunk in (0, 65536, BOTOCORE_CHUNK):
        seconds, frames = best_of(repeats, lambda chunk=chunk: ours(blobs, chunk))
        label = {0: "whole", 65536: "64 KiB chunks"}.get(chunk, "1 KiB chunks, as the peer reads")
        results.append(Result(f"kvs_parser, Python callback per frame ({label})", total, frames, seconds))
    if core:
        results.append(cpp_core(files, max(repeats, 20), 0))
        results.append(cpp_core(files, max(repeats, 20), 65536))
    # The peer is slow and deterministic: fewer repeats.
    for chunk, label in ((BOTOCORE_CHUNK, "1 KiB chunks, as botocore yields them"), (65536, "64 KiB chunks")):
        seconds, frames = best_of(max(1, repeats // 3), lambda chunk=chunk: ebmlite(blobs, chunk))
        results.append(Result(f"ebmlite, aws-samples driver ({label})", total, frames, seconds))
    peer = results[-2]
    print(f"\n## {name}: {len(files)} file(s), {total / 1e6:.1f} MB, {results[0].frames} frames")
    print("(x PyAV: against PyAV's demuxer in steady state, its container opened before timing; x ebmlite: against")
    print(" the aws-samples driver as it reads a StreamingBody; ebmlite counts SimpleBlocks only, so BlockGroup")
    print(" frames are not in its column)")
    print(f"{'parser':72} {'frames':>7} {'MB/s':>9} {'frames/s':>11} {'us/frame':>9} {'x PyAV':>8} {'x ebmlite':>9}")
    for r in results:
        print(
            f"{r.parser:72} {r.frames:7} {r.mb_per_s:9.1f} {r.frames / r.seconds:11.0f} {r.us_per_frame:9.2f} "
            f"{r.mb_per_s / results[0].mb_per_s:8.1f} {r.mb_per_s / peer.mb_per_s:9.1f}"
        )
    return results


def plot(report: Dict[str, List[Result]], path: Optional[Path]) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 5.5))
    names = list(report)
    parsers = [r.parser for r in report[names[0]]]
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        speeds = {r.parser: r.mb_per_s for r in report[name]}
        ax.barh([p + i * width for p in range(len(parsers))], [speeds.get(p, 0) for p in parsers], height=width,
                label=name)
    ax.set_yticks([p + width * (len(names) - 1) / 2 for p in range(len(parsers))])
    ax.set_yticklabels(parsers, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("MB/s (log scale, higher is better)")
    ax.set_title(f"Parse throughput, same bytes, same run ({load_line()})", fontsize=10)
    ax.legend(fontsize=8)
    return save_plot(fig, "parse_throughput", path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--fixtures", type=Path, default=Path(os.environ.get("KVS_FIXTURES", ROOT / "tests" / "fixtures"))
    )
    parser.add_argument("--json", type=Path, help="write the raw figures here (default bench/results/)")
    parser.add_argument("--plot", type=Path, help="write the plot here (default bench/results/)")
    parser.add_argument("--quick", action="store_true", help="one repeat, captures only, no C++ core build")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    if not (args.fixtures / "kvs").is_dir():
        print(f"fixtures not found at {args.fixtures}", file=sys.stderr)
        return 2
    sets: Dict[str, List[Path]] = {"real GetMedia captures": [args.fixtures / "kvs" / f"{n}.mkv" for n in CAPTURES]}
    with tempfile.TemporaryDirectory() as tmp:
        for resolution in GENERATED if not args.quick else []:
            path = Path(tmp) / f"{resolution}.mkv"
            path.write_bytes(getmedia_bytes(content(resolution)))
            sets[f"generated {resolution}15 H.264 High, 20 s as GetMedia sends it"] = [path]
        return _run(args, sets)


def _run(args: argparse.Namespace, sets: Dict[str, List[Path]]) -> int:
    print(load_line())
    report = {name: measure(name, files, args.repeats, core=not args.quick) for name, files in sets.items()}
    raw = {name: [dict(asdict(r), mb_per_s=r.mb_per_s, us_per_frame=r.us_per_frame) for r in rows]
           for name, rows in report.items()}
    print(f"\nwrote {write_json('parse_throughput', raw, args.json)} and {plot(report, args.plot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
