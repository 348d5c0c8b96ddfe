"""A frame-index test pattern: the bits of the index as large black/white blocks, robust to lossy coding.

Bit i (LSB first) is block i in row-major order of a COLS x ROWS grid over the whole picture.
"""

from __future__ import annotations

from .._extras import missing_extra

try:
    import numpy as np
except ImportError as error:
    raise missing_extra("emulator", error) from error

COLS = 6
ROWS = 4
BITS = COLS * ROWS
Y_BLACK = 16  # video-range luma, so decoders map to RGB ~0 and ~255
Y_WHITE = 235


def draw_index_yuv420p(index: int, width: int, height: int) -> np.ndarray:
    """A yuv420p picture (as PyAV's from_ndarray wants it: (h*3/2, w) uint8) encoding `index`."""
    if not 0 <= index < (1 << BITS):
        raise ValueError(f"index {index} does not fit in {BITS} bits")
    if width % 2 or height % 2:
        raise ValueError("yuv420p needs even width and height")
    bits = np.array([(index >> i) & 1 for i in range(BITS)], dtype=np.uint8).reshape(ROWS, COLS)
    rows = np.minimum(np.arange(height) * ROWS // height, ROWS - 1)
    cols = np.minimum(np.arange(width) * COLS // width, COLS - 1)
    luma = np.where(bits[rows][:, cols] == 1, Y_WHITE, Y_BLACK).astype(np.uint8)
    chroma = np.full((height // 2, width), 128, dtype=np.uint8)  # U and V planes, each (h/2, w/2), packed
    return np.concatenate([luma, chroma])


def read_index(rgb: np.ndarray, tolerance: int = 80) -> int:
    """Reads the index back from a decoded (h, w, 3) rgb frame.

    Samples the middle half of each block; raises ValueError when a block is neither near black nor near
    white (within `tolerance` of 0 or 255), so a wrong or damaged picture is not silently misread.
    """
    gray = rgb.astype(np.float32).mean(axis=2) if rgb.ndim == 3 else rgb.astype(np.float32)
    height, width = gray.shape
    index = 0
    for bit in range(BITS):
        row, col = divmod(bit, COLS)
        top, bottom = row * height // ROWS, (row + 1) * height // ROWS
        left, right = col * width // COLS, (col + 1) * width // COLS
        dy, dx = (bottom - top) // 4, (right - left) // 4
        level = float(gray[top + dy : bottom - dy, left + dx : right - dx].mean())
        if level >= 255 - tolerance:
            index |= 1 << bit
        elif level > tolerance:
            raise ValueError(f"block {bit} is grey ({level:.0f}): not a test-pattern frame")
    return index
