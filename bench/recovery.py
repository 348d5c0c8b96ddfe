"""Recovery per fault class: the emulator injects each class of fault between real boto3 and GetMedia on a
live 720p15 camera (realistic content), several times in a row; GetMediaStream (defaults, as a user gets
it) resumes from its continuation token, re-resolving the endpoint where the class calls for it.

Per class: time from the fault taking effect in the emulator (its `faults.fired` record, same clock) to
the next new frame delivered, and over the class's run the frames lost and repeated (from the frame
index each frame's timecode carries) and the order. The peer is the same stream read without faults in
the same run (its frame gaps are the camera's own frame interval).

Goals: 0 lost, 0 repeated; next frame < 2 s for every transient class, < 12 s for the silent ones
(a hang before headers and a silent open connection, which only a timeout can tell from a quiet camera).

    python bench/recovery.py [--events 6] [--seed 1] [--fragment 2] [--classes cut,500,...] [--quick]

Writes bench/results/recovery.json and .png (recovery_quick.* with --quick).
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import boto3

from content import camera_720p15
from emulator_process import KEYS
from kvs_parser.emulator import Emulator, Fault, Limits, index_from_timecode
from kvs_parser.getmedia import GetMediaClient, StartSelector
from reporting import load_line, pyplot, save_plot, write_json
from stats import Dist

TRANSIENT_GOAL_MS, SILENT_GOAL_MS = 2000.0, 12000.0


@dataclass(frozen=True)
class FaultClass:
    name: str
    noted: str  # what the emulator records in faults.fired when the fault takes effect
    silent: bool = False  # only a timeout can detect it: the < 12 s goal
    call_fault: Optional[Fault] = None  # answered to the call after each cut (5xx, throttle, hang)
    # The fault on one response, from a byte position and the frames per fragment.
    body_fault: Callable[[int, int], Fault] = lambda position, per_fragment: Fault(close_after_bytes=position)
    moves_endpoint: bool = False


CLASSES = [
    FaultClass("cut", "cut"),
    FaultClass("500 InternalFailure", "InternalFailure", call_fault=Fault(error="InternalFailure")),
    FaultClass("503 ServiceUnavailable", "ServiceUnavailable", call_fault=Fault(error="ServiceUnavailable")),
    FaultClass("throttled", "ClientLimitExceededException", call_fault=Fault(error="ClientLimitExceededException")),
    FaultClass("endpoint moved", "endpoint moved", moves_endpoint=True),
    # Past the re-sent backlog (at most one fragment of frames), so new frames come between two faults.
    FaultClass("ended mid-fragment", "ended mid-fragment",
               body_fault=lambda p, n: Fault(end_in_frame=n + 2 + p % n)),
    FaultClass("error fragment", "error fragment", body_fault=lambda p, n: Fault(error_fragment_after=1)),
    FaultClass("hostile tags + cut", "cut",
               body_fault=lambda p, n: Fault(extra_tags=4200, non_utf8_tags=True, close_after_bytes=p)),
    FaultClass("hang before headers", "hang before headers", silent=True, call_fault=Fault(hang_seconds=60)),
    FaultClass("silent connection", "silent", silent=True,
               body_fault=lambda p, n: Fault(stall_after_bytes=p, stall_seconds=60)),
]
SHORT = {"cut": "cut", "500": "500 InternalFailure", "503": "503 ServiceUnavailable", "throttle": "throttled",
         "endpoint": "endpoint moved", "mid": "ended mid-fragment", "errfrag": "error fragment",
         "tags": "hostile tags + cut", "hang": "hang before headers", "silent": "silent connection"}


@dataclass
class Run:
    delivered: List[Tuple[int, float]] = field(default_factory=list)  # (frame index, perf time)
    resets: List[Tuple[str, float]] = field(default_factory=list)  # (reason, perf time reported)
    events: List[float] = field(default_factory=list)  # perf times the fault took effect
    seconds: float = 0.0


@dataclass
class Summary:
    fault: str
    events: int
    frames: int
    lost: int
    repeated: int
    out_of_order: int
    next_frame_ms: Dist  # fault -> next new frame delivered
    frame_gap_ms: Dist  # every gap between consecutive delivered frames
    resets: Dict[str, int]
    goal_ms: float
    met: bool


def summarise(name: str, run: Run, goal_ms: float, wanted: int) -> Summary:
    indices = [index for index, _ in run.delivered]
    times = [t for _, t in run.delivered]
    lost = (max(indices) - min(indices) + 1 - len(set(indices))) if indices else 0
    repeated = len(indices) - len(set(indices))
    out_of_order = sum(1 for a, b in zip(indices, indices[1:]) if b <= a)
    gaps = []
    for at in run.events:
        # The first frame of the connection that replaced the faulty one: frames the faulty connection had
        # already sent before the fault (still in buffers) do not count as recovered.
        reset = next((t for _, t in run.resets if t >= at), None)
        after = None if reset is None else next((t for t in times if t > reset), None)
        if after is not None:
            gaps.append((after - at) * 1000)
    counted: Dict[str, int] = {}
    for reason, _ in run.resets:
        counted[reason] = counted.get(reason, 0) + 1
    next_frame = Dist.of(gaps)
    met = len(gaps) >= wanted and lost == 0 and repeated == 0 and out_of_order == 0 and next_frame.max < goal_ms
    frame_gaps = [(b - a) * 1000 for a, b in zip(times, times[1:])]
    return Summary(name, len(gaps), len(indices), lost, repeated, out_of_order, next_frame, Dist.of(frame_gaps),
                   counted, goal_ms, met)


def plan_faults(emu: Emulator, fault: FaultClass, events: int, positions: List[int], per_fragment: int) -> None:
    """Rules for the coming GetMedia calls: each event is a fault on one response (or a cut followed by
    the class's answer to the reconnect)."""
    call = emu.call_count("GetMedia", "cam") + 1
    for i in range(events):
        if fault.call_fault is not None:
            emu.inject(Fault(close_after_bytes=positions[i]), stream="cam", on_call=call)
            emu.inject(fault.call_fault, stream="cam", on_call=call + 1)
            call += 2
        else:
            emu.inject(fault.body_fault(positions[i], per_fragment), stream="cam", on_call=call)
            call += 1


def measure(emu: Emulator, fault: Optional[FaultClass], fps: int, events: int, positions: List[int],
            fragment: float, seconds: float, margin: float = 2.0) -> Run:
    run = Run()
    first_fired = len(emu.faults.fired)
    if fault is not None and not fault.moves_endpoint:
        plan_faults(emu, fault, events, positions, max(1, round(fps * fragment)))

    def recovered_from_all() -> bool:
        """Every fault fired, and a frame came after the reconnect that followed the last one."""
        times = fired()
        if len(times) < events:
            return False
        reset = next((t for _, t in list(run.resets) if t >= times[-1]), None)
        return reset is not None and bool(run.delivered) and run.delivered[-1][1] > reset

    def fired() -> List[float]:
        if fault is None:
            return []
        return [t for t, what in emu.faults.fired[first_fired:] if what == fault.noted]

    with GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url) as client:
        stream = client.stream("cam", start=StartSelector.now(),
                               on_reset=lambda reset: run.resets.append((reset.reason, time.perf_counter())))
        done = threading.Event()
        deadline = time.monotonic() + seconds

        def watchdog() -> None:
            moved = 0
            next_move = time.monotonic() + 2.5 * fragment  # after the silence bound learnt the duration
            while not done.wait(0.1):
                if fault is not None and fault.moves_endpoint and moved < events and time.monotonic() >= next_move:
                    emu.move_data_endpoint()
                    moved += 1
                    next_move = time.monotonic() + 2 * fragment
                if time.monotonic() >= deadline or (fault is not None and recovered_from_all()):
                    time.sleep(margin)  # frames after the last fault still count
                    stream.stop(timeout=0)
                    return

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        start = time.monotonic()
        try:
            for frame in stream.frames():
                run.delivered.append((index_from_timecode(frame.pts_ms, fps), time.perf_counter()))
        finally:
            done.set()
            guard.join()
        run.seconds = time.monotonic() - start
    emu.faults.clear()
    run.events = fired()
    return run


def plot(summaries: List[Summary], clean: Summary) -> object:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.6))
    names = [s.fault for s in summaries]
    xs = range(len(summaries))
    ax.bar([x - 0.2 for x in xs], [s.next_frame_ms.p50 for s in summaries], width=0.4, label="p50")
    ax.bar([x + 0.2 for x in xs], [s.next_frame_ms.max for s in summaries], width=0.4, label="max")
    ax.axhline(TRANSIENT_GOAL_MS, color="grey", linestyle=":", label="goal, transient (2 s)")
    ax.axhline(SILENT_GOAL_MS, color="black", linestyle=":", label="goal, silent (12 s)")
    ax.axhline(clean.frame_gap_ms.p50, color="grey", linestyle="--",
               label=f"frame interval without faults ({clean.frame_gap_ms.p50:.0f} ms)")
    ax.set_yscale("log")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{n}\n{s.lost} lost {s.repeated} rep." for n, s in zip(names, summaries)], fontsize=7,
                       rotation=25, ha="right")
    ax.set_ylabel("fault -> next new frame, ms (log)")
    ax.legend(fontsize=7)
    fig.suptitle(f"Recovery per fault class, 720p15 over 127.0.0.1 ({load_line()})", fontsize=10)
    fig.tight_layout()
    return fig


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=6, help="faults per class")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fragment", type=float, default=2.0)
    parser.add_argument("--classes", default="", help=f"comma-separated subset of {','.join(SHORT)}")
    parser.add_argument("--quick", action="store_true", help="1 fault per class (smoke test)")
    args = parser.parse_args(argv)
    events = 1 if args.quick else args.events
    chosen = [SHORT[c] for c in args.classes.split(",") if c] if args.classes else [c.name for c in CLASSES]
    classes = [c for c in CLASSES if c.name in chosen]
    print(load_line())
    camera = camera_720p15(args.fragment).prepare()
    fragment_bytes = int(camera.achieved_kbit_s * 1000 / 8 * args.fragment)
    rng = random.Random(args.seed)
    limits = Limits(getmedia_tps_per_stream=1000, getmedia_connections_per_stream=20)
    summaries: List[Summary] = []
    with Emulator(limits=limits) as emu:
        emu.add_live_stream("cam", camera)
        time.sleep(0.3 if args.quick else 1.0)
        clean = summarise("no faults (peer)", measure(emu, None, camera.fps, 0, [], args.fragment,
                                                      2.0 if args.quick else 8.0), TRANSIENT_GOAL_MS, 0)
        for fault in classes:
            # The first fault after 2.2-2.8 fragments (the silence bound knows the fragment duration by then),
            # the others 1.6-2.6 fragments into a response: past the re-sent backlog (at most one fragment), so
            # new frames arrive between two faults and each fault's recovery is measured on its own (an
            # earlier cut would land in the backlog and merge two faults into one gap).
            positions = [rng.randint(int(2.2 * fragment_bytes), int(2.8 * fragment_bytes))]
            positions += [rng.randint(int(1.6 * fragment_bytes), int(2.6 * fragment_bytes)) for _ in range(events - 1)]
            goal = SILENT_GOAL_MS if fault.silent else TRANSIENT_GOAL_MS
            budget = events * (goal / 1000 + 4 * args.fragment) + 6 * args.fragment
            run = measure(emu, fault, camera.fps, events, positions, args.fragment, budget,
                          margin=0.5 if args.quick else 2.0)
            summaries.append(summarise(fault.name, run, goal, events))
            print(f"  {fault.name}: {len(run.events)} faults in {run.seconds:.1f} s", flush=True)
    print(f"\n{'fault class':<24} {'faults':>6} {'frames':>7} {'lost':>5} {'rep.':>5} {'order':>6}   "
          f"{'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  fault -> next frame (ms)   goal")
    print(f"{clean.fault:<24} {0:>6} {clean.frames:>7} {clean.lost:>5} {clean.repeated:>5} {clean.out_of_order:>6}"
          f"   {clean.frame_gap_ms.row()}  (gap between frames)")
    for s in summaries:
        print(f"{s.fault:<24} {s.events:>6} {s.frames:>7} {s.lost:>5} {s.repeated:>5} {s.out_of_order:>6}   "
              f"{s.next_frame_ms.row()}   < {s.goal_ms / 1000:.0f} s {'met' if s.met else 'MISSED'}  "
              f"resets {s.resets}")
    missed = [s.fault for s in summaries if not s.met]
    print(f"\ngoals (0 lost, 0 repeated, in order, next frame < 2 s transient / < 12 s silent): "
          f"{'met by every class' if not missed else 'MISSED by ' + ', '.join(missed)}")
    name = "recovery_quick" if args.quick else "recovery"
    written = write_json(name, {"no_faults": clean, "classes": summaries})
    print(f"\nwrote {written} and {save_plot(plot(summaries, clean), name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
