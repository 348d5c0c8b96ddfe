"""GPU decoding with NVDEC (PyNvVideoCodec): pictures stay on the GPU as device arrays.

Each track gets one hardware decoder fed Annex B access units (``AnnexBFeed``). NVDEC writes NV12, or RGB
converted on the GPU; the picture is copied out of the decoder's reused surfaces into an array of the
application's library (CuPy or PyTorch, see ``ArrayModule``), on a CUDA stream of the decoder's own, and
is complete when ``decode()`` returns. Like the PyAV backend, bad data never raises: it is counted, the
decoder is dropped, and decoding resumes at the next keyframe with a new one.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

from .._kvsparser import TrackInfo
from ._annexb_feed import AnnexBFeed
from ._block_meta import BlockMeta
from ._device_arrays import ArrayModule, ArrayModuleUnavailableError, DeviceStream, NoSuchDeviceError, array_module
from ._model import DecodedPicture, DecodeOptions, DecodeStats, EncodedFrame
from ._nvdec_session import (
    DecoderSession,
    NvdecUnavailableError,
    PyNvDecoderSession,
    decoder_errors,
    load_pynvvideocodec,
)
from ._sampler import FpsSampler

log = logging.getLogger(__name__)

# Pictures the decoder may hold back stay far below this; it bounds the bookkeeping of lost ones.
_MAX_PENDING = 64

#: (codec_id, surface format, low latency, stream) -> a decoder session.
SessionFactory = Callable[[str, str, bool, DeviceStream], DecoderSession]


@dataclass(frozen=True)
class _Output:
    """How one requested pixel format is made from what NVDEC writes."""

    surface: str  # "nv12", "rgbp" or "rgb24" (SURFACE_FORMATS)
    reverse_axis: Optional[int] = None  # the channel axis, reversed for BGR
    luma_only: bool = False


OUTPUTS = {
    "nv12": _Output("nv12"),
    "gray": _Output("nv12", luma_only=True),
    "rgbp": _Output("rgbp"),
    "bgrp": _Output("rgbp", reverse_axis=0),
    "rgb24": _Output("rgb24"),
    "bgr24": _Output("rgb24", reverse_axis=2),
}


def check_nvdec_options(options: DecodeOptions) -> None:
    """ValueError for what NVDEC output cannot be (checked before any GPU is touched)."""
    if options.pixel_format not in OUTPUTS:
        raise ValueError(f"the nvdec backend gives pixel formats {', '.join(OUTPUTS)}, not {options.pixel_format!r}")
    if options.width or options.height:
        raise ValueError("the nvdec backend does not resize: leave width/height unset and resize on the GPU "
                         "in the model's preprocessing")


class NvdecTrackDecoder:
    """Decodes one track on the GPU. Starts at a keyframe; after bad data, skips to the next keyframe."""

    def __init__(self, track: TrackInfo, options: DecodeOptions, sampler: Optional[FpsSampler],
                 arrays: ArrayModule, open_session: SessionFactory, errors: Tuple[type[BaseException], ...]) -> None:
        self.stats = DecodeStats()
        self._feed = AnnexBFeed(track)  # UnsupportedCodecError for anything but H.264/H.265
        self._track_number = track.number
        self._codec_id = track.codec_id
        self._output = OUTPUTS[options.pixel_format]
        self._pixel_format = options.pixel_format
        self._sampler = sampler
        self._arrays = arrays
        self._open_session = open_session
        self._errors = errors
        self._low_latency = options.latency == "low"
        self._stream = arrays.new_stream()
        self._session: Optional[DecoderSession] = None
        # Packet pts is our own sequence number: it maps pictures back to their block.
        self._pending: OrderedDict[int, BlockMeta] = OrderedDict()
        self._seq = 0
        self._need_keyframe = True
        self._last_pts_ms: Optional[int] = None
        self.unmatched_pts = 0  # pictures whose pts the decoder did not keep (matched oldest-first)

    def _fail(self, what: str, error: Optional[BaseException] = None) -> None:
        self.stats.decode_errors += 1
        self._reset()
        log.debug("track %d: %s, skipping to the next keyframe: %s", self._track_number, what, error)

    def _reset(self) -> None:
        self._need_keyframe = True
        self._pending.clear()
        self._session = None  # a fresh decoder at the next keyframe: no references built on bad data

    def _watch_reordering(self, frame: EncodedFrame) -> None:
        """NVDEC's low-latency mode is only for streams without B-frames; a block whose pts goes back
        shows reordering, so decoding restarts at the next keyframe in the reordering-safe mode."""
        last, self._last_pts_ms = self._last_pts_ms, frame.pts_ms
        if self._low_latency and last is not None and frame.pts_ms < last and not frame.is_keyframe:
            log.info("track %d has B-frames: NVDEC low-latency mode off", self._track_number)
            self._low_latency = False
            self._reset()

    def decode(self, frame: EncodedFrame) -> List[DecodedPicture]:
        self.stats.frames_in += 1
        self._watch_reordering(frame)
        if (self._need_keyframe and not frame.is_keyframe) or len(frame.data) == 0:
            self.stats.frames_skipped += 1
            return []
        try:
            access_unit = self._feed.access_unit(frame)
        except ValueError as error:
            self._fail("corrupt NAL unit lengths", error)
            return []
        try:
            if self._session is None:
                self._session = self._open_session(self._codec_id, self._output.surface, self._low_latency,
                                                   self._stream)
                self.stats.decoders_opened += 1
            self._pending[self._seq] = BlockMeta.of(frame)
            while len(self._pending) > _MAX_PENDING:
                self._pending.popitem(last=False)
            with self._stream:
                surfaces = self._session.submit(access_unit, self._seq)
                self._seq += 1
                out = self._convert(surfaces)
            self._stream.synchronize()  # the pictures are complete when decode() returns
        except self._errors as error:
            self._fail("decoder error", error)
            return []
        self._need_keyframe = False
        return out

    def flush(self) -> List[DecodedPicture]:
        if self._session is None:
            return []
        try:
            with self._stream:
                out = self._convert(self._session.drain())
            self._stream.synchronize()
        except self._errors as error:
            self._fail("flush failed", error)
            return []
        self._reset()  # a drained decoder is done; the next keyframe opens a new one
        return out

    def close(self) -> None:
        self._session = None  # PyNvVideoCodec frees the decoder when the object goes
        self._pending.clear()

    def _match(self, surface: Any) -> Optional[BlockMeta]:
        assert self._session is not None
        pts = self._session.surface_pts(surface)
        if pts is not None and pts in self._pending:
            return self._pending.pop(pts)
        if self._pending:
            self.unmatched_pts += 1
            return self._pending.popitem(last=False)[1]
        return None

    def _convert(self, surfaces: List[Any]) -> List[DecodedPicture]:
        out: List[DecodedPicture] = []
        for surface in surfaces:
            self.stats.frames_decoded += 1
            meta = self._match(surface)
            if meta is None:  # from before a resync: its block was already given up
                self.stats.frames_skipped += 1
                continue
            if self._sampler is not None and not self._sampler.keep(meta.pts_ms):
                self.stats.frames_sampled_out += 1
                continue  # dropped before paying for the copy
            out.append(self._to_decoded(surface, meta))
        self.stats.frames_out += len(out)
        return out

    def _to_decoded(self, surface: Any, meta: BlockMeta) -> DecodedPicture:
        view = self._arrays.from_dlpack(surface)
        output = self._output
        if output.surface == "nv12":
            height, width = view.shape[0] * 2 // 3, view.shape[1]
            image = self._arrays.owned(view[:height] if output.luma_only else view)
        elif output.surface == "rgbp":
            if len(view.shape) == 2:  # planes one under the other: (3h, w)
                view = view.reshape((3, view.shape[0] // 3, view.shape[1]))
            height, width = view.shape[1], view.shape[2]
            image = self._arrays.owned(view, reverse_axis=output.reverse_axis)
        else:
            height, width = view.shape[0], view.shape[1]
            image = self._arrays.owned(view, reverse_axis=output.reverse_axis)
        return meta.picture(image, self._pixel_format, width, height, self._track_number, device=self._arrays.device)


class NvdecBackend:
    """The GPU backend: ``backend="nvdec"`` with ``DecodeOptions(device=N)``.

    Raises NvdecUnavailableError at construction when PyNvVideoCodec (the ``[gpu]`` extra), an array
    library for device arrays (CuPy or PyTorch) or the GPU itself is missing; ValueError for options NVDEC
    cannot honour. ``session_factory`` replaces PyNvVideoCodec (the CPU tests feed a software decoder the
    same access units).
    """

    name = "nvdec"

    def __init__(
        self,
        options: Optional[DecodeOptions] = None,
        *,
        arrays: Optional[ArrayModule] = None,
        session_factory: Optional[SessionFactory] = None,
        errors: Tuple[type[BaseException], ...] = (RuntimeError, ValueError),
    ) -> None:
        self.options = options or DecodeOptions()
        check_nvdec_options(self.options)
        if session_factory is None:
            nvc = load_pynvvideocodec()
            device = self.options.device
            try:
                arrays = arrays or array_module(None, device)
            except (ArrayModuleUnavailableError, NoSuchDeviceError) as error:
                raise NvdecUnavailableError(f"decode backend 'nvdec': {error}") from error
            errors = decoder_errors(nvc)

            def session_factory(codec_id: str, surface: str, low_latency: bool, stream: DeviceStream) -> DecoderSession:
                return PyNvDecoderSession(nvc, codec_id, surface, low_latency, device, stream.handle)

        elif arrays is None:
            raise ValueError("a session_factory needs the arrays its pictures go into")
        self.arrays: ArrayModule = arrays
        self._session_factory: SessionFactory = session_factory
        self._errors = errors

    def open(self, track: TrackInfo, sampler: Optional[FpsSampler] = None) -> NvdecTrackDecoder:
        return NvdecTrackDecoder(track, self.options, sampler, self.arrays, self._session_factory, self._errors)
