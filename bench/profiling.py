"""Where the CPU goes: py-spy samples (native frames included) of a running process, sorted into parse,
decode, colour conversion, socket I/O and Python overhead."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

# Checked from the innermost frame outwards; the first category a frame matches takes the sample.
CATEGORIES: List[Tuple[str, Tuple[str, ...]]] = [
    ("colour conversion (libswscale)", ("sws_", "swscale", "ff_yuv2", "yuv2rgb", "ff_rgb", "reformat",
                                        "to_ndarray")),
    ("decode (libavcodec H.264)", ("h264", "avcodec_", "ff_", "libavcodec", "decode (av/")),
    ("parse (native kvs_parser)", ("kvs_parser::", "_kvsparser", "StreamParser", "EbmlReader", "parse (kvs_parser")),
    ("socket read / HTTP (urllib3, ssl)", ("recv", "readinto", "sock_", "urllib3", "http/client", "socket")),
]
OTHER = "Python overhead (getmedia, decoder glue, queue, metrics)"
DECODE = CATEGORIES[1][0]
# A sample whose innermost frames wait (for a lock, the GIL, a condition, the socket, a timer) is idle.
WAITS = ("pthread_cond_", "poll (", "select (", "clock_nanosleep", "sem_wait", "sem_timedwait", "futex",
         "PyThread_acquire_lock", "take_gil", "epoll_wait", "pthread_mutex_lock", "time_sleep")


@dataclass
class Profile:
    samples: int
    shares: Dict[str, float]  # category -> fraction of the busy samples
    top: List[Tuple[str, int]]  # most frequent innermost Python/native frames

    def table(self) -> str:
        lines = [f"  {share * 100:5.1f} %  {name}" for name, share in sorted(self.shares.items(), key=lambda i: -i[1])]
        return "\n".join(lines)


def record(pid: int, seconds: float, rate: int = 67) -> Optional[Path]:
    """py-spy record of `pid` for `seconds` (raw collapsed stacks); None when py-spy is not installed. Native
    stacks need the process paused for each sample, which slows it a little: profile runs are not measured."""
    if shutil.which("py-spy") is None:
        return None
    out = Path(tempfile.mkdtemp()) / "profile.txt"
    subprocess.run(["py-spy", "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(rate),
                    "--native", "--format", "raw", "--output", str(out)],
                   check=False, capture_output=True, timeout=seconds + 60)
    return out if out.exists() else None


def categorise(path: Path) -> Profile:
    counts: Counter = Counter()
    leaves: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        frames = stack.split(";")
        if any(wait in frame for frame in frames[-3:] for wait in WAITS):
            continue
        n = int(number)
        total += n
        counts[_category(frames)] += n
        leaves[frames[-1][:90]] += n
    shares = {name: count / total for name, count in counts.items()} if total else {}
    return Profile(total, shares, leaves.most_common(12))


def _category(frames: List[str]) -> str:
    for frame in reversed(frames):
        for name, needles in CATEGORIES:
            if any(needle in frame for needle in needles):
                return name
    return OTHER


def combine(profile: Profile, python_cpu: float, native_cpu: float) -> Dict[str, float]:
    """The process's CPU (% of one core) by category: py-spy's shares of the Python threads' CPU, plus the
    threads Python does not know (FFmpeg's slice-decoding pool), which py-spy cannot sample, as decode."""
    split = {name: share * python_cpu for name, share in profile.shares.items()}
    split[DECODE] = split.get(DECODE, 0.0) + native_cpu
    return split
