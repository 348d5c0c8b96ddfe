"""Faults seen through the frame sources (emulator -> real boto3 / FFmpeg over 127.0.0.1 -> PyAV): 5xx
retried and counted in the metrics, the cause chain of a give-up kept, stop() while the server hangs
before its headers, secrets redacted, and hostile tags as typed parse errors."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, List

import boto3
import pytest
from prometheus_client import CollectorRegistry

from kvs_parser import KVSStreamParser, ParseError
from kvs_parser._redact import redact
from kvs_parser.emulator import Emulator, Fault, SyntheticCamera, hevc_available, read_index
from kvs_parser.emulator._hostile import spoil, user_tags
from kvs_parser.getmedia import RetriesExhaustedError, RetryPolicy, StartSelector
from kvs_parser.metrics import KVSMetrics
from kvs_parser.mkv import Block, FragmentWriter, TrackSpec, end_tags
from kvs_parser.source import KVSGetMediaFrameSource, KVSHLSFrameSource

pytestmark = pytest.mark.timeout(90)
FPS = 20


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")


def no_reader_threads() -> bool:
    return not any(t.name.startswith(("kvs-source-", "kvs-getmedia")) for t in threading.enumerate())


def chain(error: BaseException) -> List[BaseException]:
    seen: List[BaseException] = []
    current: Any = error
    while current is not None and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def test_5xx_on_getmedia_is_retried_and_counted_in_the_source_metrics(emu: Emulator) -> None:
    emu.add_live_stream("cam", SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5, max_frames=30))
    emu.inject(Fault(error="InternalFailure"), stream="cam")
    emu.inject(Fault(error="ServiceUnavailable"), stream="cam")
    registry = CollectorRegistry()
    src = KVSGetMediaFrameSource("cam", "cam", session=session(), endpoint_url=emu.endpoint_url,
                                 start_selector="EARLIEST", follow=False, pixel_format="rgb24",
                                 metrics=KVSMetrics(registry))
    with src:
        frames = list(src)
    assert [read_index(f.image) for f in frames] == list(range(30))
    metrics = src.get_metrics()
    assert metrics.error is None and metrics.connection_resets == 2
    assert registry.get_sample_value("kvs_getmedia_connection_resets_total", {"camera": "cam"}) == 2


def test_read_raises_the_give_up_with_its_cause() -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: every connection is refused
    src = KVSGetMediaFrameSource("dead", "dead", session=session(), endpoint_url=f"http://127.0.0.1:{port}",
                                 retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02))
    with src, pytest.raises(RetriesExhaustedError) as caught:
        src.read(timeout=20)
    assert caught.value.__cause__ is not None and "connect" in str(caught.value.__cause__).lower()
    assert src.get_metrics().connection_resets == 2 and no_reader_threads()


def test_stop_while_the_server_hangs_before_headers(emu: Emulator) -> None:
    emu.add_live_stream("hang", SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5))
    emu.inject(Fault(hang_seconds=60), stream="hang")
    src = KVSGetMediaFrameSource("hang", "hang", session=session(), endpoint_url=emu.endpoint_url).start()
    time.sleep(1.0)  # GetMedia is out, waiting for headers that never come
    started = time.monotonic()
    src.stop()
    assert time.monotonic() - started < 2
    assert not src.running and no_reader_threads() and src.error is None


def test_hls_session_token_is_redacted_from_the_error_chain(emu: Emulator) -> None:
    emu.add_live_stream("hls", SyntheticCamera(width=96, height=64, fps=FPS, fragment_duration=0.5))
    emu.inject(Fault(error="AccessDeniedException", status=403), operation="GetHLSMasterPlaylist", times=None)
    src = KVSHLSFrameSource("hls", "hls", session=session(), endpoint_url=emu.endpoint_url,
                            retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02))
    with src, pytest.raises(RetriesExhaustedError) as caught:
        src.read(timeout=30)
    tokens = list(emu.hls.sessions)
    assert tokens, "no session was handed out: the test proves nothing"
    texts = [str(error) for error in chain(caught.value)] + [src.get_metrics().error or ""]
    assert len(texts) >= 3 and any("SessionToken=REDACTED" in text for text in texts)
    assert not any(token in text for token in tokens for text in texts)


def test_redact_scrubs_presigned_query_fields() -> None:
    url = ("https://x.kinesisvideo.us-west-2.amazonaws.com/hls/v1/getHLSMasterPlaylist.m3u8?"
           "SessionToken=CiAbC-secret_123&X-Amz-Signature=abcdef&X-Amz-Credential=AKIA%2Fx&Other=1")
    clean = redact(f"HTTP 403 for '{url}'")
    assert "secret" not in clean and "abcdef" not in clean and "AKIA" not in clean and "Other=1" in clean


# -- the parser itself: hostile tags are typed errors, the stream goes on --
def _writer(track_name: str = "") -> FragmentWriter:
    from kvs_parser.mkv import CODEC_IDS, TRACK_TYPE_VIDEO
    track = TrackSpec(number=1, uid=1, codec_id=CODEC_IDS["h264"], track_type=TRACK_TYPE_VIDEO,
                      codec_private=b"\x01\x64\x00\x1f\xff\xe0\x00", width=64, height=48, name=track_name)
    return FragmentWriter([track], known_cluster_size=True)


THREE_FRAMES = [Block(1, i * 50, b"\x00\x00\x00\x02\x65\x88", keyframe=i == 0) for i in range(3)]


def _fragment(tags: Any, trailing: Any, fault: Fault) -> bytes:
    data = _writer().fragment(THREE_FRAMES, tags, (*user_tags(fault), *trailing))
    return spoil(data, fault, tuple(trailing))


@dataclass
class Parsed:
    frames: List[Any] = field(default_factory=list)
    errors: List[ParseError] = field(default_factory=list)
    tags: List[Any] = field(default_factory=list)
    tracks: List[Any] = field(default_factory=list)


def _parse(data: bytes) -> Parsed:
    """Everything the parser reports for `data`, each callback collected."""
    out = Parsed()
    parser = KVSStreamParser(on_frame=out.frames.append, on_error=out.errors.append, on_tags=out.tags.extend,
                             on_tracks=out.tracks.extend)
    parser.parse(data)
    parser.close()
    return out


def test_parser_reports_non_utf8_tags_as_parse_errors_and_keeps_the_rest() -> None:
    fault = Fault(non_utf8_tags=True, extra_tags=4100)
    trailing = tuple(end_tags(5, "12345"))
    data = _fragment((("AWS_KINESISVIDEO_FRAGMENT_NUMBER", "12345"),), trailing, fault) * 2
    parsed = _parse(data)
    frames, errors, tags = parsed.frames, parsed.errors, parsed.tags
    assert len(frames) == 6 and all(f.fragment_number == "12345" for f in frames)
    assert all(isinstance(e, ParseError) for e in errors)
    utf8 = [e for e in errors if "UTF-8" in str(e)]
    limit = [e for e in errors if "user tags" in str(e)]
    # Per fragment: 2 bad tags, and the user tags over 4096 (4100 + 1 kept-name bad-value tag - 4096).
    assert len(utf8) == 4 and len(limit) == 2 * (4100 + 2 - 2 - 4096) and len(errors) == len(utf8) + len(limit)
    names = [t.name for t in tags]
    assert names.count("AWS_KINESISVIDEO_CONTINUATION_TOKEN") == 2  # never subject to the user-tag limit
    assert all(isinstance(t.name, str) for t in tags)


@pytest.mark.skipif(not hevc_available(), reason="this FFmpeg has no libx265 encoder for the synthetic camera")
def test_hevc_stream_joined_at_a_keyframe_whose_first_nal_is_256_to_511_bytes(emu: Emulator) -> None:
    """The emulator's own HEVC camera: at 160x120, fragment 6's keyframe starts with a 310-byte NAL
    (length prefix 00 00 01 36). A reader that joins there must still apply the hvcC record."""
    camera = SyntheticCamera(width=160, height=120, fps=FPS, fragment_duration=0.5, codec="hevc", max_frames=80)
    stream = emu.add_live_stream("h265", camera)
    assert stream.wait_closed(30)
    first_nal = bytes(camera.fragment(6).packets[0][:4])
    assert first_nal[:3] == b"\x00\x00\x01", first_nal.hex()  # the case this test is about
    fifth = stream.snapshot()[5]
    src = KVSGetMediaFrameSource("h265", "h265", session=session(), endpoint_url=emu.endpoint_url,
                                 start_selector=StartSelector.after_fragment(str(fifth.number)), follow=False,
                                 pixel_format="rgb24")
    with src:
        frames = list(src)
    assert [read_index(f.image) for f in frames] == list(range(60, 80))
    assert src.get_metrics().decode_errors == 0


def test_track_text_that_is_not_utf8_is_replaced_and_reported_and_the_track_kept() -> None:
    data = _writer(track_name="cam-NAME").fragment(THREE_FRAMES, (), ())
    assert data.count(b"cam-NAME") == 1
    parsed = _parse(data.replace(b"cam-NAME", b"cam-\xff\xfe\xc3A"))  # same length: element sizes hold
    assert [t.name for t in parsed.tracks] == ["cam-\ufffd\ufffd\ufffdA"]
    assert parsed.tracks[0].codec_id == "V_MPEG4/ISO/AVC"
    assert len(parsed.frames) == 3, "the track's frames are still delivered"
    [error] = parsed.errors
    assert isinstance(error, ParseError) and "Name is not valid UTF-8" in str(error)
