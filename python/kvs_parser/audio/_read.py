"""Reading chosen audio tracks of a stream into memory, by track name (or number)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from .._extras import missing_extra

try:
    import numpy as np
except ImportError as error:
    raise missing_extra("decode", error) from error

from .._kvsparser import KVSStreamParser
from ..iterators import ByteSource, iter_chunks
from ._codecs import audio_codec
from ._decoder import AudioDecoder


@dataclass
class AudioTrack:
    name: str
    number: int
    sample_rate: int
    channels: int
    start_ms: Optional[int] = None  # pts of the first decoded frame
    chunks: List[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def samples(self) -> np.ndarray:
        """All decoded samples, int16, shaped (n, channels)."""
        if not self.chunks:
            return np.zeros((0, self.channels), dtype=np.int16)
        return np.concatenate(self.chunks)


def select_tracks(tracks: Sequence[Any], wanted: Sequence[str]) -> List[Any]:
    """TrackInfos named in `wanted` (by Name, or by number), in `wanted` order; all audio tracks if empty."""
    if not wanted:
        return [t for t in tracks if audio_codec(t) is not None]
    chosen = []
    for key in wanted:
        match = next((t for t in tracks if t.name == key or str(t.number) == key), None)
        if match is None:
            names = ", ".join(t.name or str(t.number) for t in tracks)
            raise LookupError(f"no track {key!r} (tracks: {names})")
        chosen.append(match)
    return chosen


@dataclass
class AudioCollector:
    """Decodes the `wanted` tracks of frames fed to it: pass `on_tracks` to a parser or GetMediaStream
    (each fragment's TrackInfo list) and every frame to `on_frame`; `result()` lists them in `wanted` order."""

    wanted: Sequence[str] = ()
    tracks: Dict[int, AudioTrack] = field(default_factory=dict)
    decoders: Dict[int, AudioDecoder] = field(default_factory=dict)

    def on_tracks(self, infos: Sequence[Any]) -> None:
        for info in select_tracks(infos, self.wanted):
            if info.number in self.decoders:
                continue
            codec = audio_codec(info)
            if codec is None:
                raise ValueError(f"track {info.name or info.number} ({info.codec_id}) is not a decodable audio track")
            self.decoders[info.number] = AudioDecoder(codec)
            self.tracks[info.number] = AudioTrack(info.name or str(info.number), info.number, codec.sample_rate,
                                                  codec.channels)

    def on_frame(self, frame: Any) -> None:
        decoder = self.decoders.get(frame.track_number)
        if decoder is None:
            return
        track = self.tracks[frame.track_number]
        if track.start_ms is None:
            track.start_ms = frame.pts_ms
        track.chunks.append(decoder.decode(bytes(frame)))

    def result(self) -> List[AudioTrack]:
        found = list(self.tracks.values())
        if not self.wanted:
            return found
        return [next(t for t in found if key in (t.name, str(t.number))) for key in self.wanted
                if any(key in (t.name, str(t.number)) for t in found)]


def read_audio(source: ByteSource, wanted: Sequence[str] = ()) -> List[AudioTrack]:
    """The `wanted` audio tracks (names or numbers; empty: all) of a byte source, decoded."""
    collector = AudioCollector(wanted)
    parser = KVSStreamParser(on_tracks=collector.on_tracks, on_frame=collector.on_frame)
    for chunk in iter_chunks(source):
        parser.parse(chunk)
    parser.close()
    return collector.result()
