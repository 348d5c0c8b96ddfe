"""Per-fragment bookkeeping of the GetMedia pipeline, bounded whatever a fragment's length: which
fragments not to hand out (delivered before a restart, or too old), and each frame's place in its fragment."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from ..checkpoint import ResumePlan
from ..decode import DecodedPicture
from ._timing import now_ms


@dataclass(frozen=True)
class FragmentEnd:
    """A marker behind a fragment's last picture in a source's queue: once the consumer reads past it,
    every picture of the fragment was delivered (or dropped, under live delivery)."""

    fragment_number: str
    continuation_token: Optional[str]
    producer_time_ms: Optional[int]


_UNDECIDED = object()  # no fragment decided yet (None is the fragment of frames without a fragment number)


class FragmentGate:
    """Decides once per fragment, at its first frame, whether its frames are handed out: not when `plan`
    says they were delivered before, nor when the fragment is already `max_age_ms` old."""

    def __init__(self, plan: ResumePlan, max_age_ms: Optional[float]) -> None:
        self.plan, self.max_age_ms = plan, max_age_ms
        self.stale_frames = 0
        self._fragment: object = _UNDECIDED
        self._delivered = self._stale = False

    def skip(self, frame: Any) -> bool:
        number = frame.fragment_number
        if number != self._fragment:
            self._fragment = number
            self._delivered = self.plan.already_delivered(number)
            produced = frame.producer_timestamp_ms
            self._stale = (not self._delivered and self.max_age_ms is not None and produced is not None
                           and now_ms() - produced > self.max_age_ms)
        self.stale_frames += self._stale
        return self._delivered or self._stale

    def completed(self, fragment_number: str) -> None:
        """The fragment ended in the stream: a resumed connection that sends it again is not believed."""
        plan = self.plan
        self.plan = ResumePlan(plan.start, plan.resumed_after, fragment_number, None, plan.redeliver)
        self._fragment = _UNDECIDED  # decide again, against the new plan


class FramePositions:
    """Each encoded frame's position in its fragment (stream order, per track), looked up by the picture
    decoded from it: the same picture gets the same ``frame_index`` after a restart whatever sampling or
    decoder delay did. An entry leaves when its picture does; frames that never give a picture (sampled
    out, undecodable) age out, so an endless fragment costs a bounded table."""

    def __init__(self, capacity: int = 512, fragments: int = 8) -> None:
        self._positions: OrderedDict[Tuple[Optional[str], int, int], int] = OrderedDict()
        self._counts: OrderedDict[Tuple[str, int], int] = OrderedDict()
        self._capacity, self._fragments = capacity, fragments

    def note(self, frame: Any) -> None:
        number = frame.fragment_number
        if number is None:
            return
        count_key = (number, frame.track_number)
        key = (number, frame.track_number, frame.pts_ms)
        if key in self._positions:
            return
        position = self._counts.get(count_key, 0)
        self._counts[count_key] = position + 1
        self._counts.move_to_end(count_key)
        while len(self._counts) > self._fragments:
            self._counts.popitem(last=False)
        self._positions[key] = position
        while len(self._positions) > self._capacity:
            self._positions.popitem(last=False)

    def __len__(self) -> int:
        return len(self._positions)

    def take(self, picture: DecodedPicture) -> Optional[int]:
        if picture.fragment_number is None:
            return None
        return self._positions.pop((picture.fragment_number, picture.track_number, picture.pts_ms), None)
