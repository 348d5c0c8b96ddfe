"""Typed GetMedia errors, and which AWS error codes are fatal, retryable or a throttle."""

from __future__ import annotations

import http.client
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from urllib3.exceptions import HTTPError as Urllib3Error

from ..errors import KVSError


class GetMediaError(KVSError):
    """Base of the GetMedia client's errors; `code` is the AWS error code when there is one."""

    def __init__(self, message: str, *, code: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


class StreamNotFoundError(GetMediaError, LookupError):
    """ResourceNotFoundException: no such stream (or no such fragment for the selector)."""


class NotAuthorizedError(GetMediaError, PermissionError):
    """The credentials are missing, invalid or lack permission."""


class InvalidArgumentError(GetMediaError, ValueError):
    """The request itself is wrong (selector, stream name, ...)."""


class RetriesExhaustedError(GetMediaError, ConnectionError):
    """Every allowed attempt to (re)connect failed or made no progress; `__cause__` is the last failure."""


FATAL = {
    "ResourceNotFoundException": StreamNotFoundError,
    "NotAuthorizedException": NotAuthorizedError,
    "AccessDeniedException": NotAuthorizedError,
    "UnrecognizedClientException": NotAuthorizedError,
    "InvalidSignatureException": NotAuthorizedError,
    "ExpiredTokenException": NotAuthorizedError,
    "InvalidArgumentException": InvalidArgumentError,
    "InvalidEndpointException": InvalidArgumentError,
    "ValidationException": InvalidArgumentError,
}
THROTTLES = frozenset({"ClientLimitExceededException", "ConnectionLimitExceededException"})

# Failures of one connection that a resume can cure: the body was cut, reset or timed out.
CONNECTION_ERRORS = (OSError, http.client.HTTPException, Urllib3Error, BotoCoreError)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def fatal_error(error: BaseException) -> Optional[GetMediaError]:
    """The typed error to raise at once for `error`, or None when `error` is worth retrying."""
    if isinstance(error, NoCredentialsError):
        return NotAuthorizedError(str(error))
    if not isinstance(error, ClientError):
        return None
    kind = FATAL.get(error_code(error))
    if kind is None:
        return None
    request_id = str(error.response.get("ResponseMetadata", {}).get("RequestId", ""))
    return kind(str(error), code=error_code(error), request_id=request_id)


def is_throttle(error: BaseException) -> bool:
    return isinstance(error, ClientError) and error_code(error) in THROTTLES
