"""A raw-video sample from the picture sink as the numpy array the PyAV backend gives.

The pipeline hands over I420 (``videoconvert`` makes it from a hardware decoder's NV12, and passes a software
decoder's I420 through untouched); the conversion to the configured pixel format and size is then the same
single libswscale pass the PyAV backend makes: the same pixels, and a third of ``videoconvert``'s CPU for
720p BGR. GStreamer's default layout pads each row to a multiple of four bytes; the planes are cut to the
picture.
"""

from __future__ import annotations

from typing import Any, Optional

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from ._model import DecodeOptions
from ._pyav_backend import output_size

# See _pyav_backend: one scaler thread, one kept scaler per track.
_SCALER_THREADS = 1


def _round4(value: int) -> int:
    return (value + 3) & ~3


def _plane(data: np.ndarray, offset: int, stride: int, rows: int, row_bytes: int) -> np.ndarray:
    end = offset + stride * rows
    if end > data.size:
        raise ValueError(f"a {data.size}-byte picture buffer is too small for its caps ({end} bytes needed)")
    return data[offset:end].reshape(rows, stride)[:, :row_bytes]


def i420_planes(sample: Any) -> tuple[np.ndarray, int, int]:
    """The sample's I420 picture as PyAV's yuv420p array, shape (h*3/2, w), and its width and height."""
    structure = sample.get_caps().get_structure(0)
    _, width = structure.get_int("width")
    _, height = structure.get_int("height")
    if width % 2 or height % 2:
        raise ValueError(f"I420 pictures of an odd size ({width}x{height}) are not handed out")
    buffer = sample.get_buffer()
    data = np.frombuffer(buffer.extract_dup(0, buffer.get_size()), np.uint8)
    chroma_w, chroma_h = width // 2, height // 2
    luma_stride, chroma_stride = _round4(width), _round4(chroma_w)
    u_offset = luma_stride * height
    v_offset = u_offset + chroma_stride * chroma_h
    if luma_stride == width and chroma_stride == chroma_w:
        image = _plane(data, 0, width, height * 3 // 2, width)  # unpadded: the buffer is the array already
    else:
        planes = (_plane(data, 0, luma_stride, height, width),
                  _plane(data, u_offset, chroma_stride, chroma_h, chroma_w),
                  _plane(data, v_offset, chroma_stride, chroma_h, chroma_w))
        image = np.concatenate([plane.ravel() for plane in planes]).reshape(height * 3 // 2, width)
    return image, width, height


class PictureConverter:
    """I420 samples to the configured pixel format and size, with one kept libswscale context."""

    def __init__(self, options: DecodeOptions) -> None:
        self._options = options
        self._scaler = VideoReformatter()
        self._frame: Optional[av.VideoFrame] = None  # kept: the scaler's input, refilled for each picture

    def _as_frame(self, image: np.ndarray, width: int, height: int) -> av.VideoFrame:
        """The I420 array in a kept PyAV frame, copied plane by plane with numpy (from_ndarray is ~20x slower)."""
        frame = self._frame
        if frame is None or (frame.width, frame.height) != (width, height):
            frame = self._frame = av.VideoFrame(width, height, "yuv420p")
        flat = image.reshape(-1)
        luma, chroma = width * height, (width // 2) * (height // 2)
        sources = (flat[:luma], flat[luma : luma + chroma], flat[luma + chroma :])
        for plane, source, plane_width in zip(frame.planes, sources, (width, width // 2, width // 2)):
            rows = source.size // plane_width
            target = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[:rows, :plane_width]
            target[:] = source.reshape(rows, plane_width)
        return frame

    def convert(self, sample: Any) -> tuple[np.ndarray, int, int]:
        """(image, width, height); ValueError if the sample's buffer does not hold the picture its caps say."""
        image, width, height = i420_planes(sample)
        out_w, out_h = output_size(self._options, width, height)
        if self._options.pixel_format == "yuv420p" and (out_w, out_h) == (width, height):
            return np.array(image), width, height  # a copy of its own: the sample's bytes are read-only
        frame = self._as_frame(image, width, height)
        converted = self._scaler.reformat(frame, out_w, out_h, self._options.pixel_format, threads=_SCALER_THREADS)
        return converted.to_ndarray(), out_w, out_h
