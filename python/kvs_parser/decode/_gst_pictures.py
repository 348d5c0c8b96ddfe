"""A raw-video sample from the picture sink as the numpy array PyAV's backend gives for the same format.

GStreamer's default layout pads each row to a multiple of four bytes; the array keeps only the picture
(rgb24/bgr24 (h, w, 3), gray (h, w), yuv420p the I420 planes stacked as (h*3/2, w)), in a buffer of its own
that the caller may write to.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _round4(value: int) -> int:
    return (value + 3) & ~3


def _plane(data: np.ndarray, offset: int, stride: int, rows: int, row_bytes: int) -> np.ndarray:
    end = offset + stride * rows
    if end > data.size:
        raise ValueError(f"a {data.size}-byte picture buffer is too small for its caps ({end} bytes needed)")
    return data[offset:end].reshape(rows, stride)[:, :row_bytes]


def to_array(sample: Any, pixel_format: str) -> tuple[np.ndarray, int, int]:
    """(image, width, height) of ``sample``; ValueError if its buffer does not hold the picture its caps say."""
    structure = sample.get_caps().get_structure(0)
    _, width = structure.get_int("width")
    _, height = structure.get_int("height")
    buffer = sample.get_buffer()
    data = np.frombuffer(buffer.extract_dup(0, buffer.get_size()), np.uint8)
    image: np.ndarray
    if pixel_format in ("rgb24", "bgr24"):
        image = _plane(data, 0, _round4(width * 3), height, width * 3).reshape(height, width, 3)
    elif pixel_format == "gray":
        image = _plane(data, 0, _round4(width), height, width)
    elif pixel_format == "yuv420p":
        chroma_w, chroma_h = (width + 1) // 2, (height + 1) // 2
        luma_stride, chroma_stride = _round4(width), _round4(chroma_w)
        u_offset = luma_stride * ((height + 1) & ~1)
        v_offset = u_offset + chroma_stride * chroma_h
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p output needs an even size, not {width}x{height}")
        planes = (_plane(data, 0, luma_stride, height, width),
                  _plane(data, u_offset, chroma_stride, chroma_h, chroma_w),
                  _plane(data, v_offset, chroma_stride, chroma_h, chroma_w))
        image = np.concatenate([plane.ravel() for plane in planes]).reshape(height * 3 // 2, width)
        return image, width, height
    else:
        raise ValueError(f"pixel_format {pixel_format!r} is not given by the gstreamer backend")
    return np.array(image), width, height  # a copy of its own: the sample's bytes are read-only
