"""Says what a stream waits for: each reconnect logged, so a command never retries in silence.

Failures (a refused connection, a throttle, a cut) are warnings, with the attempt and the bound; the live
edge (the service ended a response because nothing new arrived yet) and session renewals are info.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional

from .._aws.backoff import RetryPolicy
from .._redact import redact

log = logging.getLogger("kvs_parser.getmedia")

ResetCallback = Callable[[Any], Any]


def announce_resets(ref: Dict[str, str], retry: RetryPolicy, then: Optional[ResetCallback] = None) -> ResetCallback:
    """An on_reset callback that logs each reset, then calls `then` (the caller's own on_reset)."""
    name = next(iter(ref.values()))
    bound = "unbounded" if retry.max_attempts is None else f"of {retry.max_attempts}"

    def on_reset(reset: Any) -> None:
        if reset.reason == "end":
            log.info("stream %r: no new data yet; asking again in %.1f s", name, reset.delay)
        elif reset.reason == "renew":
            log.info("stream %r: renewing the GetMedia session", name)
        else:
            cause = "" if reset.error is None else f" ({type(reset.error).__name__}: {redact(str(reset.error))})"
            log.warning("stream %r: %s%s; retrying in %.2f s (attempt %d %s)", name, reset.reason, cause,
                        reset.delay, reset.attempt, bound)
        if then is not None:
            then(reset)

    return on_reset
