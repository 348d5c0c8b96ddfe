"""GetMedia against the emulator: every StartSelector, KVS framing, live pacing, resume, fault injection.

Bytes are checked with the writer's mirror (tests/mkv_walk.py) and decoded with PyAV; frame indices come
from block timecodes and from the pixels of the test pattern.
"""

from __future__ import annotations

import io
import time
from fractions import Fraction
from pathlib import Path
from typing import Iterator, List

import av
import boto3
import pytest
from botocore.exceptions import ClientError

from kvs_parser.emulator import (
    Emulator,
    Fault,
    Limits,
    SyntheticCamera,
    draw_index_yuv420p,
    hevc_available,
    index_from_timecode,
    read_index,
)
from kvs_parser.mkv import Id
from mkv_walk import ParsedFragment, parse, split_fragments

pytestmark = pytest.mark.timeout(60)
CREDENTIALS = {"region_name": "us-west-2", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
FPS = 10
FRAMES = 40  # a GOP every 10 frames: 4 fragments
DROPPED = r"(?i)incomplete|protocol|connection|ended"  # how urllib3/botocore report a cut body
UNTHROTTLED = Limits(getmedia_tps_per_stream=1000)  # limits have their own tests (test_emulator_api)


@pytest.fixture(scope="module")
def media_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain MKV as a user would have it, muxed by PyAV, frames carrying their index."""
    path = tmp_path_factory.mktemp("media") / "clip.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "tune": "zerolatency"})
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.gop_size = 10
        stream.codec_context.time_base = Fraction(1, FPS)
        for index in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(draw_index_yuv420p(index, 96, 64), format="yuv420p")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def emu(media_file: Path) -> Iterator[Emulator]:
    with Emulator(limits=UNTHROTTLED) as emulator:
        emulator.add_file_stream("file", str(media_file))
        yield emulator


def media_client(emu: Emulator):
    return boto3.client("kinesis-video-media", endpoint_url=emu.endpoint_url, **CREDENTIALS)


def get_media(emu: Emulator, stream: str = "file", **selector: str) -> bytes:
    response = media_client(emu).get_media(StreamName=stream, StartSelector=selector)
    assert response["ContentType"] == "video/webm"
    with response["Payload"] as payload:
        return payload.read()


def frame_indices(data: bytes) -> List[int]:
    with av.open(io.BytesIO(data)) as container:
        return [read_index(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def timecode_indices(fragments: List[ParsedFragment]) -> List[int]:
    return [index_from_timecode(t, FPS) for f in fragments for t in f.timecodes()]


def test_earliest_streams_everything_framed_like_kvs(emu: Emulator) -> None:
    data = get_media(emu, StartSelectorType="EARLIEST")
    fragments = split_fragments(data)
    assert len(fragments) == 4
    assert timecode_indices(fragments) == list(range(FRAMES))
    assert frame_indices(data) == list(range(FRAMES))
    numbers = [int(f.tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"]) for f in fragments]
    assert numbers == sorted(numbers) and len(set(numbers)) == 4
    for fragment in fragments:
        tags = fragment.tags
        assert tags["AWS_KINESISVIDEO_CONTINUATION_TOKEN"] == tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"]
        assert int(tags["AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"]) > 0
        seconds, millis = tags["AWS_KINESISVIDEO_SERVER_TIMESTAMP"].split(".")
        assert len(millis) == 3 and seconds.isdigit()
        # Fragment tags sit before the Cluster, the resume tags after it; the Segment has unknown size.
        kinds = [c.id for c in fragment.segment.children]
        assert kinds == [Id.INFO, Id.TRACKS, Id.TAGS, Id.CLUSTER, Id.TAGS]
        assert fragment.segment.size is None
        assert fragment.blocks[0].keyframe


def test_every_start_selector(emu: Emulator) -> None:
    fragments = split_fragments(get_media(emu, StartSelectorType="EARLIEST"))
    second = fragments[1].tags
    cases = {
        "NOW": ({"StartSelectorType": "NOW"}, 30),
        "FRAGMENT_NUMBER": ({"StartSelectorType": "FRAGMENT_NUMBER",
                             "AfterFragmentNumber": second["AWS_KINESISVIDEO_FRAGMENT_NUMBER"]}, 20),
        "CONTINUATION_TOKEN": ({"StartSelectorType": "CONTINUATION_TOKEN",
                                "ContinuationToken": second["AWS_KINESISVIDEO_CONTINUATION_TOKEN"]}, 20),
        "SERVER_TIMESTAMP": ({"StartSelectorType": "SERVER_TIMESTAMP",
                              "StartTimestamp": float(second["AWS_KINESISVIDEO_SERVER_TIMESTAMP"]) + 0.05}, 10),
        "PRODUCER_TIMESTAMP": ({"StartSelectorType": "PRODUCER_TIMESTAMP",
                                "StartTimestamp": float(second["AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"])}, 10),
    }
    for name, (selector, first_index) in cases.items():
        data = get_media(emu, **selector)
        assert timecode_indices(split_fragments(data)) == list(range(first_index, FRAMES)), name
        assert frame_indices(data)[0] == first_index, name
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        get_media(emu, StartSelectorType="CONTINUATION_TOKEN", ContinuationToken="1234")


def test_fault_close_after_bytes_and_mid_frame(emu: Emulator) -> None:
    whole = get_media(emu, StartSelectorType="EARLIEST")
    emu.inject(Fault(close_after_bytes=1000), stream="file")
    payload = media_client(emu).get_media(StreamName="file", StartSelector={"StartSelectorType": "EARLIEST"})
    with payload["Payload"] as body, pytest.raises(Exception, match=DROPPED):
        body.read()
    emu.inject(Fault(close_in_frame=3), stream="file")
    body = media_client(emu).get_media(StreamName="file", StartSelector={"StartSelectorType": "EARLIEST"})["Payload"]
    received = b""
    with body, pytest.raises(Exception, match=DROPPED):
        while chunk := body.read(100):
            received += chunk
    # The cut lands inside the 4th frame's block: a proper prefix of the clean stream that ends mid-block.
    assert whole.startswith(received) and len(received) < len(whole)
    clusters = [n for n in parse(whole)[0][1].children if n.id == Id.CLUSTER]
    blocks = list(clusters[0].find(Id.SIMPLE_BLOCK))
    assert blocks[3].offset < len(received) < blocks[4].offset


def test_fault_corrupt_error_fragment_and_end(emu: Emulator) -> None:
    whole = get_media(emu, StartSelectorType="EARLIEST")
    emu.inject(Fault(corrupt_at_bytes=500), stream="file")
    damaged = get_media(emu, StartSelectorType="EARLIEST")
    assert len(damaged) == len(whole)
    stable = whole.index(b"AWS_KINESISVIDEO_MILLIS_BEHIND_NOW")  # its value changes from call to call
    assert [i for i in range(stable) if whole[i] != damaged[i]] == [500]
    assert damaged[500] == whole[500] ^ 0xFF
    emu.inject(Fault(error_fragment_after=1, error_fragment_code=4500), stream="file")
    fragments = split_fragments(get_media(emu, StartSelectorType="EARLIEST"))
    assert len(fragments) == 2
    assert fragments[1].tags["AWS_KINESISVIDEO_ERROR_ID"] == "4500"
    assert fragments[1].tags["AWS_KINESISVIDEO_ERROR_CODE"] == "Access denied for the stream's KMS key"
    emu.inject(Fault(end_after_fragments=2), stream="file")
    assert len(split_fragments(get_media(emu, StartSelectorType="EARLIEST"))) == 2


def test_fault_stall_and_trickle(emu: Emulator) -> None:
    emu.inject(Fault(stall_after_bytes=200, stall_seconds=0.5), stream="file")
    body = media_client(emu).get_media(StreamName="file", StartSelector={"StartSelectorType": "NOW"})["Payload"]
    with body:
        assert len(body.read(200)) == 200
        start = time.monotonic()
        assert body.read(1)
        assert time.monotonic() - start >= 0.4
    emu.inject(Fault(trickle_bytes=100, trickle_interval=0.05), stream="file")
    start = time.monotonic()
    data = get_media(emu, StartSelectorType="NOW")  # ~9 kB in 100-byte chunks
    assert time.monotonic() - start >= 0.05 * (len(data) // 100) * 0.8
    assert timecode_indices(split_fragments(data)) == list(range(30, FRAMES))


def read_live(body, seconds: float) -> List[tuple]:
    """(arrival time, bytes) of each read from a streaming body, for `seconds`."""
    raw = getattr(body, "_raw_stream", body)  # urllib3 response: read1 returns what has arrived
    # urllib3 1.26 (what botocore's floor brings) has no read1: its http.client response, which de-chunks, has.
    read1 = raw.read1 if hasattr(raw, "read1") else raw._fp.read1
    arrivals = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        chunk = read1(65536)
        if not chunk:
            break
        arrivals.append((time.monotonic(), chunk))
    return arrivals


def test_live_frames_arrive_one_by_one_and_resume_exactly_once() -> None:
    camera = SyntheticCamera(width=96, height=64, fps=20, fragment_duration=0.5)
    with Emulator(limits=UNTHROTTLED) as emu:
        emu.add_live_stream("cam", camera)
        client = media_client(emu)
        with client.get_media(StreamName="cam", StartSelector={"StartSelectorType": "NOW"})["Payload"] as body:
            arrivals = read_live(body, 1.3)
        data = b"".join(chunk for _, chunk in arrivals)
        # Frame-by-frame pacing: many separate arrivals spread over the read, not one per fragment.
        assert len(arrivals) >= 15
        assert arrivals[-1][0] - arrivals[0][0] >= 0.8
        complete = [f for f in split_fragments(data[: data.rfind(b"\x1a\x45\xdf\xa3")])]
        assert complete, "no complete fragment in 1.3 s of a 0.5 s-fragment stream"
        seen = [index_from_timecode(t, camera.fps) for f in complete for t in f.timecodes()]
        assert seen == list(range(seen[0], seen[0] + len(seen)))
        token = complete[-1].tags["AWS_KINESISVIDEO_CONTINUATION_TOKEN"]
        selector = {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": token}
        with client.get_media(StreamName="cam", StartSelector=selector)["Payload"] as body:
            resumed = b"".join(chunk for _, chunk in read_live(body, 0.8))
        first = split_fragments(resumed[: resumed.rfind(b"\x1a\x45\xdf\xa3")] or resumed)[0]
        assert index_from_timecode(first.timecodes()[0], camera.fps) == seen[-1] + 1
        assert frame_indices(data[: data.rfind(b"\x1a\x45\xdf\xa3")]) == seen


def test_session_lifetime_ends_response() -> None:
    with Emulator(limits=Limits(session_lifetime=0.6)) as emu:
        emu.add_live_stream("cam", SyntheticCamera(width=64, height=48, fps=10))
        start = time.monotonic()
        data = get_media(emu, "cam", StartSelectorType="NOW")
        assert 0.5 <= time.monotonic() - start < 3
        assert split_fragments(data)


@pytest.mark.skipif(not hevc_available(), reason="libx265 not in this PyAV build")
def test_live_hevc_decodes() -> None:
    with Emulator() as emu:
        emu.add_live_stream("h265", SyntheticCamera(width=128, height=96, fps=10, codec="hevc", max_frames=6,
                                                    fragment_duration=0.3))
        data = get_media(emu, "h265", StartSelectorType="EARLIEST")
    assert frame_indices(data) == list(range(6))
    assert all(f.segment.first(Id.CODEC_ID).text == "V_MPEGH/ISO/HEVC" for f in split_fragments(data))
