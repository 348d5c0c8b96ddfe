"""SimpleBlock and BlockGroup encoding, with every lacing mode (Matroska spec, "Block structure")."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Optional, Sequence, Tuple, Union

from ._ebml import element, encode_signed_vint, encode_vint, int_element, master, uint_element
from ._ids import Id


class Lacing(Enum):
    """Lacing mode; the value is the two flag bits it sets in the block header."""

    NONE = 0x00
    XIPH = 0x02
    FIXED = 0x04
    EBML = 0x06


FLAG_KEYFRAME = 0x80  # SimpleBlock only
FLAG_INVISIBLE = 0x08
FLAG_DISCARDABLE = 0x01  # SimpleBlock only


@dataclass(frozen=True)
class Block:
    """One block to write. `timecode` is absolute, in TimecodeScale units; several `data` laces one block."""

    track: int
    timecode: int
    data: Union[bytes, Tuple[bytes, ...]]
    keyframe: bool = True
    invisible: bool = False
    discardable: bool = False
    lacing: Lacing = Lacing.NONE
    duration: Optional[int] = None  # forces a BlockGroup with BlockDuration
    references: Tuple[int, ...] = field(default_factory=tuple)  # relative timecodes; forces a BlockGroup

    @property
    def laces(self) -> Tuple[bytes, ...]:
        return (self.data,) if isinstance(self.data, (bytes, bytearray, memoryview)) else tuple(self.data)

    @property
    def size(self) -> int:
        return sum(len(d) for d in self.laces)


def _xiph_size(size: int) -> bytes:
    return b"\xff" * (size // 255) + bytes([size % 255])


def lace_header(lacing: Lacing, laces: Sequence[bytes]) -> bytes:
    """Lace count byte plus the sizes of all laces but the last (none for fixed-size lacing)."""
    if lacing is Lacing.NONE:
        if len(laces) != 1:
            raise ValueError("several frames in one block need a lacing mode")
        return b""
    if not 1 <= len(laces) <= 256:
        raise ValueError("a laced block holds 1..256 frames")
    head = bytes([len(laces) - 1])
    sizes = [len(d) for d in laces]
    if lacing is Lacing.XIPH:
        return head + b"".join(_xiph_size(s) for s in sizes[:-1])
    if lacing is Lacing.FIXED:
        if len(set(sizes)) != 1:
            raise ValueError("fixed-size lacing needs frames of equal size")
        return head
    if len(laces) == 1:
        return head
    # EBML lacing: first size as a vint, the others as signed differences from the previous size.
    out = [encode_vint(sizes[0])]
    out += [encode_signed_vint(b - a) for a, b in zip(sizes[:-2], sizes[1:-1])]
    return head + b"".join(out)


def block_payload(frame: Block, cluster_timecode: int, *, simple: bool) -> bytes:
    relative = frame.timecode - cluster_timecode
    if not -32768 <= relative <= 32767:
        raise ValueError(f"block timecode {frame.timecode} too far from cluster timecode {cluster_timecode}")
    flags = frame.lacing.value
    if frame.invisible:
        flags |= FLAG_INVISIBLE
    if simple:
        flags |= FLAG_KEYFRAME if frame.keyframe else 0
        flags |= FLAG_DISCARDABLE if frame.discardable else 0
    laces = frame.laces
    header = encode_vint(frame.track) + relative.to_bytes(2, "big", signed=True) + bytes([flags])
    return header + lace_header(frame.lacing, laces) + b"".join(laces)


def simple_block(frame: Block, cluster_timecode: int) -> bytes:
    return element(Id.SIMPLE_BLOCK, block_payload(frame, cluster_timecode, simple=True))


def block_group(frame: Block, cluster_timecode: int) -> bytes:
    """BlockGroup; a non-keyframe without explicit references points at the previous frame (-1 tick)."""
    children = [element(Id.BLOCK, block_payload(frame, cluster_timecode, simple=False))]
    if frame.duration is not None:
        children.append(uint_element(Id.BLOCK_DURATION, frame.duration))
    references = frame.references or (() if frame.keyframe else (-1,))
    children += [int_element(Id.REFERENCE_BLOCK, r) for r in references]
    return master(Id.BLOCK_GROUP, children)


def encode_block(frame: Block, cluster_timecode: int, *, block_groups: bool = False) -> bytes:
    """SimpleBlock unless BlockGroup is asked for or needed (duration, explicit references)."""
    if block_groups or frame.duration is not None or frame.references:
        return block_group(frame, cluster_timecode)
    return simple_block(frame, cluster_timecode)
