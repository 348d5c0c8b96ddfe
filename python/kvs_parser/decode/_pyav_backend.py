"""CPU decoding with PyAV: one FFmpeg codec context per track, output as numpy arrays."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Optional, cast

from .._extras import missing_extra

try:
    import av
    from av.video.reformatter import VideoReformatter
except ImportError as error:
    raise missing_extra("decode", error) from error

from .._kvsparser import TrackInfo
from ._block_meta import BlockMeta as _BlockMeta
from ._codecs import codec_spec
from ._model import GPU_PIXEL_FORMATS, PIXEL_FORMATS, DecodedPicture, DecodeOptions, DecodeStats, EncodedFrame
from ._sampler import FpsSampler

log = logging.getLogger(__name__)

# libswscale threads per conversion. PyAV's default (0, "auto") builds a new scaler, with a fresh thread
# pool, for every picture: ~0.6 instead of ~0.35 CPU ms per 720p frame, threads that never live long
# enough to show in a per-thread profile. One thread and one kept scaler per track: cameras, not
# scaler threads, are what runs in parallel.
_SCALER_THREADS = 1

# Frames the decoder may hold back (reordering plus frame threads) stay far below this; it only bounds
# the bookkeeping of frames FFmpeg silently swallowed.
_MAX_PENDING = 64


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def output_size(options: DecodeOptions, width: int, height: int) -> tuple[int, int]:
    """The picture size after the optional resize; a single given side keeps the aspect ratio."""
    if options.width and options.height:
        return options.width, options.height
    if options.width:
        return options.width, _even(height * options.width / width)
    if options.height:
        return _even(width * options.height / height), options.height
    return width, height


def decoder_threads(options: DecodeOptions) -> int:
    """FFmpeg decoder threads for `options`: thread_count when given; else, in low-latency mode, one.

    Camera streams are nearly always one slice per picture, so slice threads have nothing to share and
    only cost their wake-ups, while frame threads hold back a frame each (66 ms per thread at 15 fps).
    With many cameras the cores are already busy with other cameras, so one thread per decoder gives the
    most frames per CPU second, and a picture is ready as soon as its own decode ends (3-4 ms for
    720p H.264 on this class of machine). A single high-resolution camera with sliced encoding can ask for
    more with thread_count.
    """
    if options.thread_count:
        return options.thread_count
    return 1 if options.latency == "low" else 0


class PyAVTrackDecoder:
    """Decodes one track. Starts at a keyframe; after bad data, skips to the next keyframe."""

    def __init__(self, track: TrackInfo, options: DecodeOptions, sampler: Optional[FpsSampler]) -> None:
        self.stats = DecodeStats()
        self._track = track
        self._track_number = track.number
        self._options = options
        self._sampler = sampler
        self._ctx: Optional[av.VideoCodecContext] = None
        # Packet pts is our own sequence number: it maps reordered pictures back to their block.
        self._pending: OrderedDict[int, _BlockMeta] = OrderedDict()
        self._seq = 0
        self._need_keyframe = True
        self._scaler = VideoReformatter()

    def _open_context(self) -> av.VideoCodecContext:
        spec = codec_spec(self._track)
        ctx = cast("av.VideoCodecContext", av.CodecContext.create(spec.decoder_name, "r"))  # typed by codec name
        if spec.extradata:
            ctx.extradata = spec.extradata
        # Frame threads hold back one frame per thread; slice threads add no delay.
        ctx.thread_type = "SLICE" if self._options.latency == "low" else "AUTO"
        ctx.thread_count = decoder_threads(self._options)
        ctx.open()
        self.stats.decoders_opened += 1
        return ctx

    def _fail(self, what: str, error: Optional[BaseException] = None) -> None:
        self.stats.decode_errors += 1
        self._need_keyframe = True
        self._pending.clear()
        if self._ctx is not None:
            self._ctx.flush_buffers()  # drop references built on bad data
        log.debug("track %d: %s, skipping to the next keyframe: %s", self._track_number, what, error)

    def decode(self, frame: EncodedFrame) -> list[DecodedPicture]:
        self.stats.frames_in += 1
        data = frame.data
        if (self._need_keyframe and not frame.is_keyframe) or len(data) == 0:
            self.stats.frames_skipped += 1
            return []
        try:
            if self._ctx is None:
                self._ctx = self._open_context()
            packet = av.Packet(data)  # type: ignore[arg-type, unused-ignore]  # PyAV < 18.1.1 stubs: bytes
            packet.pts = self._seq
            self._pending[self._seq] = _BlockMeta.of(frame)
            self._seq += 1
            while len(self._pending) > _MAX_PENDING:
                self._pending.popitem(last=False)
            pictures = self._ctx.decode(packet)
            self._need_keyframe = False
            if self._options.keyframes_only:
                # Every block is a keyframe here: drain now instead of waiting for reorder slots to fill.
                pictures += self._drain()
        except (av.error.FFmpegError, ValueError) as error:
            if self._ctx is not None and not self._ctx.is_open:
                self._ctx = None
            self._fail("bad frame", error)
            return []
        return self._convert(pictures)

    def _drain(self) -> list[av.VideoFrame]:
        assert self._ctx is not None
        try:
            return list(self._ctx.decode(None))
        finally:
            self._ctx.flush_buffers()  # leaves draining mode so the context takes packets again

    def flush(self) -> list[DecodedPicture]:
        if self._ctx is None:
            return []
        try:
            pictures = self._drain()
        except (av.error.FFmpegError, ValueError) as error:
            self._fail("flush failed", error)
            return []
        out = self._convert(pictures)
        self._pending.clear()
        return out

    def close(self) -> None:
        self._ctx = None  # PyAV frees the FFmpeg context when the object goes
        self._pending.clear()

    def _convert(self, pictures: list[av.VideoFrame]) -> list[DecodedPicture]:
        out: list[DecodedPicture] = []
        for picture in pictures:
            self.stats.frames_decoded += 1
            meta = self._pending.pop(picture.pts, None) if picture.pts is not None else None
            if meta is None:  # from before a resync: its block was already given up
                self.stats.frames_skipped += 1
                continue
            if picture.is_corrupt:
                self._fail("corrupt picture")
                continue
            if self._sampler is not None and not self._sampler.keep(meta.pts_ms):
                self.stats.frames_sampled_out += 1
                continue  # dropped before paying for colour conversion
            out.append(self._to_decoded(picture, meta))
        self.stats.frames_out += len(out)
        return out

    def _to_decoded(self, picture: av.VideoFrame, meta: _BlockMeta) -> DecodedPicture:
        width, height = output_size(self._options, picture.width, picture.height)
        # One libswscale pass does both the pixel format conversion and the resize; for packed formats
        # to_ndarray() then returns a view of the converted picture's buffer (no further copy).
        converted = self._scaler.reformat(picture, width, height, self._options.pixel_format,
                                          threads=_SCALER_THREADS)
        image = converted.to_ndarray()
        return meta.picture(image, self._options.pixel_format, width, height, self._track_number)


class PyAVBackend:
    """The default CPU backend."""

    name = "pyav"

    def __init__(self, options: Optional[DecodeOptions] = None) -> None:
        self.options = options or DecodeOptions()
        if self.options.pixel_format in GPU_PIXEL_FORMATS:
            raise ValueError(f"pixel_format {self.options.pixel_format!r} is for the nvdec backend; PyAV gives "
                             f"{', '.join(PIXEL_FORMATS)}")

    def open(self, track: TrackInfo, sampler: Optional[FpsSampler] = None) -> PyAVTrackDecoder:
        codec_spec(track)  # raises UnsupportedCodecError now rather than at the first frame
        return PyAVTrackDecoder(track, self.options, sampler)
