"""Typed errors. Each also inherits the built-in it refines, so `except ValueError` keeps working."""

from __future__ import annotations

from typing import Any, Callable, Optional

from . import _kvsparser


class KVSError(Exception):
    """Base of every error this package raises."""


class NonRetryableError(KVSError):
    """Base of the errors a retry can never cure (no such stream, not authorized, invalid argument, bad
    configuration): raised at once, never retried. Every retry loop re-raises these untouched."""


class ParseError(KVSError, ValueError):
    """Malformed input: where it is (`offset`, absolute in the stream) and in which element."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        offset: Optional[int] = None,
        element_path: str = "",
    ) -> None:
        self.message = message
        self.code = code
        self.offset = offset
        self.element_path = element_path
        self.errors: list[ParseError] = [self]
        where = f" at byte {offset}" if offset is not None else ""
        inside = f" in {element_path}" if element_path else ""
        super().__init__(f"{code}{where}{inside}: {message}")

    def __reduce__(self) -> tuple[Callable[..., ParseError], tuple[Any, ...]]:
        # keep the keyword fields through pickling (e.g. across processes)
        return (_rebuild, (type(self), self.message, self.code, self.offset, self.element_path))


class TruncatedStreamError(ParseError):
    """The stream ended inside an element; everything complete before the cut was delivered."""


class LimitExceededError(ParseError):
    """An element, frame, nesting depth or metadata total over the parser's configured limits."""


class ParserClosedError(KVSError, RuntimeError):
    """parse() after close()."""


def _rebuild(cls: type[ParseError], message: str, code: str, offset: Optional[int], element_path: str) -> ParseError:
    return cls(message, code=code, offset=offset, element_path=element_path)


# The native parser raises these classes: hand them to it (the binding imports no Python module).
_kvsparser._register_errors(
    parse_error=ParseError,
    truncated=TruncatedStreamError,
    limit_exceeded=LimitExceededError,
    closed=ParserClosedError,
)
