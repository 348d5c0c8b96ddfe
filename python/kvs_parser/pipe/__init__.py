"""A live KVS stream as one continuous byte stream for other programs (GStreamer, FFmpeg, mpv):
Matroska with a single unknown-size Segment, or raw Annex B H.264/H.265 (the Java MergedOutputPiper role)."""

from __future__ import annotations

from ._annexb import AnnexBWriter, CodecPrivateError, parameter_sets
from ._matroska import LiveMkvWriter

__all__ = ["AnnexBWriter", "CodecPrivateError", "LiveMkvWriter", "parameter_sets"]
