"""GetHLSStreamingSessionURL for a stream: GetDataEndpoint, then kinesis-video-archived-media."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict

from .._aws.endpoint import EndpointResolver
from ..getmedia import StartSelector

API_NAME = "GET_HLS_STREAMING_SESSION_URL"


def playback_request(selector: StartSelector, ref: Dict[str, str], resolver: EndpointResolver,
                     container_format: str) -> Dict[str, Any]:
    """GetHLSStreamingSessionURL arguments for where the caller wants to start.

    NOW plays LIVE; EARLIEST and the timestamp selectors replay (LIVE_REPLAY) from the stream's creation
    or the given time and then keep following. Producer timestamps select the fragments, and KVS then uses
    them as the fMP4 media timestamps, which gives each frame its producer time.
    """
    fragment_selector: Dict[str, Any] = {"FragmentSelectorType": "PRODUCER_TIMESTAMP"}
    if selector.kind == "NOW":
        mode = "LIVE"
    elif selector.kind in ("EARLIEST", "PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP"):
        mode = "LIVE_REPLAY"
        if selector.kind == "EARLIEST":
            created = resolver.control().describe_stream(**ref)["StreamInfo"]["CreationTime"]
            # Nothing predates the stream; the margin absorbs rounding of the timestamps on the wire.
            start = created - timedelta(seconds=1)
        else:
            start = datetime.fromtimestamp(selector.timestamp or 0, timezone.utc)
            fragment_selector["FragmentSelectorType"] = selector.kind
        fragment_selector["TimestampRange"] = {"StartTimestamp": start}
    else:
        raise ValueError(f"HLS playback cannot start at {selector.kind} (use NOW, EARLIEST or a timestamp)")
    return dict(ref, PlaybackMode=mode, HLSFragmentSelector=fragment_selector, ContainerFormat=container_format,
                DisplayFragmentTimestamp="ALWAYS")


def session_url(resolver: EndpointResolver, ref: Dict[str, str], request: Dict[str, Any]) -> str:
    endpoint = resolver.control().get_data_endpoint(APIName=API_NAME, **ref)["DataEndpoint"]
    archive = resolver.session.client("kinesis-video-archived-media", endpoint_url=endpoint,
                                      region_name=resolver.region_name, config=resolver.config)
    try:
        return str(archive.get_hls_streaming_session_url(**request)["HLSStreamingSessionURL"])
    finally:
        archive.close()
