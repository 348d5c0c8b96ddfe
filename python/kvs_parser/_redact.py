"""Secrets out of messages: presigned URLs (HLS session URLs) carry a SessionToken and SigV4 query fields.

`redact` scrubs text; `scrubbed` gives an exception safe to raise or log, keeping its cause chain.
"""

from __future__ import annotations

import re
from typing import Optional

from .errors import KVSError

REDACTED = "REDACTED"
# Query fields of presigned URLs and KVS session URLs whose values grant access.
_SECRET_FIELDS = re.compile(
    r"(?i)\b(SessionToken|X-Amz-Security-Token|X-Amz-Signature|X-Amz-Credential|Signature|"
    r"AWSAccessKeyId|aws_session_token|aws_secret_access_key)=([^&\s'\"<>)]+)"
)


# The password of a URL's user information (redis://user:PASSWORD@host, rediss://:PASSWORD@host).
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@")


def redact(text: str) -> str:
    """`text` with the value of every secret URL query field, and every URL's password, replaced by REDACTED."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    return _SECRET_FIELDS.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


class RedactedError(KVSError):
    """Stands in for an error whose message held a secret: `original_type` names it, the text is redacted."""

    def __init__(self, original_type: str, message: str) -> None:
        super().__init__(f"{original_type}: {message}")
        self.original_type = original_type


def scrubbed(error: Optional[BaseException], depth: int = 0) -> Optional[BaseException]:
    """`error` itself when nothing in it or its causes holds a secret; else a RedactedError copy (the
    causes scrubbed the same way), so the chain stays readable and safe to log."""
    if error is None or depth > 16:
        return None
    cause = error.__cause__ if error.__cause__ is not None else (
        None if error.__suppress_context__ else error.__context__)
    clean_cause = scrubbed(cause, depth + 1)
    text = str(error)
    clean_text = redact(text)
    if clean_text == text and clean_cause is cause:
        return error
    copy = RedactedError(type(error).__name__, clean_text)
    copy.__cause__ = clean_cause
    return copy
