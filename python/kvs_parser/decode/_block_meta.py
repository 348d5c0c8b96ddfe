"""What a decoded picture inherits from the Matroska block it came from (shared by the backends)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ._model import EncodedFrame


@dataclass(frozen=True)
class BlockMeta:
    """A block's timestamps and flags; its data buffer is not kept, so pending pictures cost no copies."""

    pts_ms: int
    is_keyframe: bool
    producer_timestamp_ms: Optional[int]
    server_timestamp_ms: Optional[int]
    fragment_number: Optional[str]

    @classmethod
    def of(cls, frame: EncodedFrame) -> BlockMeta:
        return cls(
            frame.pts_ms,
            frame.is_keyframe,
            frame.producer_timestamp_ms,
            frame.server_timestamp_ms,
            frame.fragment_number,
        )
