"""Decoding through a GStreamer pipeline in the process, fed exactly once by our parser and GetMedia client.

The user's pipeline (``DecodeOptions.pipeline``, e.g. ``h264parse ! avdec_h264``, ``vaapih264dec``, or the
seed's whole ``appsrc ! matroskademux ! ... ! appsink``) decodes; our parser stays the demuxer, so every
picture keeps its block's fragment number, producer time and keyframe flag: a block is pushed with a
timestamp of its own, and the picture coming out with that timestamp is that block's.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from .._kvsparser import TrackInfo
from ._block_meta import BlockMeta
from ._gst_caps import TrackCaps, track_caps
from ._gst_pictures import PictureConverter
from ._gst_pipeline import (
    DEFAULT_DECODE,
    DecodePart,
    GStreamerPipelineError,
    decode_part,
    full_description,
    tune_for_latency,
)
from ._gst_runtime import gst_modules
from ._gst_session import GstSession, bin_accepts, build_bin
from ._gst_timestamps import Timestamps
from ._model import GPU_PIXEL_FORMATS, PIXEL_FORMATS, DecodedPicture, DecodeOptions, DecodeStats, EncodedFrame
from ._pyav_backend import decoder_threads
from ._sampler import FpsSampler

log = logging.getLogger(__name__)

# Bounds the bookkeeping of blocks whose pictures a decoder silently dropped (far above any reorder depth).
_MAX_PENDING = 64

_PROBE_CAPS = {"H.264": "video/x-h264", "H.265": "video/x-h265"}


def check_pipeline(pipeline: Optional[str]) -> DecodePart:
    """The decode part of ``pipeline`` once its elements are known to exist and link, and it takes H.264 or
    H.265; raises GStreamerPipelineError naming the element at fault, GStreamerUnavailableError without
    GStreamer. None checks the default decode parts."""
    gst_modules()
    for text in [pipeline] if pipeline is not None else list(DEFAULT_DECODE.values()):
        part = decode_part(text)
        bin_ = build_bin(full_description(part), text)
        if not any(bin_accepts(bin_, caps) for caps in _PROBE_CAPS.values()):
            first = part.elements[0]
            raise GStreamerPipelineError(f"pipeline {text!r}: its first element {first!r} takes neither "
                                         f"{' nor '.join(_PROBE_CAPS)}", first)
    return part


class GStreamerTrackDecoder:
    """Decodes one track through its own pipeline. Starts at a keyframe; after a pipeline error or bad data,
    the pipeline is replaced at the next keyframe."""

    def __init__(self, track: TrackInfo, options: DecodeOptions, sampler: Optional[FpsSampler],
                 description: str, caps: TrackCaps) -> None:
        self.stats = DecodeStats()
        self._track_number = track.number
        self._options = options
        self._sampler = sampler
        self._description = description
        self._caps = caps
        self._session: Optional[GstSession] = None
        self._pending: dict[int, BlockMeta] = {}
        self._stamps = Timestamps()
        self._need_keyframe = True
        self._pictures = PictureConverter(options)

    def _fail(self, what: str) -> None:
        self.stats.decode_errors += 1
        self._need_keyframe = True
        self._pending.clear()
        self._end_session()
        log.debug("track %d: %s, skipping to the next keyframe", self._track_number, what)

    def _end_session(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def decode(self, frame: EncodedFrame) -> list[DecodedPicture]:
        self.stats.frames_in += 1
        if (self._need_keyframe and not frame.is_keyframe) or len(frame.data) == 0:
            self.stats.frames_skipped += 1
            return []
        try:
            payload = bytes(self._caps.payload(frame))
        except ValueError as error:  # NAL lengths that overrun the block
            self._fail(f"bad frame: {error}")
            return []
        if self._session is None:
            try:
                self._session = GstSession(self._description, self._caps.caps)
            except GStreamerPipelineError as error:
                self._fail(str(error))
                return []
            self.stats.decoders_opened += 1
        pts_ns = self._stamps.stamp(frame.pts_ms, frame.is_keyframe)
        self._pending[pts_ns] = BlockMeta.of(frame)
        while len(self._pending) > _MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        accepted = self._session.push(payload, pts_ns, frame.is_keyframe)
        samples = self._session.pull()
        problems = self._session.problems()
        self._need_keyframe = False
        pictures = self._convert(samples)
        if not accepted or problems:
            self._fail("; ".join(problems) or "the pipeline refused the frame")
        elif self._options.keyframes_only:
            pictures += self.flush()  # every block is a keyframe: hand it over now, not a reorder slot later
        return pictures

    def flush(self) -> list[DecodedPicture]:
        if self._session is None:
            return []
        samples = self._session.drain()
        problems = self._session.problems()
        self._end_session()  # a drained pipeline takes no more data; the next keyframe starts a new one
        self._need_keyframe = True
        out = self._convert(samples)
        self._pending.clear()
        if problems:
            self.stats.decode_errors += 1
            log.debug("track %d: at the end of stream: %s", self._track_number, "; ".join(problems))
        return out

    def close(self) -> None:
        self._end_session()
        self._pending.clear()

    def _convert(self, samples: list[Any]) -> list[DecodedPicture]:
        Gst, _, _ = gst_modules()
        out: list[DecodedPicture] = []
        for sample in samples:
            self.stats.frames_decoded += 1
            buffer = sample.get_buffer()
            meta = self._pending.pop(buffer.pts, None)
            if meta is None:  # from before a resync: its block was already given up
                self.stats.frames_skipped += 1
                continue
            for older in [pts for pts in self._pending if pts < buffer.pts]:
                del self._pending[older]  # pictures come in timestamp order: these were dropped by the decoder
                self.stats.frames_skipped += 1
            if buffer.has_flags(Gst.BufferFlags.CORRUPTED):
                self._fail("corrupt picture")
                continue
            if self._sampler is not None and not self._sampler.keep(meta.pts_ms):
                self.stats.frames_sampled_out += 1
                continue
            try:
                image, width, height = self._pictures.convert(sample)
            except ValueError as error:
                self._fail(str(error))
                continue
            out.append(meta.picture(image, self._options.pixel_format, width, height, self._track_number))
        self.stats.frames_out += len(out)
        return out


class GStreamerBackend:
    """Decodes with a GStreamer pipeline (``options.pipeline``; per codec ``h264parse ! avdec_h264`` or
    ``h265parse ! avdec_h265`` when None). Needs PyGObject and GStreamer: the ``[gstreamer]`` extra."""

    name = "gstreamer"

    def __init__(self, options: Optional[DecodeOptions] = None) -> None:
        self.options = options or DecodeOptions()
        if self.options.pixel_format in GPU_PIXEL_FORMATS:
            raise ValueError(f"pixel_format {self.options.pixel_format!r} is for the nvdec backend; the gstreamer "
                             f"backend gives {', '.join(PIXEL_FORMATS)}")
        gst_modules()  # GStreamerUnavailableError now, in the constructor, rather than on a reader thread
        if self.options.pipeline is not None:
            check_pipeline(self.options.pipeline)

    def _description(self, track: TrackInfo) -> str:
        text = self.options.pipeline
        if text is None:
            text = DEFAULT_DECODE.get(track.codec_id, DEFAULT_DECODE["V_MPEG4/ISO/AVC"])
        return full_description(tune_for_latency(decode_part(text), decoder_threads(self.options)))

    def open(self, track: TrackInfo, sampler: Optional[FpsSampler] = None) -> GStreamerTrackDecoder:
        description = self._description(track)
        probe = build_bin(description)  # the pad templates say which caps this pipeline's input takes
        caps = track_caps(track, lambda text: bin_accepts(probe, text))
        return GStreamerTrackDecoder(track, self.options, sampler, description, caps)
