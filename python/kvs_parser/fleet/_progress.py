"""Where each camera is: the last fragment fully delivered and how far into the next, kept in shared
memory by the worker after every frame, so that a restarted worker resumes without losing or repeating
a frame even when its predecessor was killed mid-write."""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory
from typing import Any, Optional

import numpy as np

_RECORD = np.dtype([("after", "S64"), ("partial", "S64"), ("partial_pts", "<i8")])
# Two records per camera and the index of the valid one, written last: a write torn by a kill leaves
# the other record intact.
_ROW = np.dtype([("records", _RECORD, (2,)), ("current", "<i8")])


@dataclass(frozen=True)
class ResumePoint:
    """`after`: the last fragment whose frames were all delivered; `partial`: the fragment being
    delivered, whose frames up to `partial_pts` (ms) are out (they are skipped when it is read again)."""

    after: Optional[str] = None
    partial: Optional[str] = None
    partial_pts: int = 0

    def start_selector(self, default: Any) -> Any:
        """The start selector to resume with: after `after` (what KVS's continuation token names), else
        `default` (the camera's own, e.g. NOW: nothing was delivered yet)."""
        from ..getmedia import StartSelector

        if self.after:
            return StartSelector.after_fragment(self.after)
        return default


class DeliveryTracker:
    """Follows the frames one camera delivers and keeps its ResumePoint (optionally in a ProgressTable)."""

    def __init__(self, start: ResumePoint = ResumePoint(), table: Optional[ProgressTable] = None,
                 row: int = 0) -> None:
        self.point = start
        self._table, self._row = table, row

    def already_delivered(self, fragment_number: Optional[str], pts_ms: int) -> bool:
        """True for the frames of the partly delivered fragment that went out before a restart."""
        point = self.point
        return fragment_number is not None and fragment_number == point.partial and pts_ms <= point.partial_pts

    def delivered(self, fragment_number: Optional[str], pts_ms: int) -> None:
        point = self.point
        if fragment_number is None:
            return
        if fragment_number == point.partial:
            point = ResumePoint(point.after, fragment_number, pts_ms)
        else:  # a new fragment: the previous one is complete
            point = ResumePoint(point.partial or point.after, fragment_number, pts_ms)
        self.point = point
        if self._table is not None:
            self._table.write(self._row, point)


class ProgressTable:
    """One ResumePoint per camera in a shared-memory segment (created by the parent)."""

    def __init__(self, memory: SharedMemory, rows: int, owner: bool) -> None:
        self._memory, self._owner = memory, owner
        self._rows = np.ndarray((rows,), _ROW, memory.buf, 0)

    @classmethod
    def create(cls, name: str, rows: int) -> ProgressTable:
        memory = SharedMemory(name=name, create=True, size=max(1, rows * _ROW.itemsize))
        table = cls(memory, rows, owner=True)
        table._rows[:] = np.zeros(rows, _ROW)
        return table

    @classmethod
    def attach(cls, name: str, rows: int) -> ProgressTable:
        return cls(SharedMemory(name=name), rows, owner=False)

    @property
    def name(self) -> str:
        return self._memory.name

    def write(self, row: int, point: ResumePoint) -> None:
        entry = self._rows[row]
        spare = 1 - int(entry["current"])
        entry["records"][spare] = ((point.after or "").encode(), (point.partial or "").encode(), point.partial_pts)
        entry["current"] = spare

    def read(self, row: int) -> ResumePoint:
        entry = self._rows[row]
        record = entry["records"][int(entry["current"])]
        after, partial = bytes(record["after"]).decode(), bytes(record["partial"]).decode()
        return ResumePoint(after or None, partial or None, int(record["partial_pts"]))

    def close(self) -> None:
        self._rows = None  # type: ignore[assignment]
        self._memory.close()
        if self._owner:
            self._memory.unlink()
