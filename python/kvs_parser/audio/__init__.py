"""Audio tracks of KVS streams (Amazon Connect's AUDIO_FROM_CUSTOMER / AUDIO_TO_CUSTOMER, Chime's G.711, AAC
cameras) decoded with PyAV to numpy, and written as WAV."""

from __future__ import annotations

from ._codecs import AudioCodec, audio_codec
from ._decoder import AudioDecoder
from ._read import AudioCollector, AudioTrack, read_audio, select_tracks
from ._wav import write_wav

__all__ = [
    "AudioCodec", "AudioCollector", "AudioDecoder", "AudioTrack", "audio_codec", "read_audio", "select_tracks",
    "write_wav",
]
