"""kinesis-video-archived-media GetHLSStreamingSessionURL and the playlists/segments behind the URL.

Paths follow KVS: /hls/v1/getHLSMasterPlaylist.m3u8, getHLSMediaPlaylist.m3u8, getTSFragment.ts,
getMP4InitFragment.mp4, getMP4MediaFragment.mp4, each with ?SessionToken=...
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, List, Tuple

from ._archive import select_fragments
from ._errors import AwsError
from ._fmp4 import with_decode_time
from ._hls_sessions import HlsSession
from ._remux import to_fmp4, to_ts, video_only
from ._state import ServiceState
from ._store import Fragment, Stream
from ._wire import BytesResponse, JsonResponse, Request

PREFIX = "/hls/v1/"


def get_hls_streaming_session_url(state: ServiceState, request: Request) -> JsonResponse:
    stream = state.get_stream(request.body)
    mode = request.body.get("PlaybackMode") or "LIVE"
    container = request.body.get("ContainerFormat") or "FRAGMENTED_MP4"
    if mode not in ("LIVE", "LIVE_REPLAY", "ON_DEMAND") or container not in ("FRAGMENTED_MP4", "MPEG_TS"):
        raise AwsError("InvalidArgumentException", "bad PlaybackMode or ContainerFormat")
    if not any(t.codec_id in ("V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC") for t in stream.tracks):
        raise AwsError("UnsupportedStreamMediaTypeException", "HLS needs H.264 or H.265 video")
    selector = request.body.get("HLSFragmentSelector") or {}
    max_results = int(request.body.get("MaxMediaPlaylistFragmentResults") or (5 if mode == "LIVE" else 1000))
    display = request.body.get("DisplayFragmentTimestamp") == "ALWAYS"
    token = state.hls.add(HlsSession(stream.name, mode, container, selector, max_results, display))
    return JsonResponse({"HLSStreamingSessionURL": f"{state.data_endpoint_url}{PREFIX}getHLSMasterPlaylist.m3u8"
                                                   f"?SessionToken={token}"})


def _session(state: ServiceState, request: Request) -> Tuple[HlsSession, Stream, str]:
    token = request.query.get("SessionToken", "")
    session = state.hls.get(token)
    return session, state.get_stream({"StreamName": session.stream}), token


def _playlist_fragments(session: HlsSession, stream: Stream) -> List[Fragment]:
    selector = session.selector
    if selector.get("TimestampRange"):
        bounds = dict(selector["TimestampRange"])
        bounds.setdefault("EndTimestamp", 1e12)
        fragments = select_fragments(
            stream, {"FragmentSelectorType": selector.get("FragmentSelectorType", "SERVER_TIMESTAMP"),
                     "TimestampRange": bounds})
    else:
        fragments = select_fragments(stream, {})
    if session.mode == "LIVE":
        return fragments[-session.max_results :]
    return fragments[: session.max_results]


def master_playlist(state: ServiceState, request: Request) -> BytesResponse:
    _, stream, token = _session(state, request)
    video = next(t for t in stream.tracks if t.width)
    text = (
        "#EXTM3U\n#EXT-X-VERSION:6\n"
        f"#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION={video.width}x{video.height}\n"
        f"getHLSMediaPlaylist.m3u8?SessionToken={token}\n"
    )
    return BytesResponse("application/vnd.apple.mpegurl", text.encode())


def media_playlist(state: ServiceState, request: Request) -> BytesResponse:
    session, stream, token = _session(state, request)
    fragments = _playlist_fragments(session, stream)
    target = max([math.ceil(f.duration_ms / 1000) for f in fragments] + [1])
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", f"#EXT-X-TARGETDURATION:{target}",
             f"#EXT-X-MEDIA-SEQUENCE:{fragments[0].seq if fragments else stream.head_seq}"]
    if session.mode == "ON_DEMAND":
        lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
    mp4 = session.container == "FRAGMENTED_MP4"
    if mp4 and fragments:
        lines.append(f'#EXT-X-MAP:URI="getMP4InitFragment.mp4?SessionToken={token}'
                     f'&FragmentNumber={fragments[0].number}"')
    for fragment in fragments:
        frames = fragment.frames
        frame_ms = frames[1].timecode - frames[0].timecode if len(frames) > 1 else 0
        if session.display_timestamps:
            date = datetime.fromtimestamp(session.fragment_time_ms(fragment) / 1000, timezone.utc)
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{date.isoformat(timespec='milliseconds')}")
        lines.append(f"#EXTINF:{(fragment.duration_ms + frame_ms) / 1000:.3f},")
        name = "getMP4MediaFragment.mp4" if mp4 else "getTSFragment.ts"
        lines.append(f"{name}?SessionToken={token}&FragmentNumber={fragment.number}")
    # LIVE_REPLAY keeps following the stream (as KVS does) unless its range has an end.
    bounded = session.mode == "LIVE_REPLAY" and "EndTimestamp" in (session.selector.get("TimestampRange") or {})
    if session.mode == "ON_DEMAND" or bounded or stream.closed:
        lines.append("#EXT-X-ENDLIST")
    return BytesResponse("application/vnd.apple.mpegurl", ("\n".join(lines) + "\n").encode())


def _segment(state: ServiceState, request: Request, kind: str) -> Any:
    session, stream, _ = _session(state, request)
    number = request.query.get("FragmentNumber", "")
    fragment = stream.find(int(number)) if number.isdigit() else None
    if fragment is None or not fragment.complete:
        raise AwsError("ResourceNotFoundException", f"no fragment {number}", 404)
    # fMP4 media time: the producer timestamp under PRODUCER_TIMESTAMP (as KVS does), else the stream's
    # own timecodes (as in TS); either way segments continue one another instead of each starting at 0.
    start_ms = fragment.producer_ms if session.producer_time else fragment.start_timecode
    key = (stream.name, fragment.number, kind, start_ms if kind == "mp4" else 0)
    with state.hls.lock:
        cached = state.hls.segments.get(key)
    if cached is None:
        writer = video_only(state.writer(stream))
        video = [f for f in fragment.frames if f.track == writer.tracks[0].number]
        mkv = writer.fragment(video)
        if kind == "ts":
            cached = to_ts(writer.tracks[0], mkv)
        else:
            init, media = to_fmp4(writer.tracks[0], mkv)
            cached = (init, with_decode_time(init, media, start_ms))
        with state.hls.lock:
            state.hls.segments[key] = cached
    return cached


def ts_fragment(state: ServiceState, request: Request) -> BytesResponse:
    return BytesResponse("video/mp2t", _segment(state, request, "ts"))


def mp4_init(state: ServiceState, request: Request) -> BytesResponse:
    return BytesResponse("video/mp4", _segment(state, request, "mp4")[0])


def mp4_media(state: ServiceState, request: Request) -> BytesResponse:
    return BytesResponse("video/mp4", _segment(state, request, "mp4")[1])
