"""Track descriptions and their TrackEntry encoding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from ._ebml import binary_element, float_element, master, string_element, uint_element
from ._ids import Id

TRACK_TYPE_VIDEO = 1
TRACK_TYPE_AUDIO = 2

# PyAV/FFmpeg codec names to Matroska CodecIDs, for the codecs KVS streams carry.
CODEC_IDS = {
    "h264": "V_MPEG4/ISO/AVC",
    "hevc": "V_MPEGH/ISO/HEVC",
    "vp8": "V_VP8",
    "vp9": "V_VP9",
    "mjpeg": "V_MJPEG",
    "aac": "A_AAC",
    "opus": "A_OPUS",
    "pcm_alaw": "A_MS/ACM",
    "pcm_mulaw": "A_MS/ACM",
}


@dataclass(frozen=True)
class TrackSpec:
    number: int
    codec_id: str
    track_type: int = TRACK_TYPE_VIDEO
    uid: Optional[int] = None  # defaults to the track number
    codec_private: bytes = b""
    name: str = ""
    default_duration_ns: Optional[int] = None
    width: Optional[int] = None
    height: Optional[int] = None
    sampling_frequency: Optional[float] = None
    channels: Optional[int] = None
    bit_depth: Optional[int] = None


def track_entry(track: TrackSpec) -> bytes:
    children = [
        uint_element(Id.TRACK_NUMBER, track.number),
        uint_element(Id.TRACK_UID, track.uid if track.uid is not None else track.number),
        uint_element(Id.TRACK_TYPE, track.track_type),
        string_element(Id.CODEC_ID, track.codec_id),
    ]
    if track.name:
        children.append(string_element(Id.NAME, track.name))
    if track.default_duration_ns:
        children.append(uint_element(Id.DEFAULT_DURATION, track.default_duration_ns))
    if track.codec_private:
        children.append(binary_element(Id.CODEC_PRIVATE, track.codec_private))
    if track.width is not None and track.height is not None:
        video = [uint_element(Id.PIXEL_WIDTH, track.width), uint_element(Id.PIXEL_HEIGHT, track.height)]
        children.append(master(Id.VIDEO, video))
    audio = []
    if track.sampling_frequency is not None:
        audio.append(float_element(Id.SAMPLING_FREQUENCY, track.sampling_frequency))
    if track.channels is not None:
        audio.append(uint_element(Id.CHANNELS, track.channels))
    if track.bit_depth is not None:
        audio.append(uint_element(Id.BIT_DEPTH, track.bit_depth))
    if audio:
        children.append(master(Id.AUDIO, audio))
    return master(Id.TRACK_ENTRY, children, size_length=8)


def tracks_element(tracks: Sequence[TrackSpec]) -> bytes:
    return master(Id.TRACKS, (track_entry(t) for t in tracks), size_length=8)
