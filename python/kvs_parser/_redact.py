"""Secrets out of messages: presigned URLs (HLS session URLs) carry a SessionToken and SigV4 query fields.

`redact` scrubs text; `scrubbed` gives an exception safe to raise or log, its whole chain scrubbed too.
Raise it outside the `except` block that caught the original: raised inside, Python links the original
back in as its __context__.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional

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


def _texts(error: BaseException) -> List[str]:
    """Everything of `error` that a log line or a traceback may print."""
    texts = [str(error), repr(error), *(repr(arg) for arg in error.args)]
    texts += [str(note) for note in getattr(error, "__notes__", None) or ()]
    texts += [repr(value) for value in getattr(error, "__dict__", {}).values()]
    return texts


def holds_secret(error: BaseException) -> bool:
    """True if the str, repr, args, notes or attributes of `error` (not its causes) hold a secret."""
    return any(redact(text) != text for text in _texts(error))


def scrubbed(error: Optional[BaseException], _seen: Optional[Dict[int, Optional[BaseException]]] = None,
             ) -> Optional[BaseException]:
    """`error` safe to raise or log, with its whole chain (every __cause__ and __context__, suppressed or
    not): an exception holding a secret is replaced by a RedactedError copy with the redacted text (its
    args are redacted in place first, which keeps its type when that is what prints it), and each link is
    pointed at the scrubbed version of what it held. Cycles and chains over 64 long are cut."""
    if error is None:
        return None
    seen: Dict[int, Optional[BaseException]] = {} if _seen is None else _seen
    if id(error) in seen or len(seen) >= 64:
        return seen.get(id(error))
    seen[id(error)] = None  # a link back to an error being scrubbed is cut
    cause = scrubbed(error.__cause__, seen)
    context = scrubbed(error.__context__, seen)
    clean = error
    if holds_secret(error):
        error.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in error.args)
        if holds_secret(error):
            clean = RedactedError(type(error).__name__, redact(str(error))).with_traceback(error.__traceback__)
    suppress = error.__suppress_context__
    clean.__cause__, clean.__context__ = cause, context
    clean.__suppress_context__ = suppress  # setting __cause__ set it
    seen[id(error)] = clean
    return clean


def scrubbed_error(error: BaseException) -> BaseException:
    """`scrubbed` for an error that is there: the error to raise in its place."""
    clean = scrubbed(error)
    return error if clean is None else clean
