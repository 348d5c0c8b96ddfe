"""Still images from decoded frames with PyAV's own encoders (mjpeg, png): no imaging dependency."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Union, cast

from .._extras import missing_extra

try:
    import av
    import numpy as np
except ImportError as error:
    raise missing_extra("decode", error) from error

IMAGE_FORMATS = ("jpg", "png")

# ndarray layout -> PyAV frame format
_LAYOUTS = {"rgb24": "rgb24", "bgr24": "bgr24", "gray": "gray"}


def encode_image(image: np.ndarray, fmt: str = "jpg", pixel_format: str = "rgb24") -> bytes:
    """`image` (rgb24, bgr24 or gray ndarray) as JPEG or PNG bytes."""
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format must be one of {IMAGE_FORMATS}, not {fmt!r}")
    if pixel_format not in _LAYOUTS:
        raise ValueError(f"cannot write {pixel_format} pictures as images (use rgb24, bgr24 or gray)")
    picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=_LAYOUTS[pixel_format])
    if fmt == "jpg":
        codec, target = "mjpeg", "yuvj420p"  # full-range YUV, what JPEG viewers expect
    else:
        codec, target = "png", "gray" if pixel_format == "gray" else "rgb24"
    # create() is typed by codec name; "mjpeg" and "png" are video encoders.
    encoder = cast("av.VideoCodecContext", av.CodecContext.create(codec, "w"))
    encoder.width, encoder.height = picture.width, picture.height
    encoder.pix_fmt = target
    encoder.time_base = Fraction(1, 25)
    packets = encoder.encode(picture.reformat(format=target)) + encoder.encode(None)
    return b"".join(bytes(p) for p in packets)


def write_image(image: np.ndarray, path: Union[str, Path], pixel_format: str = "rgb24",
                *, overwrite: bool = True) -> Path:
    """Writes JPEG or PNG, chosen by the file's suffix (.jpg/.jpeg or .png). With ``overwrite=False`` an
    existing file is left alone: FileExistsError."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    fmt = "jpg" if suffix == "jpeg" else suffix
    data = encode_image(image, fmt, pixel_format)
    with open(path, "wb" if overwrite else "xb") as file:
        file.write(data)
    return path


def free_path(directory: Path, stem: str, suffix: str, limit: int = 100_000) -> Path:
    """directory/stem.suffix, or the first stem-N.suffix (N = 1, 2...) no file has: frames that share a
    timestamp (a producer's equal timecodes) each get their own file, and an earlier run's are kept."""
    for number in range(limit):
        path = directory / (f"{stem}.{suffix}" if number == 0 else f"{stem}-{number}.{suffix}")
        if not path.exists():
            return path
    raise FileExistsError(f"{directory}/{stem}-*.{suffix}: {limit} files of that name already exist")
