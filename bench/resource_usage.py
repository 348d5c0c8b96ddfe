"""CPU and memory of a process and of its threads, read from /proc (Linux)."""

from __future__ import annotations

import os
import threading
import time
from typing import Dict, List, Optional, Tuple


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
            try:
                self.samples.append((time.monotonic() - start, rss_mb(self.pid), self._clock.seconds()))
            except OSError:  # the process ended before the sampler was stopped: its samples so far stand
                return
            if self._stop_event.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
