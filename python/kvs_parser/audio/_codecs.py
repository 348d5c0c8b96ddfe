"""Matroska audio CodecIDs to FFmpeg decoders, including A_MS/ACM's WAVEFORMATEX (how G.711 is stored)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Optional

# WAVEFORMATEX wFormatTag values (mmreg.h) that KVS audio producers use.
WAVE_FORMATS = {1: "pcm", 3: "pcm_f32le", 6: "pcm_alaw", 7: "pcm_mulaw"}
PCM_LITTLE = {8: "pcm_u8", 16: "pcm_s16le", 24: "pcm_s24le", 32: "pcm_s32le"}
PCM_BIG = {16: "pcm_s16be", 24: "pcm_s24be", 32: "pcm_s32be"}


@dataclass(frozen=True)
class AudioCodec:
    decoder: str  # FFmpeg decoder name
    sample_rate: int
    channels: int
    extradata: bytes = b""


def _from_waveformatex(private: bytes) -> AudioCodec:
    if len(private) < 16:
        raise ValueError("A_MS/ACM needs a WAVEFORMATEX CodecPrivate")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", private)
    name = WAVE_FORMATS.get(tag)
    if name is None:
        raise ValueError(f"unsupported WAVEFORMATEX format tag {tag:#x}")
    if name == "pcm":
        name = PCM_LITTLE.get(bits, "")
    return AudioCodec(name, rate, channels)


def audio_codec(track: Any) -> Optional[AudioCodec]:
    """The decoder for a TrackInfo, or None when it is not an audio track this package decodes."""
    codec_id = track.codec_id
    rate = round(track.sampling_frequency or 8000)
    channels = track.channels or 1
    bits = track.bit_depth or 16
    private = bytes(track.codec_private)
    if codec_id == "A_MS/ACM":
        return _from_waveformatex(private)
    if codec_id == "A_AAC" or codec_id.startswith("A_AAC/"):
        return AudioCodec("aac", rate, channels, private)
    if codec_id == "A_OPUS":
        return AudioCodec("opus", rate, channels, private)
    if codec_id == "A_PCM/INT/LIT" and bits in PCM_LITTLE:
        return AudioCodec(PCM_LITTLE[bits], rate, channels)
    if codec_id == "A_PCM/INT/BIG" and bits in PCM_BIG:
        return AudioCodec(PCM_BIG[bits], rate, channels)
    if codec_id == "A_PCM/FLOAT/IEEE":
        return AudioCodec("pcm_f64le" if bits == 64 else "pcm_f32le", rate, channels)
    return None
