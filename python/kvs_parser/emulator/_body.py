"""Writing a streamed response body with chunked transfer encoding, one chunk per piece, with faults.

Each piece (a fragment's header, one frame's block, the trailing tags) goes out in one write as soon as
it exists: nothing waits for a buffer to fill, which is what keeps a live frame's latency low.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from io import BufferedIOBase
from typing import Callable, Optional

from ._faults import Fault


class ConnectionDropped(Exception):
    """Raised to end the connection abruptly, without the terminating chunk."""


class EndedEarly(Exception):
    """Raised to end the response cleanly (terminating chunk) where the fault says, e.g. mid-fragment."""


@dataclass(frozen=True)
class Piece:
    data: bytes
    frame: bool = False  # a frame's block: counts for Fault.close_in_frame


@dataclass
class BodySender:
    wfile: BufferedIOBase  # an HTTP handler's wfile
    fault: Optional[Fault]
    stop: threading.Event
    note: Callable[[str], None] = lambda what: None  # records when a fault takes effect
    sent: int = 0
    frames: int = 0
    stalled: bool = False

    def send(self, piece: Piece) -> None:
        data = piece.data
        fault = self.fault
        if fault is None:
            self._chunk(data)
            return
        if piece.frame and fault.close_in_frame is not None and self.frames == fault.close_in_frame:
            self._write(data[: len(data) // 2])
            raise ConnectionDropped
        if piece.frame and fault.end_in_frame is not None and self.frames == fault.end_in_frame:
            raise EndedEarly
        self.frames += piece.frame
        if fault.corrupt_at_bytes is not None and self.sent <= fault.corrupt_at_bytes < self.sent + len(data):
            damaged = bytearray(data)
            damaged[fault.corrupt_at_bytes - self.sent] ^= 0xFF
            data = bytes(damaged)
        if fault.close_after_bytes is not None and self.sent + len(data) >= fault.close_after_bytes:
            self._write(data[: fault.close_after_bytes - self.sent])
            raise ConnectionDropped
        self._write(data)

    def _write(self, data: bytes) -> None:
        fault = self.fault
        assert fault is not None
        if fault.stall_after_bytes is not None and not self.stalled:
            cut = fault.stall_after_bytes - self.sent
            if 0 <= cut < len(data) or (cut == len(data) and cut > 0):
                self._trickle(data[:cut])
                self.stalled = True
                self.wfile.flush()
                self.note("silent")
                self.stop.wait(fault.stall_seconds)
                data = data[cut:]
        self._trickle(data)

    def _trickle(self, data: bytes) -> None:
        step = (self.fault.trickle_bytes if self.fault else None) or len(data) or 1
        for start in range(0, len(data), step):
            if self.sent and self.fault and self.fault.trickle_interval:
                self.stop.wait(self.fault.trickle_interval)
            self._chunk(data[start : start + step])

    def _chunk(self, data: bytes) -> None:
        if not data:
            return  # an empty chunk would end the body
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.sent += len(data)

    def finish(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
