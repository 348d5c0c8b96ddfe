"""Frame sampling by count, ratio and interval, and tags per fragment, on emulator GetMedia frames and on a
real capture."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List

import boto3
import pytest

from kvs_parser import iter_fragments, iter_frames
from kvs_parser._aws.pacing import RequestPacer
from kvs_parser.emulator import Emulator, SyntheticCamera, index_from_timecode
from kvs_parser.getmedia import GetMediaClient, StartSelector
from kvs_parser.sampling import FrameSampler, fragment_tags, iter_tagged_frames, sample_frames

pytestmark = pytest.mark.timeout(60)
FPS = 50
KEYS = {"aws_access_key_id": "k", "aws_secret_access_key": "s", "region_name": "us-west-2"}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_live_stream("cam", SyntheticCamera(width=64, height=48, fps=FPS, fragment_duration=0.2,
                                                        max_frames=100))
        stream = emulator.stream("cam")
        assert stream.wait_closed(20)
        yield emulator


@pytest.fixture(scope="module")
def pacer() -> RequestPacer:
    """One pacer for every client here: the emulator enforces GetMedia's 5 TPS per stream."""
    return RequestPacer()


def sampled(emu: Emulator, pacer: RequestPacer, **criteria: object) -> List[int]:
    with GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url, pacer=pacer) as client:
        frames = client.stream("cam", start=StartSelector.earliest(), follow=False).frames()
        return [index_from_timecode(f.pts_ms, FPS) for f in sample_frames(frames, **criteria)]


def test_every_ratio_interval_and_keyframes_on_getmedia(emu: Emulator, pacer: RequestPacer) -> None:
    assert sampled(emu, pacer, every=7) == list(range(0, 100, 7))
    assert sampled(emu, pacer, ratio=0.25) == list(range(0, 100, 4))
    assert sampled(emu, pacer, interval_ms=100) == list(range(0, 100, 5))  # 50 fps: every 5th frame
    assert sampled(emu, pacer, keyframes_only=True) == list(range(0, 100, 10))
    assert sampled(emu, pacer, keyframes_only=True, every=3) == [0, 30, 60, 90]


def test_bad_criteria_are_refused() -> None:
    with pytest.raises(ValueError, match="at most one"):
        FrameSampler(every=2, ratio=0.5)
    with pytest.raises(ValueError, match="ratio"):
        FrameSampler(ratio=1.5)


def test_interval_sampling_of_a_real_capture_with_jitter(fixtures: Path) -> None:
    frames = list(iter_frames((fixtures / "kvs" / "kinesis_video_renderer_example_output.mkv").read_bytes()))
    kept = [f.pts_ms for f in sample_frames(frames, interval_ms=1000)]
    span = frames[-1].pts_ms - frames[0].pts_ms
    # A fixed 1 s schedule; a frame up to a tenth of the interval early counts as on time (jittery timestamps).
    assert span // 1000 + 1 <= len(kept) <= span // 1000 + 2
    assert all(900 <= b - a <= 1100 for a, b in zip(kept[1:], kept[2:]))


def test_tags_as_a_dict_per_fragment_and_per_frame(emu: Emulator, pacer: RequestPacer) -> None:
    media = pacer.install(boto3.client("kinesis-video-media", endpoint_url=emu.endpoint_url, **KEYS))
    payload = media.get_media(StreamName="cam", StartSelector={"StartSelectorType": "EARLIEST"})["Payload"].read()
    numbers = [str(f.number) for f in emu.stream("cam").snapshot()]
    dicts = list(fragment_tags(iter_fragments(payload)))
    assert [d["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] for d in dicts] == numbers
    assert all("AWS_KINESISVIDEO_CONTINUATION_TOKEN" in d and "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP" in d for d in dicts)
    tagged = list(iter_tagged_frames(payload))
    assert len(tagged) == 100
    assert [t.tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] for t in tagged] == [numbers[i // 10] for i in range(100)]
    for index, (frame, tags) in enumerate(tagged):  # the documented pair unpacks
        assert frame is tagged[index].frame and tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == numbers[index // 10]
