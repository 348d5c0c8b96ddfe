"""Turning the many ways a caller names a start point, decode options or retries into one form."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, Optional, Union

from ..decode import DecodeOptions
from ..getmedia import RetryPolicy, StartSelector

# The one StartSelector, or its command-line spelling ("NOW", "EARLIEST", "fragment:N", ...).
StartSpec = Union[StartSelector, str]


def as_start_selector(value: StartSpec) -> StartSelector:
    if isinstance(value, StartSelector):
        return value
    if isinstance(value, str):
        return StartSelector.parse(value)
    raise TypeError(f"not a start selector: {value!r}")


def merge_decode_options(
    options: Optional[DecodeOptions] = None,
    *,
    pixel_format: Optional[str] = None,
    width: Optional[int] = None,
    height: Optional[int] = None,
    fps_target: Optional[float] = None,
    keyframes_only: Optional[bool] = None,
    latency: Optional[str] = None,
    device: Optional[int] = None,
) -> DecodeOptions:
    """`options` (default DecodeOptions()) with every keyword that is not None applied on top."""
    given: Dict[str, Any] = {  # DecodeOptions validates the values
        "pixel_format": pixel_format, "width": width, "height": height, "fps_target": fps_target,
        "keyframes_only": keyframes_only, "latency": latency, "device": device,
    }
    return replace(options or DecodeOptions(), **{k: v for k, v in given.items() if v is not None})


def retry_policy(reconnect_delay_seconds: Optional[float], max_reconnect_attempts: Optional[int],
                 unbounded: bool = False) -> RetryPolicy:
    """cameras.yaml's reconnect settings as a RetryPolicy (``unbounded``: max_reconnect_attempts None)."""
    default = RetryPolicy()
    base = default.base_delay if reconnect_delay_seconds is None else reconnect_delay_seconds
    attempts = None if unbounded else (default.max_attempts if max_reconnect_attempts is None else
                                       max_reconnect_attempts)
    return RetryPolicy(max_attempts=attempts, base_delay=base, max_delay=max(default.max_delay, base))
