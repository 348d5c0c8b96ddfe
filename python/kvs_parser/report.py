"""A stream summarised in the schema of the Java parser's golden files (see `kvs-parser inspect --json`).

One entry per Matroska Segment (= KVS fragment) with its frames (size and sha256 of the data), tags,
KVS fragment metadata and the tracks that carried frames. A segment cut by the end of the stream lists
only its frames, as the Java library reports it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ._kvsparser import FragmentMetadata, KVSStreamParser, ParsedFrame, TrackInfo
from .errors import ParseError, TruncatedStreamError
from .iterators import ByteSource, iter_chunks

JAVA_LACING_NAMES = {"none": "NO", "xiph": "XIPH", "ebml": "EBML", "fixed": "FIXED_SIZE"}


def frame_record(frame: ParsedFrame) -> Dict[str, Any]:
    return {
        "trackNumber": frame.track_number,
        "timeCode": frame.timecode,
        "clusterTimecode": frame.cluster_timecode,
        "keyFrame": frame.is_keyframe,
        "invisible": frame.is_invisible,
        "discardable": frame.is_discardable,
        "lacing": JAVA_LACING_NAMES[frame.lacing],
        "dataLength": frame.size,
        "sha256": hashlib.sha256(frame.data).hexdigest(),
    }


def track_record(track: TrackInfo) -> Dict[str, Any]:
    return {
        "trackNumber": track.number,
        "trackUID": track.uid,
        "trackName": track.name or None,
        "codecId": track.codec_id or None,
        "codecName": track.codec_name or None,
        "codecPrivateLength": len(track.codec_private),
        "codecPrivateSha256": hashlib.sha256(track.codec_private).hexdigest(),
        "pixelWidth": track.pixel_width,
        "pixelHeight": track.pixel_height,
        "samplingFrequency": track.sampling_frequency,
        "channels": track.channels,
        "bitDepth": track.bit_depth,
    }


def fragment_record(fragment: FragmentMetadata) -> Optional[Dict[str, Any]]:
    if fragment.fragment_number is None:
        return None
    return {
        "fragmentNumber": fragment.fragment_number,
        "serverTimestampMillis": fragment.server_timestamp_ms,
        "producerTimestampMillis": fragment.producer_timestamp_ms,
        "success": not fragment.is_error,
        "errorId": fragment.error_id or 0,
        "errorCode": fragment.error_code,
    }


@dataclass
class _Collector:
    segments: List[Dict[str, Any]] = field(default_factory=list)
    frames: List[Dict[str, Any]] = field(default_factory=list)
    errors: List[ParseError] = field(default_factory=list)

    def on_frame(self, frame: ParsedFrame) -> None:
        self.frames.append(frame_record(frame))

    def on_fragment_end(self, fragment: FragmentMetadata) -> None:
        segment: Dict[str, Any] = {"frames": self.frames}
        self.frames = []
        truncated = not fragment.complete and any(isinstance(e, TruncatedStreamError) for e in self.errors)
        if not truncated:
            carried = {f["trackNumber"] for f in segment["frames"]}
            segment.update(
                tags=[{"name": t.name, "value": t.value} for t in fragment.tags if not t.is_binary],
                fragment=fragment_record(fragment),
                millisBehindNow=fragment.millis_behind_now,
                continuationToken=fragment.continuation_token,
                tracks=[track_record(t) for t in fragment.tracks if t.number in carried],
            )
        self.segments.append(segment)


def golden_report(source: ByteSource, file_name: str = "-", chunk_size: int = 64 * 1024) -> Dict[str, Any]:
    """Parse `source` whole and return the golden-file dict for it."""
    collector = _Collector()
    parser = KVSStreamParser(
        on_frame=collector.on_frame,
        on_fragment_end=collector.on_fragment_end,
        on_error=collector.errors.append,
    )
    for chunk in iter_chunks(source, chunk_size):
        parser.parse(chunk)
    parser.close()
    return {
        "file": file_name,
        "error": str(collector.errors[0]) if collector.errors else None,
        "segmentCount": len(collector.segments),
        "frameCount": sum(len(s["frames"]) for s in collector.segments),
        "segments": collector.segments,
    }
