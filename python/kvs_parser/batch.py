"""Many cameras, one model: the newest frame of each camera as one N x C x H x W array.

Frame sources (or decoders) ``put`` pictures into ``LatestFrames`` as they come; an inference loop calls
``newest_batch`` at its own pace and gets the newest picture of each camera stacked into one array of the
pictures' own library (a CUDA tensor for the nvdec backend, numpy for PyAV). A camera whose newest picture
was replaced before any batch took it counts as ``superseded``: the loop was slower than that camera.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Protocol, Sequence, Tuple

from .decode import ArrayModule
from .errors import KVSError

# Channel-first layouts are stacked as they are; channel-last ones are viewed as C x H x W first.
_CHANNELS_FIRST = frozenset({"rgbp", "bgrp"})
_CHANNELS_LAST = frozenset({"rgb24", "bgr24"})
BATCHABLE_FORMATS = ("rgbp", "bgrp", "rgb24", "bgr24", "gray")


class Picture(Protocol):
    """What a batch needs of a frame (``DecodedPicture`` and ``SourceFrame`` both have it)."""

    @property
    def image(self) -> Any: ...
    @property
    def pixel_format(self) -> str: ...
    @property
    def pts_ms(self) -> int: ...


class PictureSource(Protocol):
    """A frame source's non-blocking read (``FrameSource.read(timeout=0)``)."""

    camera_id: str

    def read(self, timeout: Optional[float] = ...) -> Any: ...


class BatchShapeError(KVSError, ValueError):
    """The pictures cannot be stacked: a format that is not C x H x W, or sizes that differ."""


@dataclass(frozen=True)
class FrameBatch:
    """``tensor[i]`` is the newest picture of ``camera_ids[i]`` (``frames[i]`` has its timestamps);
    ``missing`` are the cameras asked for that had no (new) picture. ``tensor`` is None when all are."""

    tensor: Any
    camera_ids: Tuple[str, ...]
    frames: Tuple[Any, ...]
    missing: Tuple[str, ...]

    def __len__(self) -> int:
        return len(self.camera_ids)


@dataclass(frozen=True)
class LatestStats:
    """Counts since creation: ``put == taken + superseded + waiting``."""

    put: int
    taken: int
    superseded: int
    waiting: int


def as_chw(arrays: ArrayModule, picture: Picture) -> Any:
    """The picture's image as C x H x W (a view where the library allows)."""
    pixel_format = picture.pixel_format
    if pixel_format in _CHANNELS_FIRST:
        return picture.image
    if pixel_format in _CHANNELS_LAST or pixel_format == "gray":
        return arrays.to_chw(picture.image)
    raise BatchShapeError(f"pixel format {pixel_format!r} is not a C x H x W picture; batch one of "
                          f"{', '.join(BATCHABLE_FORMATS)}")


def stack_pictures(arrays: ArrayModule, camera_ids: Sequence[str], pictures: Sequence[Picture]) -> Any:
    """One N x C x H x W array; BatchShapeError names the cameras whose shapes differ."""
    planes = [as_chw(arrays, picture) for picture in pictures]
    shapes = [tuple(plane.shape) for plane in planes]
    if len(set(shapes)) > 1:
        by_shape: Dict[Tuple[int, ...], List[str]] = {}
        for camera_id, shape in zip(camera_ids, shapes):
            by_shape.setdefault(shape, []).append(camera_id)
        detail = "; ".join(f"{'x'.join(map(str, shape))}: {', '.join(ids)}" for shape, ids in by_shape.items())
        raise BatchShapeError(f"pictures of different shapes cannot be stacked ({detail}); decode them to one "
                              f"size or batch each size apart")
    return arrays.stack(planes)


class LatestFrames:
    """The newest picture of each camera: a one-slot, newest-wins queue per camera, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: Dict[str, Tuple[Any, bool]] = {}  # camera -> (picture, already taken)
        self._put = self._taken = self._superseded = 0

    def put(self, camera_id: str, picture: Picture) -> None:
        with self._lock:
            previous = self._slots.get(camera_id)
            if previous is not None and not previous[1]:
                self._superseded += 1
            self._slots[camera_id] = (picture, False)
            self._put += 1

    def put_from(self, source: PictureSource) -> int:
        """Move every picture a frame source has queued now (reading never waits); returns how many."""
        from .source import FrameTimeout, SourceEnded  # imported late: batching needs no boto3

        moved = 0
        while True:
            try:
                picture = source.read(timeout=0)
            except (FrameTimeout, SourceEnded):
                return moved
            self.put(source.camera_id, picture)
            moved += 1

    def cameras(self) -> List[str]:
        with self._lock:
            return sorted(self._slots)

    def newest_batch(self, arrays: ArrayModule, camera_ids: Optional[Iterable[str]] = None, *,
                     only_new: bool = True) -> FrameBatch:
        """The newest picture of each camera in ``camera_ids`` (default: every camera seen) stacked as
        N x C x H x W. ``only_new`` leaves out cameras whose newest picture an earlier batch already took."""
        wanted = list(camera_ids) if camera_ids is not None else self.cameras()
        chosen: List[str] = []
        pictures: List[Any] = []
        missing: List[str] = []
        with self._lock:  # held while stacking, so a failed stack leaves every slot as it was
            for camera_id in wanted:
                slot = self._slots.get(camera_id)
                if slot is None or (only_new and slot[1]):
                    missing.append(camera_id)
                    continue
                chosen.append(camera_id)
                pictures.append(slot[0])
            tensor = stack_pictures(arrays, chosen, pictures) if pictures else None
            for camera_id, picture in zip(chosen, pictures):
                if not self._slots[camera_id][1]:
                    self._taken += 1
                    self._slots[camera_id] = (picture, True)
        return FrameBatch(tensor, tuple(chosen), tuple(pictures), tuple(missing))

    @property
    def stats(self) -> LatestStats:
        with self._lock:
            waiting = sum(1 for _, taken in self._slots.values() if not taken)
            return LatestStats(self._put, self._taken, self._superseded, waiting)
