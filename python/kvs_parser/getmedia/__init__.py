"""Live Kinesis Video Streams GetMedia into frames: resume, throttling, exactly-once delivery, low latency.

>>> with GetMediaClient(region_name="us-west-2") as client, client.stream("cam") as stream:
...     for frame in stream.frames():
...         handle(frame)
"""

from __future__ import annotations

from .._aws.backoff import RetryPolicy
from .._aws.errors import (
    GetMediaError,
    InvalidArgumentError,
    NotAuthorizedError,
    RetriesExhaustedError,
    StreamNotFoundError,
)
from .._aws.preflight import (
    ConfigurationError,
    InvalidEndpointError,
    MissingCredentialsError,
    NoRegionError,
    is_loopback,
    resolve_aws,
)
from ._client import GetMediaClient
from ._connection import ErrorFragment
from ._counters import GetMediaCounters
from ._selector import StartSelector
from ._stream import GetMediaStream, Reset

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
