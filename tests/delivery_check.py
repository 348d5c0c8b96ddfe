"""Checks a camera's delivery log across restarts: nothing lost, repeats only of in-flight fragments, marked.

A record is one picture handed to the hook: its frame number (read from the emulator camera's pixels),
fragment number, index in the fragment, redelivered mark, and the run (process or instance) delivering it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Set, Tuple


@dataclass(frozen=True)
class Delivery:
    frame: int
    fragment: str
    index: int
    redelivered: bool
    run: str  # who delivered it: a restart shows as a new run
    time: float = 0.0


@dataclass(frozen=True)
class DeliverySummary:
    frames: int  # distinct frames delivered
    first: int
    last: int
    repeated: int  # deliveries of a frame already delivered
    marked_fragments: Tuple[str, ...]  # fragments whose pictures were marked redelivered
    runs: int


def check_deliveries(log: Sequence[Delivery]) -> DeliverySummary:
    """Raises AssertionError on a lost frame, an unmarked repeat, or a mark outside a run's first fragment."""
    assert log, "nothing was delivered"
    first_of_fragment: Dict[str, int] = {}
    seen: Dict[int, Delivery] = {}
    repeated = 0
    runs: List[str] = []
    first_fragment_of_run: Dict[str, str] = {}
    marked: Set[str] = set()
    for record in log:
        if not runs or runs[-1] != record.run:
            runs.append(record.run)
            first_fragment_of_run[record.run] = record.fragment
        base = first_of_fragment.setdefault(record.fragment, record.frame - record.index)
        assert record.frame - record.index == base, (
            f"frame {record.frame} has index {record.index} in fragment {record.fragment}")
        if record.redelivered:
            marked.add(record.fragment)
            assert first_fragment_of_run[record.run] == record.fragment, (
                f"frame {record.frame} marked redelivered outside the first fragment of run {record.run}")
        earlier = seen.get(record.frame)
        if earlier is not None:
            repeated += 1
            assert record.redelivered, f"frame {record.frame} delivered again without the redelivered mark"
            assert earlier.fragment == record.fragment and earlier.index == record.index
        else:
            seen[record.frame] = record
    frames = sorted(seen)
    missing = sorted(set(range(frames[0], frames[-1] + 1)) - set(frames))
    assert not missing, f"{len(missing)} frames lost: {missing[:20]}"
    assert len(marked) <= len(runs) - 1, f"marked fragments {sorted(marked)} for {len(runs) - 1} restarts"
    return DeliverySummary(len(frames), frames[0], frames[-1], repeated, tuple(sorted(marked)), len(runs))
