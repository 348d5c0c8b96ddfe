"""A small JPEG of a decoded picture, for the status page: encoded on request, never per frame."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .._extras import missing_extra

try:
    import av
    import numpy as np
except ImportError as error:
    raise missing_extra("decode", error) from error

# The formats a SourceFrame's image comes in: the CPU ones, then NVDEC's (NV12 (h*3/2, w), planar (3, h, w)).
PIXEL_FORMATS = ("bgr24", "rgb24", "gray", "yuv420p", "nv12", "rgbp", "bgrp")
_PLANAR = {"rgbp": "rgb24", "bgrp": "bgr24"}
QUANTIZER = "4"  # MJPEG qscale (2 best .. 31 worst): ~JPEG quality 85, a few kB at 320 wide


def thumbnail_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """At most `max_width` wide, the aspect ratio kept, both sides even (4:2:0 chroma) and at least 2."""
    if width <= 0 or height <= 0:
        raise ValueError(f"a picture of {width}x{height} has no pixels")
    if max_width < 2:
        raise ValueError(f"max_width must be at least 2, not {max_width}")
    scale = min(1.0, max_width / width)
    return max(2, int(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


def host_array(image: Any) -> Any:
    """`image` in host memory: a numpy array as it is, a GPU array (CuPy, PyTorch) copied over."""
    if isinstance(image, np.ndarray):
        return image
    if hasattr(image, "get") and hasattr(image, "__cuda_array_interface__"):  # CuPy
        return image.get()
    if hasattr(image, "cpu") and hasattr(image, "numpy"):  # PyTorch
        return image.cpu().numpy()
    return np.asarray(image)


def jpeg_thumbnail(image: Any, pixel_format: str, max_width: int = 320) -> bytes:
    """`image` (a SourceFrame's: (h, w, 3) bgr24/rgb24, (h, w) gray, (h*3/2, w) yuv420p or nv12, (3, h, w)
    rgbp/bgrp; numpy, or a GPU array that is copied to the host) as a baseline JPEG at most `max_width`
    wide. ValueError for another pixel format or an empty picture."""
    if pixel_format not in PIXEL_FORMATS:
        raise ValueError(f"cannot make a thumbnail of {pixel_format!r} pictures (only {', '.join(PIXEL_FORMATS)})")
    pixels = host_array(image)
    if pixel_format in _PLANAR:  # (3, h, w) planes as one interleaved (h, w, 3) picture
        pixels, pixel_format = np.ascontiguousarray(pixels.transpose(1, 2, 0)), _PLANAR[pixel_format]
    frame = av.VideoFrame.from_ndarray(pixels, format=pixel_format)
    width, height = thumbnail_size(frame.width, frame.height, max_width)
    small = frame.reformat(width=width, height=height, format="yuvj420p", interpolation="AREA")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    encoder.options = {"qmin": QUANTIZER, "qmax": QUANTIZER}
    packets = encoder.encode(small) + encoder.encode(None)
    return b"".join(bytes(packet) for packet in packets)
