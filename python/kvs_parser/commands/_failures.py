"""What a command prints when it fails: one line naming what failed and what to do, and its exit code.

Exit 2: usage or configuration (a wrong argument, file, region, credentials, stream name): running again
unchanged cannot succeed. Exit 1: a runtime failure (the network, the service, the data). The traceback
is printed only with --debug.
"""

from __future__ import annotations

from typing import Tuple, Type

from ..errors import ParseError
from ..getmedia import (
    ConfigurationError,
    InvalidArgumentError,
    NotAuthorizedError,
    RetriesExhaustedError,
    StreamNotFoundError,
)

USAGE = 2
RUNTIME = 1


class UsageError(Exception):
    """A command-line mistake found after parsing (e.g. an option value no type check could catch)."""


try:  # the [app] extra (pydantic): without it no cameras.yaml error can have been raised
    from ..config import ConfigError
except ImportError:
    ConfigError = UsageError  # type: ignore[misc,assignment]


# (error type, exit code, what to do), first match wins.
_HINTS: Tuple[Tuple[Type[BaseException], int, str], ...] = (
    (UsageError, USAGE, "see --help"),
    (ConfigError, USAGE, ""),  # names the file, camera and field
    (ConfigurationError, USAGE, ""),  # its message already names the fix
    (StreamNotFoundError, USAGE, "check the stream name and the region (aws kinesisvideo list-streams)"),
    (NotAuthorizedError, USAGE, "check the AWS credentials and that they allow kinesisvideo:GetDataEndpoint "
                                "and GetMedia on this stream"),
    (InvalidArgumentError, USAGE, "check the arguments (stream name, --start)"),
    (FileNotFoundError, USAGE, "check the path"),
    (IsADirectoryError, USAGE, "give a file, not a directory"),
    (NotADirectoryError, USAGE, "check the path"),
    (PermissionError, USAGE, "check the file's permissions"),
    (RetriesExhaustedError, RUNTIME, "check the network and --endpoint-url/--region; the stream may be "
                                     "unreachable or throttled"),
    (ParseError, RUNTIME, "the input is not a complete KVS/Matroska stream"),
    (ConnectionError, RUNTIME, "check the network and the endpoint"),
)


def describe(error: BaseException) -> Tuple[str, int]:
    """The one-line message (without the command's name) and the exit code for `error`."""
    code, hint = next(((code, hint) for kind, code, hint in _HINTS if isinstance(error, kind)),
                      (RUNTIME, "run again with --debug for the traceback"))
    what = _what(error)
    return (f"{what}; {hint}" if hint else what), code


def _what(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.strerror or type(error).__name__}: {error.filename}"
    if isinstance(error, ConfigError):
        return str(error)  # the file on the first line, then one line per problem
    text = str(error) or type(error).__name__
    cause = error.__cause__
    if isinstance(error, RetriesExhaustedError) and cause is not None:
        text = f"{text}; last error: {type(cause).__name__}: {cause}"
    name = type(error).__name__
    return text if isinstance(error, (UsageError, ConfigurationError)) else f"{name}: {text}"
