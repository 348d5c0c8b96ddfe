"""kinesisvideo control plane: GetDataEndpoint, DescribeStream, ListStreams, CreateStream, DeleteStream."""

from __future__ import annotations

from typing import Any, Dict

from ._errors import AwsError
from ._state import ServiceState
from ._store import Stream
from ._wire import JsonResponse, Request

API_NAMES = frozenset(
    {"PUT_MEDIA", "GET_MEDIA", "LIST_FRAGMENTS", "GET_MEDIA_FOR_FRAGMENT_LIST",
     "GET_HLS_STREAMING_SESSION_URL", "GET_DASH_STREAMING_SESSION_URL", "GET_CLIP", "GET_IMAGES"}
)


def stream_info(stream: Stream) -> Dict[str, Any]:
    return {
        "DeviceName": "kvs-parser-emulator",
        "StreamName": stream.name,
        "StreamARN": stream.arn,
        "MediaType": stream.media_type,
        "Version": "1",
        "Status": "ACTIVE",
        "CreationTime": stream.creation_time,
        "DataRetentionInHours": 24,
    }


def get_data_endpoint(state: ServiceState, request: Request) -> JsonResponse:
    if request.body.get("APIName") not in API_NAMES:
        raise AwsError("InvalidArgumentException", f"bad APIName {request.body.get('APIName')!r}")
    state.limit_tracker.admit_endpoint_call(state.get_stream(request.body).name)
    return JsonResponse({"DataEndpoint": state.data_endpoint_url})


def describe_stream(state: ServiceState, request: Request) -> JsonResponse:
    return JsonResponse({"StreamInfo": stream_info(state.get_stream(request.body))})


def list_streams(state: ServiceState, request: Request) -> JsonResponse:
    condition = request.body.get("StreamNameCondition") or {}
    prefix = condition.get("ComparisonValue", "")
    streams = sorted((s for s in state.streams() if s.name.startswith(prefix)), key=lambda s: s.name)
    start = int(request.body.get("NextToken") or 0)
    limit = int(request.body.get("MaxResults") or 10000)
    page = streams[start : start + limit]
    body: Dict[str, Any] = {"StreamInfoList": [stream_info(s) for s in page]}
    if start + limit < len(streams):
        body["NextToken"] = str(start + limit)
    return JsonResponse(body)


def create_stream(state: ServiceState, request: Request) -> JsonResponse:
    name = request.body.get("StreamName")
    if not name:
        raise AwsError("InvalidArgumentException", "StreamName is required")
    stream = state.add_empty_stream(name, media_type=request.body.get("MediaType") or "video/h264")
    return JsonResponse({"StreamARN": stream.arn})


def delete_stream(state: ServiceState, request: Request) -> JsonResponse:
    state.remove_stream(state.get_stream(request.body).name)
    return JsonResponse({})
