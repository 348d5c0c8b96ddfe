"""Decoded tracks to one WAV file (stdlib `wave`): each track's channels side by side, aligned in time."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import BinaryIO, Sequence, Union

from .._extras import missing_extra

try:
    import numpy as np
except ImportError as error:
    raise missing_extra("decode", error) from error

from ._read import AudioTrack


def write_wav(out: Union[str, Path, BinaryIO], tracks: Sequence[AudioTrack]) -> int:
    """Writes 16-bit PCM: one track as is, several as channels in the given order (e.g. customer left,
    agent right), each delayed by its start relative to the earliest and padded with silence to the
    longest. All tracks need the same sample rate. Returns the number of sample frames written."""
    if not tracks:
        raise ValueError("no audio tracks to write")
    rate = tracks[0].sample_rate
    if any(t.sample_rate != rate for t in tracks):
        raise ValueError("tracks with different sample rates cannot share a WAV file")
    first = min((t.start_ms for t in tracks if t.start_ms is not None), default=0)
    columns = []
    for track in tracks:
        offset = round(((track.start_ms or first) - first) * rate / 1000)
        samples = track.samples
        columns.append(np.concatenate([np.zeros((offset, track.channels), np.int16), samples]))
    length = max(len(c) for c in columns)
    padded = [np.pad(c, ((0, length - len(c)), (0, 0))) for c in columns]
    interleaved = np.ascontiguousarray(np.concatenate(padded, axis=1).astype("<i2"))
    with wave.open(out if not isinstance(out, Path) else str(out), "wb") as wav:
        wav.setnchannels(interleaved.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(interleaved.tobytes())
    return length
