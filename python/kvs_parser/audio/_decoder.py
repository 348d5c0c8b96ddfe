"""One audio track's frames to 16-bit PCM numpy arrays, with PyAV."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, cast

from .._extras import missing_extra

try:
    import av
    import numpy as np
except ImportError as error:
    raise missing_extra("decode", error) from error

from ._codecs import AudioCodec

# Matroska stores a channel count, not a layout: FFmpeg's usual layout for each count.
LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def channel_layout(channels: int) -> str:
    layout = LAYOUTS.get(channels)
    if layout is None:
        raise ValueError(f"{channels} audio channels: decoded up to {max(LAYOUTS)}")
    return layout


@dataclass
class AudioDecoder:
    """`decode(bytes)` returns int16 samples shaped (n, channels); every codec ends up as packed s16."""

    codec: AudioCodec
    _context: Any = field(init=False, repr=False)
    _resampler: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        context = cast("av.AudioCodecContext", av.CodecContext.create(self.codec.decoder, "r"))
        context.sample_rate = self.codec.sample_rate
        layout = channel_layout(self.codec.channels)
        context.layout = layout
        if self.codec.extradata:
            context.extradata = self.codec.extradata
        self._context = context
        self._resampler = av.AudioResampler(format="s16", layout=layout, rate=self.codec.sample_rate)

    def decode(self, data: bytes) -> np.ndarray:
        out: List[np.ndarray] = []
        for frame in self._context.decode(av.Packet(data)):
            for converted in self._resampler.resample(frame):
                out.append(converted.to_ndarray().reshape(-1, self.codec.channels))
        return np.concatenate(out) if out else np.zeros((0, self.codec.channels), dtype=np.int16)
