"""Live Kinesis Video Streams GetMedia into frames: resume, throttling, exactly-once delivery, low latency.

>>> with GetMediaClient(region_name="us-west-2") as client, client.stream("cam") as stream:
...     for frame in stream.frames():
...         handle(frame)
"""

from __future__ import annotations

from .backoff import RetryPolicy
from .client import GetMediaClient
from .connection import ErrorFragment
from .counters import GetMediaCounters
from .errors import (
    GetMediaError,
    InvalidArgumentError,
    NotAuthorizedError,
    RetriesExhaustedError,
    StreamNotFoundError,
)
from .preflight import (
    ConfigurationError,
    InvalidEndpointError,
    MissingCredentialsError,
    NoRegionError,
    is_loopback,
    resolve_aws,
)
from .selector import StartSelector
from .stream import GetMediaStream, Reset

__all__ = [
    "ConfigurationError",
    "ErrorFragment",
    "GetMediaClient",
    "GetMediaCounters",
    "GetMediaError",
    "GetMediaStream",
    "InvalidArgumentError",
    "InvalidEndpointError",
    "MissingCredentialsError",
    "NoRegionError",
    "NotAuthorizedError",
    "Reset",
    "RetriesExhaustedError",
    "RetryPolicy",
    "StartSelector",
    "StreamNotFoundError",
    "is_loopback",
    "resolve_aws",
]
