"""What a decoded picture inherits from the Matroska block it came from (shared by the backends)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ._model import DecodedPicture, EncodedFrame


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

    def picture(self, image: Any, pixel_format: str, width: int, height: int, track_number: int,
                device: str = "cpu") -> DecodedPicture:
        """The picture decoded from this block (one place for what every backend hands out)."""
        return DecodedPicture(
            image=image, pixel_format=pixel_format, width=width, height=height, track_number=track_number,
            pts_ms=self.pts_ms, is_keyframe=self.is_keyframe, producer_timestamp_ms=self.producer_timestamp_ms,
            server_timestamp_ms=self.server_timestamp_ms, fragment_number=self.fragment_number, device=device,
        )
