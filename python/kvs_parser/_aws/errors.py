"""Typed GetMedia errors, and the one classification of failures into fatal and transient classes.

GetMedia and the HLS source both ask `classify` what a failure is: a fatal one is raised at once as a
typed NonRetryableError; a transient one is retried with the one backoff policy and counted per class.
"""

from __future__ import annotations

import http.client
import socket
from typing import Dict, Type, Union

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

from ..errors import KVSError, NonRetryableError


class GetMediaError(KVSError):
    """Base of the GetMedia client's errors; `code` is the AWS error code when there is one."""

    def __init__(self, message: str, *, code: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


class StreamNotFoundError(GetMediaError, NonRetryableError, LookupError):
    """ResourceNotFoundException: no such stream (or no such fragment for the selector)."""


class NotAuthorizedError(GetMediaError, NonRetryableError, PermissionError):
    """The credentials are missing, invalid or lack permission."""


class InvalidArgumentError(GetMediaError, NonRetryableError, ValueError):
    """The request itself is wrong (selector, stream name, ...), or the service rejected it for good."""


class RetriesExhaustedError(GetMediaError, ConnectionError):
    """Every allowed attempt to (re)connect failed or made no progress; `__cause__` is the last failure."""


FatalKind = Type[Union[StreamNotFoundError, NotAuthorizedError, InvalidArgumentError]]
FATAL: Dict[str, FatalKind] = {
    "ResourceNotFoundException": StreamNotFoundError,
    "NotAuthorizedException": NotAuthorizedError,
    "AccessDeniedException": NotAuthorizedError,
    "UnrecognizedClientException": NotAuthorizedError,
    "InvalidSignatureException": NotAuthorizedError,
    "ExpiredTokenException": NotAuthorizedError,
    "MissingAuthenticationTokenException": NotAuthorizedError,
    "InvalidArgumentException": InvalidArgumentError,
    "ValidationException": InvalidArgumentError,
    "UnsupportedStreamMediaTypeException": InvalidArgumentError,
    "NoDataRetentionException": InvalidArgumentError,
    "InvalidCodecPrivateDataException": InvalidArgumentError,
    "MissingCodecPrivateDataException": InvalidArgumentError,
}

# Transient classes: the name each is counted and reported under.
THROTTLED = "throttled"  # per-stream TPS or connection limits, KMS throttling
SERVER_ERROR = "server error"  # 5xx: InternalFailure, ServiceUnavailable, ...
ENDPOINT_ERROR = "endpoint error"  # the data endpoint no longer serves the stream: resolve it again
CONNECT_FAILED = "connect failed"  # refused, reset or dropped before a response
TIMED_OUT = "timed out"  # no response headers (or no first byte) within read_timeout

THROTTLES = frozenset({
    "ClientLimitExceededException", "ConnectionLimitExceededException", "ThrottlingException",
    "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded", "KMSThrottlingException",
    "LimitExceededException", "SlowDown", "RequestThrottled", "RequestThrottledException",
})
SERVER_ERRORS = frozenset({
    "InternalFailure", "InternalServerError", "InternalServerException", "InternalError", "ServiceUnavailable",
    "ServiceUnavailableException", "ServiceFailure", "RequestTimeout", "RequestTimeoutException",
    "ResourceInUseException",  # a stream still being created or updated
})
ENDPOINT_ERRORS = frozenset({"InvalidEndpointException"})

# Failures of one connection that a resume can cure: the body was cut, reset or timed out.
CONNECTION_ERRORS = (OSError, http.client.HTTPException, Urllib3Error, BotoCoreError)
TIMEOUTS = (socket.timeout, ReadTimeoutError, ConnectTimeoutError, Urllib3ReadTimeout)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def classify(error: BaseException) -> Union[str, NonRetryableError, None]:
    """What `error` is: a transient class name (retry it), the typed fatal error to raise at once, or
    None for an error that is not a service or network failure at all (a bug: let it propagate)."""
    if isinstance(error, NonRetryableError):
        return error
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return NotAuthorizedError(str(error))
    if isinstance(error, (NoRegionError, ParamValidationError)):
        return InvalidArgumentError(str(error))
    if isinstance(error, ClientError):
        return _classify_client_error(error)
    if isinstance(error, TIMEOUTS):
        return TIMED_OUT
    if isinstance(error, CONNECTION_ERRORS):
        return CONNECT_FAILED
    return None


def _classify_client_error(error: ClientError) -> Union[str, NonRetryableError]:
    code, status = error_code(error), http_status(error)
    if code in THROTTLES or status == 429:
        return THROTTLED
    if code in ENDPOINT_ERRORS:
        return ENDPOINT_ERROR
    if code in SERVER_ERRORS or status >= 500:
        return SERVER_ERROR
    kind = FATAL.get(code, InvalidArgumentError)  # any other 4xx: the request will never succeed
    request_id = str(error.response.get("ResponseMetadata", {}).get("RequestId", ""))
    return kind(str(error), code=code, request_id=request_id)

