"""One continuous live Matroska stream from KVS fragments: a single unknown-size Segment, Tracks written
once (again, with a new Segment, only when they change), a Cluster per fragment, timecodes continuous.

Each block is written and flushed as it arrives: a reader sees a frame as soon as the parser does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO, List, Optional, Tuple

from ..mkv import Block, Id, element_header, encode_block, master, string_element, tracks_element, uint_element
from ..mkv._kvs import ebml_header
from ..save._merge import tracks_key
from ..save._writer import MAX_RELATIVE, track_spec

JUMP_BACK_MS = 1000  # a step back larger than this is a producer restart, not track interleaving


@dataclass
class LiveMkvWriter:
    out: BinaryIO
    writing_app: str = "kvs_parser.pipe"
    frames_written: int = 0
    segments: int = 0
    _key: Optional[Tuple[Any, ...]] = None
    _offset: Optional[int] = None  # subtracted from pts_ms: the output starts at 0 and never jumps back
    _last: int = 0
    _step: int = 1  # the last forward step between frames: how far after `_last` a restarted clock resumes
    _cluster_time: Optional[int] = None
    _fragment: Optional[str] = None

    def tracks(self, infos: List[Any]) -> None:
        """Each fragment's Tracks: written when they differ from the last ones (a new Segment)."""
        key = tracks_key(tuple(infos))
        if key == self._key:
            return
        self._key = key
        app = self.writing_app
        info = master(Id.INFO, [uint_element(Id.TIMECODE_SCALE, 1_000_000), string_element(Id.MUXING_APP, app),
                                string_element(Id.WRITING_APP, app)])
        self.out.write(ebml_header() + element_header(Id.SEGMENT, None) + info
                       + tracks_element([track_spec(t) for t in infos]))
        self.segments += 1
        self._cluster_time = None

    def frame(self, frame: Any) -> None:
        if self._offset is None:
            self._offset = frame.pts_ms
        timecode = frame.pts_ms - self._offset
        if timecode < self._last - JUMP_BACK_MS:  # the producer restarted its clock: continue from here
            self._offset = frame.pts_ms - (self._last + self._step)
            timecode = self._last + self._step
        timecode = max(timecode, 0)
        if (self._cluster_time is None or frame.fragment_number != self._fragment
                or not 0 <= timecode - self._cluster_time <= MAX_RELATIVE):
            self.out.write(element_header(Id.CLUSTER, None) + uint_element(Id.TIMECODE, timecode))
            self._cluster_time, self._fragment = timecode, frame.fragment_number
        block = Block(frame.track_number, timecode, bytes(frame), keyframe=frame.is_keyframe,
                           invisible=frame.is_invisible, discardable=frame.is_discardable, duration=frame.duration)
        self.out.write(encode_block(block, self._cluster_time))
        self.out.flush()
        if timecode > self._last:
            self._step, self._last = timecode - self._last, timecode
        self.frames_written += 1
