"""kinesis-video-archived-media: ListFragments and GetMediaForFragmentList."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List

from ._body import Piece
from ._errors import AwsError
from ._media import fragment_pieces
from ._state import ServiceState
from ._store import Fragment, Stream
from ._wire import JsonResponse, Request, StreamResponse


def fragment_json(fragment: Fragment) -> Dict[str, Any]:
    return {
        "FragmentNumber": str(fragment.number),
        "FragmentSizeInBytes": fragment.size_bytes,
        "ProducerTimestamp": fragment.producer_ms / 1000,
        "ServerTimestamp": fragment.server_ms / 1000,
        "FragmentLengthInMilliseconds": fragment.duration_ms,
    }


def select_fragments(stream: Stream, selector: Dict[str, Any]) -> List[Fragment]:
    """Complete fragments, filtered by a FragmentSelector (start timestamps within the range, inclusive)."""
    fragments = [f for f in stream.snapshot() if f.complete]
    if not selector:
        return fragments
    kind = selector.get("FragmentSelectorType")
    if kind not in ("SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"):
        raise AwsError("InvalidArgumentException", f"bad FragmentSelectorType {kind!r}")
    bounds = selector.get("TimestampRange") or {}
    if bounds.get("StartTimestamp") is None or bounds.get("EndTimestamp") is None:
        raise AwsError("InvalidArgumentException", "TimestampRange needs StartTimestamp and EndTimestamp")
    low, high = round(float(bounds["StartTimestamp"]) * 1000), round(float(bounds["EndTimestamp"]) * 1000)
    if low > high:
        raise AwsError("InvalidArgumentException", "StartTimestamp is after EndTimestamp")
    key: Callable[[Fragment], int] = (
        (lambda f: f.server_ms) if kind == "SERVER_TIMESTAMP" else (lambda f: f.producer_ms)
    )
    return [f for f in fragments if low <= key(f) <= high]


def list_fragments(state: ServiceState, request: Request) -> JsonResponse:
    stream = state.get_stream(request.body)
    fragments = select_fragments(stream, request.body.get("FragmentSelector") or {})
    start = int(request.body.get("NextToken") or 0)
    limit = int(request.body.get("MaxResults") or 1000)
    if not 1 <= limit <= 1000:
        raise AwsError("InvalidArgumentException", "MaxResults must be 1..1000")
    body: Dict[str, Any] = {"Fragments": [fragment_json(f) for f in fragments[start : start + limit]]}
    if start + limit < len(fragments):
        body["NextToken"] = str(start + limit)
    return JsonResponse(body)


def get_media_for_fragment_list(state: ServiceState, request: Request) -> StreamResponse:
    stream = state.get_stream(request.body)
    numbers = request.body.get("Fragments")
    if not isinstance(numbers, list) or not 1 <= len(numbers) <= 1000:
        raise AwsError("InvalidArgumentException", "Fragments must list 1..1000 fragment numbers")
    fragments = []
    for number in numbers:
        found = stream.find(int(number)) if str(number).isdigit() else None
        if found is None or not found.complete:
            raise AwsError("ResourceNotFoundException", f"no complete fragment {number} in {stream.name}")
        fragments.append(found)
    return StreamResponse("video/webm", _pieces(state, stream, fragments, request))


def _pieces(state: ServiceState, stream: Stream, fragments: List[Fragment], request: Request) -> Iterator[Piece]:
    writer = state.writer(stream)
    fault = request.fault
    for count, fragment in enumerate(fragments):
        if fault and fault.error_fragment_after is not None and count >= fault.error_fragment_after:
            yield Piece(writer.error_fragment(fault.error_fragment_code, exception_spelling=True))
            return
        yield from fragment_pieces(writer, stream, fragment, side_spelling=True, trailing=False,
                                   keep_going=lambda: not state.stopping.is_set())
