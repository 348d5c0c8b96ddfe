"""Re-fragmenting a media file into KVS fragments: demux with PyAV, cut at video keyframes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple, cast

from .._extras import missing_extra

try:
    import av
except ImportError as error:
    raise missing_extra("emulator", error) from error

from ..mkv import CODEC_IDS, TRACK_TYPE_AUDIO, TRACK_TYPE_VIDEO, Block, TrackSpec


@dataclass(frozen=True)
class FileMedia:
    tracks: Tuple[TrackSpec, ...]
    fragments: Tuple[Tuple[Block, ...], ...]  # block timecodes in ms from the file start


def _track(number: int, stream: av.stream.Stream) -> TrackSpec:
    ctx = stream.codec_context
    codec_id = CODEC_IDS.get(ctx.name)
    if codec_id is None:
        raise ValueError(f"codec {ctx.name!r} of stream {stream.index} has no Matroska mapping here")
    if stream.type == "video":
        video = cast("av.VideoCodecContext", ctx)
        rate = stream.average_rate or stream.guessed_rate
        return TrackSpec(number, codec_id, TRACK_TYPE_VIDEO, codec_private=bytes(ctx.extradata or b""),
                         default_duration_ns=round(1e9 / rate) if rate else None,
                         width=video.width, height=video.height)
    audio = cast("av.AudioCodecContext", ctx)  # load_file takes video and audio streams only
    return TrackSpec(number, codec_id, TRACK_TYPE_AUDIO, codec_private=bytes(ctx.extradata or b""),
                     sampling_frequency=float(audio.sample_rate), channels=audio.layout.nb_channels)


def load_file(path: str, min_fragment_ms: int = 0) -> FileMedia:
    """Video and audio packets of `path`, grouped so every fragment starts at a video keyframe.

    A new fragment starts at a keyframe once the current one spans `min_fragment_ms` (0: every keyframe).
    """
    with av.open(path) as container:
        streams = [s for s in container.streams if s.type in ("video", "audio")]
        if not any(s.type == "video" for s in streams):
            raise ValueError(f"{path}: no video stream to cut fragments at")
        tracks = tuple(_track(i + 1, s) for i, s in enumerate(streams))
        numbers = {s.index: i + 1 for i, s in enumerate(streams)}
        fragments: List[List[Block]] = []
        for packet in container.demux(streams):
            if packet.size == 0 or packet.pts is None:
                continue
            timecode = round(float(packet.pts * packet.time_base) * 1000)
            is_video = packet.stream.type == "video"
            starts_fragment = is_video and packet.is_keyframe and (
                not fragments or timecode - fragments[-1][0].timecode >= min_fragment_ms
            )
            if starts_fragment:
                fragments.append([])
            if not fragments:
                continue  # media before the first video keyframe cannot start a fragment
            duration = round(float(packet.duration * packet.time_base) * 1000) if packet.duration else None
            frame = Block(numbers[packet.stream.index], timecode, bytes(packet), keyframe=packet.is_keyframe,
                          duration=None if is_video else duration)
            fragments[-1].append(frame)
    return FileMedia(tracks, tuple(tuple(f) for f in fragments))
