"""GetMedia StartSelector values, built by name rather than as raw dictionaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Union

Timestamp = Union[datetime, float, int]  # a datetime, or seconds since the epoch


def _seconds(value: Timestamp) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(value)


@dataclass(frozen=True)
class StartSelector:
    """Where GetMedia starts. Use the constructors: `StartSelector.now()`, `.earliest()`, ..."""

    kind: str
    fragment_number: Optional[str] = None
    timestamp: Optional[float] = None  # seconds since the epoch
    continuation_token: Optional[str] = None

    @classmethod
    def now(cls) -> StartSelector:
        return cls("NOW")

    @classmethod
    def earliest(cls) -> StartSelector:
        return cls("EARLIEST")

    @classmethod
    def after_fragment(cls, fragment_number: str) -> StartSelector:
        return cls("FRAGMENT_NUMBER", fragment_number=str(fragment_number))

    @classmethod
    def server_timestamp(cls, at: Timestamp) -> StartSelector:
        return cls("SERVER_TIMESTAMP", timestamp=_seconds(at))

    @classmethod
    def producer_timestamp(cls, at: Timestamp) -> StartSelector:
        return cls("PRODUCER_TIMESTAMP", timestamp=_seconds(at))

    @classmethod
    def continuation(cls, token: str) -> StartSelector:
        return cls("CONTINUATION_TOKEN", continuation_token=token)

    @classmethod
    def parse(cls, text: str) -> StartSelector:
        """A selector from the command line: `now`, `earliest`, `fragment:NUMBER`, `token:TOKEN`,
        `producer:TIME`, `server:TIME` or a bare server TIME (epoch seconds or ISO 8601; no zone means
        UTC). Case-insensitive names; raises ValueError for anything else."""
        text = text.strip()
        head, _, rest = text.partition(":")
        prefixed = head.lower() in ("fragment", "token", "producer", "server")
        if prefixed:
            text = f"{head.lower()}:{rest}"
        kind, _, value = text.partition(":") if prefixed else ("", "", text)
        if not kind and text.lower() in ("now", "earliest"):
            return cls(text.upper())
        if kind == "fragment":
            return cls.after_fragment(value)
        if kind == "token":
            return cls.continuation(value)
        at: Timestamp
        try:
            at = float(value)
        except ValueError:
            try:
                at = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"start {text!r}: expected now, earliest, fragment:NUMBER, token:TOKEN, "
                                 "producer:TIME or server:TIME (TIME: epoch seconds or ISO 8601)") from None
        return cls.producer_timestamp(at) if kind == "producer" else cls.server_timestamp(at)

    def to_api(self) -> Dict[str, Any]:
        """The StartSelector parameter of kinesis-video-media GetMedia."""
        selector: Dict[str, Any] = {"StartSelectorType": self.kind}
        if self.fragment_number is not None:
            selector["AfterFragmentNumber"] = self.fragment_number
        if self.timestamp is not None:
            selector["StartTimestamp"] = datetime.fromtimestamp(self.timestamp, timezone.utc)
        if self.continuation_token is not None:
            selector["ContinuationToken"] = self.continuation_token
        return selector
