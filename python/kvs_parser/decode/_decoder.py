"""Routes a parser's frames to one track decoder per video track, reopening on codec changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Optional, Union

from .._kvsparser import TrackInfo
from ._backend import DEFAULT_BACKEND, BackendRegistry, DecoderBackend, TrackDecoder
from ._codecs import TrackKey, UnsupportedCodecError, track_key
from ._model import TRACK_TYPE_VIDEO, DecodedPicture, DecodeOptions, DecodeStats, EncodedFrame
from ._sampler import FpsSampler

log = logging.getLogger(__name__)


def is_video_track(track: TrackInfo) -> bool:
    return track.type == TRACK_TYPE_VIDEO or track.codec_id.startswith("V_")


@dataclass
class _TrackState:
    key: TrackKey
    decoder: Optional[TrackDecoder]  # None: codec not supported, frames are skipped
    sampler: FpsSampler = field(default_factory=FpsSampler)


class FrameDecoder:
    """Decodes every video track of a stream.

    Call ``update_tracks`` with each fragment's Tracks (KVS repeats them in every fragment): a decoder is
    kept while the track's CodecID, CodecPrivate and resolution stay the same, and replaced otherwise,
    returning the pictures the old one still held. Audio and other non-video tracks are ignored.
    """

    def __init__(
        self,
        options: Optional[DecodeOptions] = None,
        backend: Union[str, DecoderBackend] = DEFAULT_BACKEND,
        registry: Optional[BackendRegistry] = None,
    ) -> None:
        self.options = options or DecodeOptions()
        if isinstance(backend, str):
            backend = (registry or BackendRegistry()).create(backend, self.options)
        self.backend = backend
        self._tracks: dict[int, _TrackState] = {}
        self._closed_stats = DecodeStats()  # own counters plus those of decoders already closed

    @property
    def stats(self) -> DecodeStats:
        total = DecodeStats()
        total.add(self._closed_stats)
        for state in self._tracks.values():
            if state.decoder is not None:
                total.add(state.decoder.stats)
        return total

    def update_tracks(self, tracks: Iterable[TrackInfo]) -> list[DecodedPicture]:
        out: list[DecodedPicture] = []
        seen: set[int] = set()
        for track in tracks:
            if not is_video_track(track):
                continue
            seen.add(track.number)
            key = track_key(track)
            state = self._tracks.get(track.number)
            if state is not None and state.key == key:
                continue
            sampler = state.sampler if state is not None else FpsSampler(self.options.fps_target)
            if state is not None:
                log.info("track %d changed (%s %sx%s), opening a new decoder", track.number, *key[:1], *key[2:])
                out += self._retire(state)
            self._tracks[track.number] = _TrackState(key, self._open(track, sampler), sampler)
        for number in [n for n in self._tracks if n not in seen]:
            out += self._retire(self._tracks.pop(number))
        return out

    def _open(self, track: TrackInfo, sampler: FpsSampler) -> Optional[TrackDecoder]:
        try:
            return self.backend.open(track, sampler if self.options.fps_target else None)
        except UnsupportedCodecError as error:
            log.warning("%s; its frames are skipped", error)
            return None

    def _retire(self, state: _TrackState) -> list[DecodedPicture]:
        if state.decoder is None:
            return []
        try:
            return state.decoder.flush()
        finally:
            state.decoder.close()
            self._closed_stats.add(state.decoder.stats)
            state.decoder = None

    def decode(self, frame: EncodedFrame) -> list[DecodedPicture]:
        state = self._tracks.get(frame.track_number)
        if state is None:
            return []  # not a video track, or no Tracks seen yet
        if state.decoder is None or (self.options.keyframes_only and not frame.is_keyframe):
            self._closed_stats.frames_in += 1
            self._closed_stats.frames_skipped += 1
            return []
        return state.decoder.decode(frame)

    def flush(self) -> list[DecodedPicture]:
        """Return every picture still held by the decoders (at the end of a stream)."""
        out: list[DecodedPicture] = []
        for state in self._tracks.values():
            if state.decoder is not None:
                out += state.decoder.flush()
        return out

    def close(self) -> None:
        for state in self._tracks.values():
            if state.decoder is not None:
                state.decoder.close()
                self._closed_stats.add(state.decoder.stats)
                state.decoder = None
        self._tracks.clear()

    def __enter__(self) -> FrameDecoder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
