"""jpeg_thumbnail: every pixel format a SourceFrame comes in, decoded back with PyAV to check size and colour."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from kvs_parser.camera._thumbnail import jpeg_thumbnail, thumbnail_size


def decode(data: bytes) -> np.ndarray:
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"  # one whole JPEG
    with av.open(io.BytesIO(data), format="image2pipe", options={"vcodec": "mjpeg"}) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_bgr_and_rgb_keep_their_colours() -> None:
    image = np.zeros((720, 1280, 3), np.uint8)
    image[:, :640] = (255, 0, 0)  # left half: blue in bgr24, red in rgb24
    image[:, 640:] = (0, 200, 0)
    as_bgr = decode(jpeg_thumbnail(image, "bgr24"))
    assert as_bgr.shape == (180, 320, 3)
    assert np.allclose(as_bgr[90, 40], (0, 0, 255), atol=12) and np.allclose(as_bgr[90, 280], (0, 200, 0), atol=12)
    as_rgb = decode(jpeg_thumbnail(image, "rgb24", max_width=160))
    assert as_rgb.shape == (90, 160, 3) and np.allclose(as_rgb[45, 20], (255, 0, 0), atol=12)


def test_gray_and_yuv420p() -> None:
    gray = np.full((240, 320), 200, np.uint8)
    assert np.allclose(decode(jpeg_thumbnail(gray, "gray", 100))[30, 50], (200, 200, 200), atol=6)
    yuv = np.full((240 * 3 // 2, 320), 128, np.uint8)  # mid grey: Y 128, no chroma
    yuv[:240] = 81  # Y of pure red is 81, with U 90 and V 240 (BT.601 limited range)
    yuv[240:300] = 90  # U plane: 160x120 bytes = 60 rows of the packed 320-wide array
    yuv[300:] = 240
    picture = decode(jpeg_thumbnail(yuv, "yuv420p"))
    assert picture.shape == (240, 320, 3)
    red, green, blue = picture[120, 160].astype(int)
    assert red > 200 and green < 50 and blue < 50


def test_nvdec_formats_nv12_and_planar() -> None:
    nv12 = np.full((240 * 3 // 2, 320), 128, np.uint8)
    nv12[:240] = 81
    nv12[240:, 0::2] = 90  # interleaved U, V of pure red
    nv12[240:, 1::2] = 240
    red, green, blue = decode(jpeg_thumbnail(nv12, "nv12"))[120, 160].astype(int)
    assert red > 200 and green < 50 and blue < 50
    planes = np.zeros((3, 180, 320), np.uint8)
    planes[0] = 255  # the first plane: red in rgbp, blue in bgrp
    assert np.allclose(decode(jpeg_thumbnail(planes, "rgbp"))[90, 160], (255, 0, 0), atol=12)
    assert np.allclose(decode(jpeg_thumbnail(planes, "bgrp", 160))[45, 80], (0, 0, 255), atol=12)


def test_small_pictures_are_not_enlarged_and_sizes_stay_even() -> None:
    assert decode(jpeg_thumbnail(np.zeros((64, 96, 3), np.uint8), "bgr24", 320)).shape == (64, 96, 3)
    assert thumbnail_size(1920, 1080, 320) == (320, 180)
    assert thumbnail_size(641, 479, 320) == (320, 238)
    assert thumbnail_size(3, 3, 320) == (2, 2)


def test_bad_inputs_are_value_errors() -> None:
    with pytest.raises(ValueError, match="yuv422p"):
        jpeg_thumbnail(np.zeros((4, 4), np.uint8), "yuv422p")
    with pytest.raises(ValueError, match="max_width"):
        jpeg_thumbnail(np.zeros((4, 4, 3), np.uint8), "bgr24", max_width=1)
