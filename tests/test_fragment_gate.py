"""FragmentGate: which fragments a GetMedia source hands out, decided once per fragment at its first frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from kvs_parser.checkpoint import ResumePlan
from kvs_parser.getmedia import StartSelector
from kvs_parser.source._fragments import FragmentGate
from kvs_parser.source._timing import now_ms


@dataclass(frozen=True)
class Frame:  # the two fields of a parsed frame the gate reads
    fragment_number: Optional[str]
    producer_timestamp_ms: Optional[int]


def handed_out(gate: FragmentGate, frames: list[Frame]) -> list[Frame]:
    return [frame for frame in frames if not gate.skip(frame)]


def test_a_fragment_already_old_at_its_first_frame_is_skipped_whole_and_counted() -> None:
    gate = FragmentGate(ResumePlan(StartSelector.now()), max_age_ms=5_000)
    now = now_ms()
    old = [Frame("100", now - 9_000 + i * 66) for i in range(3)]
    fresh = [Frame("101", now - 1_000 + i * 66) for i in range(3)]
    assert handed_out(gate, old + fresh) == fresh
    assert gate.stale_frames == 3


def test_the_decision_holds_for_the_whole_fragment() -> None:
    """A fragment fresh at its first frame is handed out whole, even frames stamped older after it."""
    gate = FragmentGate(ResumePlan(StartSelector.now()), max_age_ms=5_000)
    now = now_ms()
    frames = [Frame("100", now - 1_000), Frame("100", now - 60_000), Frame("100", None)]
    assert handed_out(gate, frames) == frames and gate.stale_frames == 0


def test_fragments_delivered_before_a_restart_are_skipped_but_not_counted_stale() -> None:
    plan = ResumePlan(StartSelector.after_fragment("0200"), "0200", skip_through="0200")
    gate = FragmentGate(plan, max_age_ms=5_000)
    now = now_ms()
    frames = [Frame("0199", now - 60_000), Frame("200", now - 60_000), Frame("201", now)]
    assert handed_out(gate, frames) == [Frame("201", now)]
    assert gate.stale_frames == 0  # 0199 and 200 were delivered, not too old


def test_a_completed_fragment_sent_again_by_a_resumed_connection_is_not_believed() -> None:
    gate = FragmentGate(ResumePlan(StartSelector.now()), max_age_ms=None)
    now = now_ms()
    assert handed_out(gate, [Frame("300", now), Frame("300", now)]) == [Frame("300", now)] * 2
    gate.completed("300")
    assert handed_out(gate, [Frame("300", now), Frame("301", now)]) == [Frame("301", now)]


def test_frames_after_a_completed_stale_fragment_are_decided_afresh() -> None:
    gate = FragmentGate(ResumePlan(StartSelector.now()), max_age_ms=5_000)
    now = now_ms()
    assert handed_out(gate, [Frame("400", now - 60_000)]) == []
    gate.completed("400")
    assert handed_out(gate, [Frame(None, now)]) == [Frame(None, now)]  # not taken for fragment 400's frames


def test_without_a_maximum_age_nothing_is_stale() -> None:
    gate = FragmentGate(ResumePlan(StartSelector.now()), max_age_ms=None)
    ancient = [Frame("1", 0), Frame("2", 0)]
    assert handed_out(gate, ancient) == ancient and gate.stale_frames == 0
