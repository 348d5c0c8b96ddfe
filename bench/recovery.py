"""Recovery from forced disconnects: the emulator drops the GetMedia connection at a random byte of each
response (Fault(close_after_bytes=...)), >= 50 times in a row on a live 720p15 camera; GetMediaStream
resumes from its continuation token and skips what it already delivered.

Per disconnect: the time from the emulator dropping the connection to the next frame delivered, and that
frame's lag behind its arrival in the emulator. Over the run: frames lost and frames repeated, from the
frame index each frame's timecode carries. The peer is the same stream read without faults in the same
run (its frame gaps are the camera's own frame interval).

    python bench/recovery.py [--cuts 60] [--seed 1] [--quick]

Writes bench/results/recovery.json and .png.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

import boto3

from common import KEYS, Dist, camera_720p15, load_line, pyplot, save_plot, write_json
from kvs_parser.emulator import Emulator, Fault, Limits, index_from_timecode
from kvs_parser.emulator import _body as emulator_body
from kvs_parser.getmedia import GetMediaClient, Reset, StartSelector
from latency import append_times


@contextlib.contextmanager
def drop_times() -> Iterator[List[float]]:
    """perf_counter() each time the emulator drops a connection on purpose."""
    times: List[float] = []
    original = emulator_body.BodySender.send

    def send(self: Any, piece: Any) -> None:
        try:
            original(self, piece)
        except emulator_body.ConnectionDropped:
            times.append(time.perf_counter())
            raise

    emulator_body.BodySender.send = send  # type: ignore[method-assign]
    try:
        yield times
    finally:
        emulator_body.BodySender.send = original  # type: ignore[method-assign]


@dataclass
class Run:
    label: str
    cuts: int
    positions: List[int]
    delivered: List[Tuple[int, float, int]] = field(default_factory=list)  # (frame index, perf time, producer ms)
    drops: List[float] = field(default_factory=list)
    resets: List[Tuple[str, int, float]] = field(default_factory=list)  # (reason, attempt, backoff delay s)
    appended: Dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0


def read(emu: Emulator, name: str, run: Run, fps: int, until: float, stop_after_drops: Optional[int]) -> None:
    with GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url) as client:
        def on_reset(reset: Reset) -> None:
            run.resets.append((reset.reason, reset.attempt, reset.delay))

        stream = client.stream(name, start=StartSelector.now(), on_reset=on_reset)
        done = threading.Event()

        def watchdog() -> None:
            while not done.wait(0.1):
                enough = stop_after_drops is not None and len(run.drops) >= stop_after_drops
                if time.monotonic() >= until or enough:
                    time.sleep(1.5 if enough else 0)  # frames after the last cut still count
                    stream.stop(timeout=0)
                    return

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        start = time.monotonic()
        try:
            for frame in stream.frames():
                run.delivered.append((index_from_timecode(frame.pts_ms, fps), time.perf_counter(),
                                      frame.producer_time_ms))
        finally:
            done.set()
            guard.join()
        run.seconds = time.monotonic() - start


@dataclass
class Summary:
    label: str
    cuts_requested: int
    disconnects: int
    frames: int
    lost: int
    repeated: int
    out_of_order: int
    gap_ms: Dist  # disconnect -> next delivered frame
    next_frame_lag_ms: Dist  # that frame: delivered - appended in the emulator
    frame_gap_ms: Dist  # every gap between consecutive delivered frames
    resets: Dict[str, int]
    backoff_ms: Dist  # the client's wait before each reconnect (grows while reconnects deliver nothing new)
    max_attempt: int  # the longest run of reconnects without a new frame
    gaps: List[float] = field(default_factory=list)
    positions: List[int] = field(default_factory=list)


def summarise(run: Run) -> Summary:
    indices = [index for index, _, _ in run.delivered]
    times = [t for _, t, _ in run.delivered]
    lost = (max(indices) - min(indices) + 1 - len(set(indices))) if indices else 0
    repeated = len(indices) - len(set(indices))
    out_of_order = sum(1 for a, b in zip(indices, indices[1:]) if b <= a)
    gaps, lags = [], []
    for dropped in run.drops:
        after = next((i for i, t in enumerate(times) if t > dropped), None)
        if after is None:
            continue
        gaps.append((times[after] - dropped) * 1000)
        appended = run.appended.get(run.delivered[after][2])
        if appended is not None:
            lags.append((times[after] - appended) * 1000)
    frame_gaps = [(b - a) * 1000 for a, b in zip(times, times[1:])]
    counted: Dict[str, int] = {}
    for reason, _, _ in run.resets:
        counted[reason] = counted.get(reason, 0) + 1
    return Summary(run.label, run.cuts, len(run.drops), len(indices), lost, repeated, out_of_order, Dist.of(gaps),
                   Dist.of(lags), Dist.of(frame_gaps), counted, Dist.of([d * 1000 for _, _, d in run.resets]),
                   max((a for _, a, _ in run.resets), default=0), gaps, run.positions)


def measure(emu: Emulator, name: str, fps: int, cuts: int, positions: List[int], seconds: float) -> Summary:
    first = emu.call_count("GetMedia", name) + 1  # rules count every GetMedia call on the stream
    for call, position in enumerate(positions, start=first):
        emu.inject(Fault(close_after_bytes=position), stream=name, on_call=call)
    run = Run("forced disconnects" if cuts else "no faults (peer)", cuts, positions)
    with drop_times() as drops, append_times(run.appended):
        run.drops = drops  # filled as the emulator drops connections
        read(emu, name, run, fps, time.monotonic() + seconds, cuts or None)
    emu.faults.clear()
    return summarise(run)


def plot(faulty: Summary, clean: Summary) -> Any:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    axes[0].scatter([p / 1000 for p in faulty.positions[: len(faulty.gaps)]], faulty.gaps, s=14)
    axes[0].axhline(1000, color="grey", linestyle=":", label="goal 1 s")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("byte of the response where the connection was dropped (KB)")
    axes[0].set_ylabel("disconnect -> next frame delivered, ms (log)")
    axes[0].legend(fontsize=8)
    axes[0].set_title(f"{faulty.disconnects} forced disconnects: {faulty.lost} lost, {faulty.repeated} repeated",
                      fontsize=10)
    for summary in (clean, faulty):
        values = sorted(summary.gaps) if summary is faulty else []
        if values:
            axes[1].plot(values, [i / len(values) for i in range(len(values))], label="after a disconnect")
    axes[1].axvline(clean.frame_gap_ms.p50, color="grey", linestyle="--",
                    label=f"frame interval without faults (p50 {clean.frame_gap_ms.p50:.0f} ms)")
    axes[1].set_xscale("log")
    axes[1].xaxis.set_minor_formatter(plt.NullFormatter())
    axes[1].set_xlabel("disconnect -> next frame delivered, ms (log)")
    axes[1].set_ylabel("fraction of disconnects")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"Resume after forced disconnects, 720p15 over 127.0.0.1 ({load_line()})", fontsize=10)
    return fig


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cuts", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fragment", type=float, default=2.0)
    parser.add_argument("--quick", action="store_true", help="3 disconnects (smoke test)")
    args = parser.parse_args(argv)
    cuts = 3 if args.quick else args.cuts
    print(load_line())
    camera = camera_720p15(args.fragment).prepare()
    fragment_bytes = camera.achieved_kbit_s * 1000 / 8 * args.fragment
    rng = random.Random(args.seed)
    # Anywhere in the first 1.5 fragments of a response: headers, tags, the backlog, live frames.
    positions = [rng.randint(1, int(1.5 * fragment_bytes)) for _ in range(cuts)]
    with Emulator(limits=Limits(getmedia_tps_per_stream=1000, getmedia_connections_per_stream=10)) as emu:
        emu.add_live_stream("cam", camera)
        time.sleep(0.3 if args.quick else 1.0)
        clean = measure(emu, "cam", camera.fps, 0, [], 2.0 if args.quick else 10.0)
        time.sleep(0.3 if args.quick else 1.0)
        faulty = measure(emu, "cam", camera.fps, cuts, positions, cuts * 4.0 + 10)
    print(f"\n{'run':<20} {'cuts':>5} {'frames':>7} {'lost':>5} {'repeated':>8} {'order':>6}   "
          f"{'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  (ms)")
    for s in (clean, faulty):
        print(f"{s.label:<20} {s.disconnects:>5} {s.frames:>7} {s.lost:>5} {s.repeated:>8} {s.out_of_order:>6}   "
              f"{s.frame_gap_ms.row()}  gap between frames")
    print(f"{'':<58} {faulty.gap_ms.row()}  disconnect -> next frame")
    print(f"{'':<58} {faulty.next_frame_lag_ms.row()}  that frame's lag behind the emulator")
    print(f"{'':<58} {faulty.backoff_ms.row()}  the client's backoff before reconnecting")
    print(f"\nresets seen by the client: {faulty.resets}; longest run of reconnects without a new frame: "
          f"{faulty.max_attempt} (the backoff starts at 50 ms and doubles along such a run)")
    ratio = faulty.gap_ms.p50 / clean.frame_gap_ms.p50 if clean.frame_gap_ms.p50 else float("nan")
    print(f"disconnect -> next frame p50 is x{ratio:.1f} the frame interval without faults (same run)")
    met = faulty.gap_ms.max < 1000 and faulty.lost == 0 and faulty.repeated == 0 and faulty.disconnects >= min(cuts, 50)
    print(f"goal (< 1 s, 0 lost, 0 repeated over >= 50 disconnects): {'met' if met else 'MISSED'} "
          f"(max {faulty.gap_ms.max:.0f} ms, {faulty.lost} lost, {faulty.repeated} repeated, "
          f"{faulty.disconnects} disconnects)")
    name = "recovery_quick" if args.quick else "recovery"
    written = write_json(name, {"no_faults": clean, "forced": faulty})
    print(f"\nwrote {written} and {save_plot(plot(faulty, clean), name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
