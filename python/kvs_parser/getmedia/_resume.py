"""Exactly-once bookkeeping: what has been delivered, what to skip after a resume, and where to resume.

Frames are identified by (fragment number, position in the fragment): KVS fragments are immutable, so a
fragment re-sent after a resume carries the same frames in the same order. A fragment counts as complete
once its CONTINUATION_TOKEN tag (sent after its Cluster) or its end has been seen.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from ._selector import StartSelector

FRAGMENT_NUMBER_TAG = "AWS_KINESISVIDEO_FRAGMENT_NUMBER"
CONTINUATION_TOKEN_TAG = "AWS_KINESISVIDEO_CONTINUATION_TOKEN"
SERVER_TIMESTAMP_TAG = "AWS_KINESISVIDEO_SERVER_TIMESTAMP"
MILLIS_BEHIND_NOW_TAG = "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"
REMEMBERED_FRAGMENTS = 1024  # complete fragments remembered, to drop them if a resume re-sends them


@dataclass
class ResumeState:
    token: Optional[str] = None  # continuation token after the newest complete fragment
    last_complete: Optional[str] = None  # that fragment's number
    partial: Optional[str] = None  # fragment whose first `partial_delivered` frames were delivered
    partial_delivered: int = 0
    partial_server_ms: Optional[int] = None
    skipped: int = 0  # frames dropped as already delivered
    # After a resume by timestamp (whole seconds through boto3), fragments that started before the partly
    # delivered one may come first: they were never wanted, and delivering them would break the order.
    floor_server_ms: Optional[int] = None
    _complete: OrderedDict[str, None] = field(default_factory=OrderedDict, repr=False)
    _ended: OrderedDict[str, None] = field(default_factory=OrderedDict, repr=False)  # ends handed out
    _conn_fragment: Optional[str] = None  # per connection: fragment of the frames being read...
    _conn_position: int = 0  # ...and how many of its frames have been read
    _conn_tagged: Optional[str] = None  # fragment named by the last FRAGMENT_NUMBER tag

    def new_connection(self) -> None:
        self._conn_fragment, self._conn_position, self._conn_tagged = None, 0, None

    def inside_fragment(self) -> bool:
        """True when this connection began a fragment (its number tag or frames) and never saw it complete."""
        current = self._conn_tagged or self._conn_fragment
        return current is not None and current not in self._complete

    def is_complete(self, fragment_number: Optional[str]) -> bool:
        return fragment_number is not None and fragment_number in self._complete

    def admit(self, frame: Any) -> bool:
        """True if `frame` is new and must be delivered; False if it was delivered before."""
        number = frame.fragment_number
        if number is None:
            return True  # not a KVS fragment: nothing to identify it by
        if number in self._complete or self.before_floor(frame.server_timestamp_ms):
            self.skipped += 1
            return False
        if number != self._conn_fragment:
            self._conn_fragment, self._conn_position = number, 0
        self._conn_position += 1
        if number == self.partial and self._conn_position <= self.partial_delivered:
            self.skipped += 1
            return False
        self.partial, self.partial_delivered = number, self._conn_position
        self.partial_server_ms = frame.server_timestamp_ms
        return True

    def before_floor(self, server_ms: Optional[int]) -> bool:
        return self.floor_server_ms is not None and server_ms is not None and server_ms < self.floor_server_ms

    def tags(self, tags: Iterable[Any]) -> Optional[str]:
        """Follows a Tags element; returns the fragment number it completes, if it completes one."""
        completed = None
        for tag in tags:
            if tag.name == FRAGMENT_NUMBER_TAG:
                self._conn_tagged = tag.value
            elif tag.name == SERVER_TIMESTAMP_TAG and self.before_floor(_millis(tag.value)):
                self._conn_tagged = None  # an unwanted fragment: its token must not move the resume point
            elif (tag.name == CONTINUATION_TOKEN_TAG and self._conn_tagged is not None
                  and self.complete(self._conn_tagged, tag.value)):
                completed = self._conn_tagged
        return completed

    def complete(self, fragment_number: str, token: Optional[str]) -> bool:
        """Records a complete fragment; False if it was already recorded."""
        if token:
            self.token = token
        if not _remember(self._complete, fragment_number):
            return False
        self.last_complete = fragment_number
        if self.partial == fragment_number:
            self.partial, self.partial_delivered = None, 0
        return True

    def first_end(self, fragment_number: str) -> bool:
        """True the first time the end of `fragment_number` is seen (a resume may re-send a fragment)."""
        return _remember(self._ended, fragment_number)

    def selector(self, initial: StartSelector) -> StartSelector:
        """Where the next GetMedia starts so that nothing is missed: after the last complete fragment
        (the partly delivered one is re-sent and its delivered frames skipped), else at the partly
        delivered fragment, else where the stream first started."""
        if self.token:
            return StartSelector.continuation(self.token)
        if self.last_complete:
            return StartSelector.after_fragment(self.last_complete)
        if self.partial_server_ms is not None:
            self.floor_server_ms = self.partial_server_ms
            return StartSelector.server_timestamp(self.partial_server_ms / 1000)
        return initial


def _remember(seen: OrderedDict[str, None], key: str) -> bool:
    """Adds `key` to a bounded insertion-ordered set; False if it was there."""
    if key in seen:
        return False
    seen[key] = None
    while len(seen) > REMEMBERED_FRAGMENTS:
        seen.popitem(last=False)
    return True


def _millis(seconds: str) -> Optional[int]:
    try:
        return round(float(seconds) * 1000)
    except ValueError:
        return None
