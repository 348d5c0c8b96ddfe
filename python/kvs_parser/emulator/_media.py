"""kinesis-video-media GetMedia: StartSelector resolution and the live-following fragment stream."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterator, Optional

from ..mkv import FragmentWriter, end_tags, start_tags
from . import _hostile as hostile
from ._body import Piece
from ._errors import AwsError
from ._faults import Fault
from ._state import ServiceState
from ._store import Fragment, Stream, now_ms
from ._wire import Request, StreamResponse

POLL = 0.1  # seconds between checks of shutdown and session lifetime while waiting for media


def _fragment_number(value: Any, field: str) -> int:
    if not isinstance(value, str) or not value.isdigit():
        raise AwsError("InvalidArgumentException", f"{field} must be a fragment number string")
    return int(value)


def resolve_start(stream: Stream, selector: Dict[str, Any]) -> int:
    """Stream position of the first fragment to send."""
    kind = selector.get("StartSelectorType")
    fragments = stream.snapshot()
    if kind == "EARLIEST":
        return fragments[0].seq if fragments else stream.head_seq
    if kind == "NOW":
        # The newest fragment (the one being produced on a live stream), else whatever comes next.
        return fragments[-1].seq if fragments else stream.head_seq
    if kind in ("FRAGMENT_NUMBER", "CONTINUATION_TOKEN"):
        field = "AfterFragmentNumber" if kind == "FRAGMENT_NUMBER" else "ContinuationToken"
        found = stream.find(_fragment_number(selector.get(field), field))
        if found is None:
            raise AwsError("ResourceNotFoundException", f"no fragment {selector.get(field)} in {stream.name}")
        # Both point at the last fragment the caller has; KVS resumes with the one after it.
        return found.seq + 1
    if kind in ("SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"):
        if selector.get("StartTimestamp") is None:
            raise AwsError("InvalidArgumentException", "StartTimestamp is required")
        at = round(float(selector["StartTimestamp"]) * 1000)
        start: Callable[[Fragment], int] = (
            (lambda f: f.server_ms) if kind == "SERVER_TIMESTAMP" else (lambda f: f.producer_ms)
        )
        for fragment in fragments:  # the fragment containing the timestamp...
            if start(fragment) <= at < start(fragment) + max(fragment.duration_ms, 1):
                return fragment.seq
        for fragment in fragments:  # ...else the first one after it
            if start(fragment) >= at:
                return fragment.seq
        return stream.head_seq
    raise AwsError("InvalidArgumentException", f"bad StartSelectorType {kind!r}")


def fragment_pieces(
    writer: FragmentWriter, stream: Stream, fragment: Fragment, *, side_spelling: bool, trailing: bool,
    keep_going: Any, fault: Optional[Fault] = None,
) -> Iterator[Piece]:
    """One fragment as pieces: header, one piece per frame as it is produced, trailing tags.

    A fragment complete at the start goes out with a known Cluster size (as archived reads do); one still
    being produced uses an unknown-size Cluster and follows the producer frame by frame.
    """
    tags = start_tags(fragment.info, side_spelling=side_spelling)
    timecode = fragment.start_timecode
    frames, complete = stream.wait_frames(fragment, 0, 0)
    if complete:
        blocks = [writer.block(f, timecode) for f in frames]
        yield Piece(hostile.spoil(writer.prefix(tags, timecode, sum(len(b) for b in blocks)), fault, tags))
        for block in blocks:
            yield Piece(block, frame=True)
    else:
        yield Piece(hostile.spoil(writer.prefix(tags, timecode), fault, tags))
        sent = 0
        while True:
            for frame in frames:
                yield Piece(writer.block(frame, timecode), frame=True)
            sent += len(frames)
            if complete or not keep_going():
                break
            frames, complete = stream.wait_frames(fragment, sent, POLL)
    if trailing and complete:
        behind = max(0, now_ms() - fragment.end_server_ms)
        trailing_tags = end_tags(behind, str(fragment.number))
        suffix = writer.suffix((*hostile.user_tags(fault), *trailing_tags))
        yield Piece(hostile.spoil(suffix, fault, tuple(trailing_tags)))


def get_media(state: ServiceState, request: Request) -> StreamResponse:
    stream = state.get_stream(request.body)
    selector = request.body.get("StartSelector")
    if not isinstance(selector, dict):
        raise AwsError("InvalidArgumentException", "StartSelector is required")
    seq = resolve_start(stream, selector)
    state.limit_tracker.acquire(stream.name)
    deadline = time.monotonic() + state.limits.session_lifetime

    def keep_going() -> bool:
        return not state.stopping.is_set() and time.monotonic() < deadline and not stream.deleted

    return StreamResponse(
        "video/webm",
        _follow(state, stream, seq, keep_going, request),
        on_close=lambda: state.limit_tracker.release(stream.name),
    )


def _follow(state: ServiceState, stream: Stream, seq: int, keep_going: Any, request: Request) -> Iterator[Piece]:
    writer = state.writer(stream)
    fault = request.fault
    sent_fragments = 0
    idle_end = state.limits.getmedia_idle_end
    idle_since = time.monotonic()
    while keep_going():
        if fault and fault.end_after_fragments is not None and sent_fragments >= fault.end_after_fragments:
            return
        if fault and fault.error_fragment_after is not None and sent_fragments >= fault.error_fragment_after:
            state.faults.note("error fragment")
            yield Piece(writer.error_fragment(fault.error_fragment_code))
            return
        fragment = stream.wait_fragment(seq, POLL)
        if fragment is None:
            if stream.closed and seq >= stream.head_seq:
                return  # a finished stream (file, or a camera with max_frames) has nothing more
            seq = max(seq, stream.dropped)  # the reader fell behind retention: skip to the oldest kept
            if idle_end is not None and time.monotonic() - idle_since >= idle_end:
                return  # KVS ends a response when the stream has had no new data for a while
            continue
        yield from fragment_pieces(writer, stream, fragment, side_spelling=False, trailing=True,
                                   keep_going=keep_going, fault=fault)
        if not fragment.complete and not stream.closed:
            return  # stopped mid-fragment (session lifetime or shutdown)
        seq += 1
        sent_fragments += 1
        idle_since = time.monotonic()
