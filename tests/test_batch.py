"""Newest frame of each camera as one N x C x H x W array, with numpy standing in for the device library
(the same ArrayModule calls run on CuPy/PyTorch arrays on a GPU: tests/test_nvdec_gpu.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, List

import numpy as np
import pytest

from kvs_parser.batch import BatchShapeError, LatestFrames, stack_pictures
from kvs_parser.decode import DecodedPicture, NumpyArrays, array_module

ARRAYS = NumpyArrays()


@dataclass(frozen=True)
class Picture:
    image: Any
    pixel_format: str
    pts_ms: int


def rgbp(value: int, h: int = 4, w: int = 6) -> Picture:
    image = np.stack([np.full((h, w), value + c, np.uint8) for c in range(3)])
    return Picture(image, "rgbp", value)


def test_newest_frame_of_each_camera_stacked_nchw() -> None:
    latest = LatestFrames()
    latest.put("a", rgbp(10))
    latest.put("b", rgbp(20))
    latest.put("a", rgbp(30))  # replaces a's first picture before any batch took it
    batch = latest.newest_batch(ARRAYS, ["a", "b", "c"])
    assert batch.tensor.shape == (2, 3, 4, 6)
    assert batch.camera_ids == ("a", "b") and batch.missing == ("c",)
    assert [f.pts_ms for f in batch.frames] == [30, 20]
    assert batch.tensor[0, :, 0, 0].tolist() == [30, 31, 32] and batch.tensor[1, 2, 3, 5] == 22
    assert latest.stats.put == 3 and latest.stats.superseded == 1 and latest.stats.taken == 2


def test_only_new_frames_unless_asked_for_repeats() -> None:
    latest = LatestFrames()
    latest.put("a", rgbp(1))
    latest.put("b", rgbp(2))
    assert len(latest.newest_batch(ARRAYS)) == 2
    again = latest.newest_batch(ARRAYS)
    assert again.tensor is None and again.missing == ("a", "b")
    latest.put("b", rgbp(3))
    assert latest.newest_batch(ARRAYS).camera_ids == ("b",)
    repeated = latest.newest_batch(ARRAYS, only_new=False)
    assert repeated.camera_ids == ("a", "b") and [f.pts_ms for f in repeated.frames] == [1, 3]
    stats = latest.stats
    assert stats.put == stats.taken + stats.superseded + stats.waiting == 3


def test_channel_last_and_gray_pictures_become_chw() -> None:
    rgb = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    gray = np.arange(24, dtype=np.uint8).reshape(4, 6)
    out = stack_pictures(ARRAYS, ["x", "y"], [Picture(rgb, "rgb24", 0), Picture(rgb[..., ::-1], "bgr24", 0)])
    assert out.shape == (2, 3, 4, 6)
    assert np.array_equal(out[0], rgb.transpose(2, 0, 1)) and np.array_equal(out[1, 0], rgb[..., 2])
    assert stack_pictures(ARRAYS, ["g"], [Picture(gray, "gray", 0)]).shape == (1, 1, 4, 6)


def test_different_sizes_name_the_cameras_and_leave_the_slots_untaken() -> None:
    latest = LatestFrames()
    latest.put("small", rgbp(1, 4, 6))
    latest.put("big", rgbp(2, 8, 12))
    with pytest.raises(BatchShapeError, match=r"3x8x12: big; 3x4x6: small"):
        latest.newest_batch(ARRAYS)
    assert latest.stats.taken == 0
    assert latest.newest_batch(ARRAYS, ["big"]).tensor.shape == (1, 3, 8, 12)


def test_formats_that_are_not_chw_are_refused() -> None:
    with pytest.raises(BatchShapeError, match="nv12"):
        stack_pictures(ARRAYS, ["a"], [Picture(np.zeros((6, 6), np.uint8), "nv12", 0)])


def test_many_writers_one_batching_reader() -> None:
    latest = LatestFrames()
    cameras = [f"cam{i}" for i in range(16)]

    def camera(name: str) -> None:
        for n in range(200):
            latest.put(name, rgbp(n % 200))

    threads = [threading.Thread(target=camera, args=(c,)) for c in cameras]
    for t in threads:
        t.start()
    batches = 0
    while any(t.is_alive() for t in threads) and batches < 10_000:
        latest.newest_batch(ARRAYS, cameras)
        batches += 1
    for t in threads:
        t.join(10)
    last = latest.newest_batch(ARRAYS, cameras, only_new=False)
    assert last.tensor.shape == (16, 3, 4, 6)
    assert all(f.pts_ms == 199 for f in last.frames)
    stats = latest.stats
    assert stats.put == 16 * 200 == stats.taken + stats.superseded + stats.waiting


def test_put_from_takes_what_a_frame_source_has_queued() -> None:
    pytest.importorskip("boto3", reason="frame sources need boto3 (not carried to the GPU machine)")
    from kvs_parser.source import FrameSource

    class ListSource(FrameSource):
        """A frame source whose reader thread emits given pictures (the real FrameSource queue and reads)."""

        def __init__(self, camera_id: str, pictures: List[DecodedPicture]) -> None:
            super().__init__(camera_id, queue_max_size=100)
            self._pictures = pictures

        def _produce(self) -> None:
            for picture in self._pictures:
                self._emit(picture, None)

    pictures = [DecodedPicture(rgbp(n).image, "rgbp", 6, 4, 1, n * 66, n == 0) for n in range(5)]
    source = ListSource("door", pictures)
    latest = LatestFrames()
    with source:
        source._thread.join(10)  # type: ignore[union-attr]
        assert latest.put_from(source) == 5
    batch = latest.newest_batch(ARRAYS)
    assert batch.camera_ids == ("door",) and batch.frames[0].pts_ms == 4 * 66
    assert latest.stats.superseded == 4


def test_unknown_array_module_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="cupy"):
        array_module("tensorflow")
