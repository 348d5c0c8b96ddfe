"""A standalone Matroska file from frames: known-size Segment, SeekHead, Duration, Clusters and Cues.

Written front to back into a seekable file with fixed-width placeholders (Segment size, SeekHead
positions, Duration) patched at close, so memory holds one Cluster, not the whole file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Dict, List, Optional, Sequence, Tuple

from .._kvsparser import ParsedFrame, TrackInfo
from ..mkv import (
    TRACK_TYPE_VIDEO,
    Block,
    Id,
    TrackSpec,
    element,
    element_header,
    encode_block,
    encode_id,
    encode_vint,
    master,
    string_element,
    tracks_element,
    uint_element,
)
from ..mkv._kvs import ebml_header

MAX_RELATIVE = 32767  # a block's timecode is a signed 16-bit offset from its Cluster's
SEEK_TARGETS = (Id.INFO, Id.TRACKS, Id.CUES)


def track_spec(track: TrackInfo) -> TrackSpec:
    """The parser's TrackInfo as the writer's TrackSpec (same codec, private data, geometry, audio)."""
    return TrackSpec(number=track.number, codec_id=track.codec_id, track_type=track.type, uid=track.uid or None,
                     codec_private=bytes(track.codec_private), name=track.name,
                     default_duration_ns=track.default_duration_ns, width=track.pixel_width,
                     height=track.pixel_height, sampling_frequency=track.sampling_frequency,
                     channels=track.channels, bit_depth=track.bit_depth)


def _uint8(element_id: int, value: int) -> bytes:
    return element(element_id, value.to_bytes(8, "big"))  # fixed width, so it can be patched in place


def _seek_head(positions: Dict[int, int]) -> bytes:
    seeks = [master(Id.SEEK, [element(Id.SEEK_ID, encode_id(target)),
                              _uint8(Id.SEEK_POSITION, positions.get(target, 0))]) for target in SEEK_TARGETS]
    return master(Id.SEEK_HEAD, seeks)


@dataclass
class MkvFileWriter:
    """Frames in, a playable file out. `add` frames in stream order, then `close`.

    Timecodes are rebased so the file starts at 0 (TimecodeScale 1 ms, as KVS uses); each fragment
    should start a new Cluster (`new_cluster`), which is also where the Cues point.
    """

    out: BinaryIO  # seekable, opened for writing bytes
    tracks: Sequence[TrackSpec]
    writing_app: str = "kvs_parser.save"
    frames_written: int = 0
    _origin: Optional[int] = None  # pts_ms of the first frame
    _segment_start: int = 0  # file offset of the Segment's data
    _duration_at: int = 0  # file offset of the Duration float
    _positions: Dict[int, int] = field(default_factory=dict)
    _cluster: List[bytes] = field(default_factory=list)
    _cluster_time: Optional[int] = None
    _cues: List[Tuple[int, int, int]] = field(default_factory=list)  # (time, track, cluster position)
    _end_time: int = 0
    _last: Dict[int, int] = field(default_factory=dict)  # track -> last timecode, for frame durations

    def __post_init__(self) -> None:
        self.out.write(ebml_header() + element_header(Id.SEGMENT, None))  # size patched at close
        self._segment_start = self.out.tell()
        self.out.write(_seek_head({}))
        self._positions[Id.INFO] = self.out.tell() - self._segment_start
        head = uint_element(Id.TIMECODE_SCALE, 1_000_000)
        apps = string_element(Id.MUXING_APP, self.writing_app) + string_element(Id.WRITING_APP, self.writing_app)
        duration = element(Id.DURATION, struct.pack(">d", 0.0))
        info_body = head + apps + duration
        self.out.write(element_header(Id.INFO, len(info_body)) + head + apps)
        self._duration_at = self.out.tell() + len(encode_id(Id.DURATION)) + 1
        self.out.write(duration)
        self._positions[Id.TRACKS] = self.out.tell() - self._segment_start
        self.out.write(tracks_element(self.tracks))
        self._video = {t.number for t in self.tracks if t.track_type == TRACK_TYPE_VIDEO}
        self._defaults = {t.number: round(t.default_duration_ns / 1e6) for t in self.tracks if t.default_duration_ns}

    def new_cluster(self) -> None:
        """Ends the current Cluster; the next frame opens another (call at each fragment start)."""
        if self._cluster_time is None:
            return
        body = uint_element(Id.TIMECODE, self._cluster_time) + b"".join(self._cluster)
        self.out.write(element_header(Id.CLUSTER, len(body)) + body)
        self._cluster, self._cluster_time = [], None

    def add(self, frame: ParsedFrame) -> None:
        if self._origin is None:
            self._origin = frame.pts_ms
        timecode = max(0, frame.pts_ms - self._origin)
        if self._cluster_time is not None and not 0 <= timecode - self._cluster_time <= MAX_RELATIVE:
            self.new_cluster()
        if self._cluster_time is None:
            self._cluster_time = timecode
            position = self.out.tell() - self._segment_start
            self._cue(timecode, frame, position, first=True)
        elif frame.is_keyframe and frame.track_number in self._video:
            self._cue(timecode, frame, self._cluster_position(), first=False)
        block = Block(frame.track_number, timecode, bytes(frame), keyframe=frame.is_keyframe,
                           invisible=frame.is_invisible, discardable=frame.is_discardable, duration=frame.duration)
        self._cluster.append(encode_block(block, self._cluster_time))
        self._note_end(frame.track_number, timecode, frame.duration)
        self.frames_written += 1

    def close(self) -> None:
        """Writes the last Cluster and the Cues, then patches Duration, SeekHead and the Segment size."""
        self.new_cluster()
        self._positions[Id.CUES] = self.out.tell() - self._segment_start
        self.out.write(self._cues_element())
        end = self.out.tell()
        self.out.seek(self._segment_start - 8)
        self.out.write(encode_vint(end - self._segment_start, 8))
        self.out.write(_seek_head(self._positions))
        self.out.seek(self._duration_at)
        self.out.write(struct.pack(">d", float(self._end_time)))
        self.out.seek(end)
        self.out.flush()

    @property
    def duration_ms(self) -> int:
        return self._end_time

    # -- helpers --
    def _cluster_position(self) -> int:
        """Position of the Cluster being buffered (it is written next)."""
        return self.out.tell() - self._segment_start

    def _cue(self, timecode: int, frame: ParsedFrame, position: int, *, first: bool) -> None:
        wanted = frame.track_number in self._video and frame.is_keyframe
        repeated = bool(self._cues) and self._cues[-1][:2] == (timecode, frame.track_number)
        if (wanted or (first and not self._video)) and not repeated:
            self._cues.append((timecode, frame.track_number, position))

    def _note_end(self, track: int, timecode: int, duration: Optional[int]) -> None:
        length = duration or self._defaults.get(track) or max(0, timecode - self._last.get(track, timecode))
        self._last[track] = timecode
        self._end_time = max(self._end_time, timecode + length)

    def _cues_element(self) -> bytes:
        points = [master(Id.CUE_POINT, [uint_element(Id.CUE_TIME, time), master(Id.CUE_TRACK_POSITIONS, [
            uint_element(Id.CUE_TRACK, track), uint_element(Id.CUE_CLUSTER_POSITION, position)])])
            for time, track, position in self._cues]
        return master(Id.CUES, points)


def open_writer(path: Any, tracks: Sequence[TrackInfo]) -> Tuple[BinaryIO, MkvFileWriter]:
    out = open(path, "w+b")  # noqa: SIM115 - closed by the caller with the writer
    return out, MkvFileWriter(out, [track_spec(t) for t in tracks])
