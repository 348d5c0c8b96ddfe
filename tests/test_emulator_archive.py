"""Archived media against the emulator: ListFragments, GetMediaForFragmentList and HLS read by PyAV."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

import av
import boto3
import pytest
from botocore.exceptions import ClientError

from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.mkv import Block, FragmentWriter, start_tags
from kvs_parser.mkv._kvs import FragmentInfo
from mkv_walk import split_fragments

pytestmark = pytest.mark.timeout(60)
CREDENTIALS = {"region_name": "us-west-2", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
CAMERA = SyntheticCamera(width=96, height=64, fps=10, fragment_duration=1.0)
FRAGMENTS = 3


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    # A recording written by our writer (one Segment per fragment, as GetMedia output saved to disk).
    path: Path = tmp_path_factory.mktemp("archive") / "recording.mkv"
    writer = FragmentWriter((CAMERA.track(),))
    with path.open("wb") as out:
        for k in range(FRAGMENTS):
            frames = [Block(1, CAMERA.timecode(k * 10 + i), p, keyframe=i == 0)
                      for i, p in enumerate(CAMERA.fragment(k).packets)]
            out.write(writer.fragment(frames, start_tags(FragmentInfo(str(k + 1), 0, 0))))
    with Emulator() as emulator:
        emulator.add_file_stream("rec", str(path), server_start_ms=1_700_000_000_000)
        yield emulator


def archive(emu: Emulator):
    return boto3.client("kinesis-video-archived-media", endpoint_url=emu.endpoint_url, **CREDENTIALS)


def test_list_fragments_with_range_and_pages(emu: Emulator) -> None:
    listed = archive(emu).list_fragments(StreamName="rec")["Fragments"]
    assert len(listed) == FRAGMENTS
    assert [f["FragmentLengthInMilliseconds"] for f in listed] == [900] * FRAGMENTS
    assert all(f["FragmentSizeInBytes"] > 0 for f in listed)
    first = listed[0]["ServerTimestamp"]
    selector = {"FragmentSelectorType": "SERVER_TIMESTAMP",
                "TimestampRange": {"StartTimestamp": first.timestamp() + 1, "EndTimestamp": first.timestamp() + 5}}
    ranged = archive(emu).list_fragments(StreamName="rec", FragmentSelector=selector)["Fragments"]
    assert [f["FragmentNumber"] for f in ranged] == [f["FragmentNumber"] for f in listed[1:]]
    page = archive(emu).list_fragments(StreamName="rec", MaxResults=2)
    rest = archive(emu).list_fragments(StreamName="rec", MaxResults=2, NextToken=page["NextToken"])
    assert len(page["Fragments"]) == 2 and len(rest["Fragments"]) == 1 and "NextToken" not in rest


def test_get_media_for_fragment_list(emu: Emulator) -> None:
    numbers = [f["FragmentNumber"] for f in archive(emu).list_fragments(StreamName="rec")["Fragments"]]
    response = archive(emu).get_media_for_fragment_list(StreamName="rec", Fragments=[numbers[2], numbers[0]])
    data = response["Payload"].read()
    fragments = split_fragments(data)
    assert [f.tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] for f in fragments] == [numbers[2], numbers[0]]
    assert "AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP" in fragments[0].tags
    assert "AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP" in fragments[0].tags
    assert "AWS_KINESISVIDEO_CONTINUATION_TOKEN" not in fragments[0].tags
    with av.open(io.BytesIO(data)) as container:
        indices = [read_index(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    assert indices == list(range(20, 30)) + list(range(10))
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        archive(emu).get_media_for_fragment_list(StreamName="rec", Fragments=["12345"])


@pytest.mark.parametrize("container_format", ["MPEG_TS", "FRAGMENTED_MP4"])
def test_hls_session_plays_in_pyav(emu: Emulator, container_format: str) -> None:
    url = archive(emu).get_hls_streaming_session_url(
        StreamName="rec", PlaybackMode="ON_DEMAND", ContainerFormat=container_format)["HLSStreamingSessionURL"]
    assert url.startswith(emu.endpoint_url)
    with av.open(url, timeout=10) as container:
        indices = [read_index(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    assert indices == list(range(FRAGMENTS * 10))  # every segment plays, in both containers
