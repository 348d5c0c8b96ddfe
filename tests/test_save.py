"""Saving fragments as standalone MKV: a real GetMedia capture, an emulator GetMedia response, and a
generated stream whose tracks change; PyAV opens, seeks and demuxes every saved file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator, List

import av
import boto3
import pytest

from kvs_parser import iter_fragments, iter_frames
from kvs_parser.emulator import Emulator, SyntheticCamera, read_index
from kvs_parser.emulator._encode import VideoSpec, encode_gop
from kvs_parser.mkv import CODEC_IDS, Block, FragmentInfo, FragmentWriter, Id, TrackSpec, start_tags
from kvs_parser.save import FragmentFilter, save_fragments
from mkv_walk import parse

pytestmark = pytest.mark.timeout(60)
KEYS = {"aws_access_key_id": "k", "aws_secret_access_key": "s", "region_name": "us-west-2"}


def digests(frames: Iterator) -> List[str]:
    return [hashlib.sha256(bytes(f)).hexdigest() for f in frames]


def packets(path: Path) -> List[av.Packet]:
    with av.open(str(path)) as container:
        return [p for p in container.demux(video=0) if p.size]


def check_standalone(path: Path) -> None:
    """Known-size Segment, SeekHead and Cues pointing at Clusters."""
    data = path.read_bytes()
    nodes, _ = parse(data)
    segment = next(n for n in nodes if n.id == Id.SEGMENT)
    assert segment.size is not None and segment.offset + 12 + segment.size == len(data)
    top = [c.id for c in segment.children]
    assert top[0] == Id.SEEK_HEAD and Id.CUES in top and Id.CLUSTER in top
    start = segment.offset + 12
    for position in [int.from_bytes(bytes(p.data), "big") for p in segment.find(0xF1)]:
        assert data[start + position : start + position + 4] == bytes.fromhex("1F43B675")


def test_real_capture_saved_playable_and_identical(fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "kvs" / "kinesis_video_renderer_example_output.mkv"
    frames = list(iter_frames(source.read_bytes()))
    [track] = list(iter_fragments(source.read_bytes()))[-1].tracks
    with source.open("rb") as readable:
        [saved] = save_fragments(readable, tmp_path / "clip.mkv")
    check_standalone(saved)
    assert digests(packets(saved)) == digests(frames)
    with av.open(str(saved)) as container:
        # The last frame lasts the track's DefaultDuration.
        expected_ms = frames[-1].pts_ms - frames[0].pts_ms + round(track.default_duration_ns / 1e6)
        assert abs(container.duration / 1000 - expected_ms) <= 1
        # Seek to the middle: lands on a keyframe at or before the target (the Cues say where).
        video = container.streams.video[0]
        target_ms = expected_ms // 2
        container.seek(round(target_ms / 1000 / video.time_base), stream=video)
        first = next(p for p in container.demux(video) if p.size)
        keyframe_times = [f.pts_ms - frames[0].pts_ms for f in frames if f.is_keyframe]
        assert first.is_keyframe and round(first.pts * video.time_base * 1000) in keyframe_times
        assert round(first.pts * video.time_base * 1000) <= target_ms


def gop_fragment(spec: VideoSpec, first: int, count: int, fps: int) -> List[Block]:
    gop = encode_gop(spec, first, count)
    return [Block(1, round((first + i) * 1000 / fps), data, keyframe=i == 0) for i, data in enumerate(gop.packets)]


def test_time_range_merges_and_splits_when_tracks_change(tmp_path: Path) -> None:
    fps, per = 25, 5
    small, large = VideoSpec(width=64, height=48, fps=fps), VideoSpec(width=96, height=64, fps=fps)
    stream = b""
    expected: List[List[bytes]] = [[], []]
    for n in range(6):
        spec = small if n < 3 else large
        track = TrackSpec(1, CODEC_IDS["h264"], codec_private=encode_gop(spec, 0, 1).codec_private,
                          width=spec.width, height=spec.height, default_duration_ns=40_000_000)
        frames = gop_fragment(spec, n * per, per, fps)
        info = FragmentInfo(str(1000 + n), 1_700_000_000_000 + n * 200, 1_700_000_000_000 + n * 200)
        stream += FragmentWriter((track,), known_cluster_size=False).fragment(frames, start_tags(info))
        if 1 <= n <= 4:
            expected[n >= 3] += [f.data for f in frames]  # type: ignore[misc]
    select = FragmentFilter(start_ms=1_700_000_000_200, end_ms=1_700_000_000_800)
    saved = save_fragments(stream, tmp_path / "range.mkv", select)
    assert [p.name for p in saved] == ["range.mkv", "range-2.mkv"]
    for path, want, spec, first_index in zip(saved, expected, (small, large), (per, 3 * per)):
        check_standalone(path)
        got = packets(path)
        assert digests(got) == [hashlib.sha256(d).hexdigest() for d in want]
        with av.open(str(path)) as container:
            assert container.duration == len(want) * 40_000  # microseconds: frames x 40 ms
            pictures = list(container.decode(video=0))
            assert (pictures[0].width, pictures[0].height) == (spec.width, spec.height)
            assert [read_index(p.to_ndarray(format="rgb24")) for p in pictures] == list(
                range(first_index, first_index + len(want)))


def test_emulator_getmedia_output_saved(tmp_path: Path) -> None:
    with Emulator() as emu:
        emu.add_live_stream("cam", SyntheticCamera(width=64, height=48, fps=50, fragment_duration=0.2, max_frames=30))
        stream = emu.stream("cam")
        assert stream.wait_closed(20)
        media = boto3.client("kinesis-video-media", endpoint_url=emu.endpoint_url, **KEYS)
        payload = media.get_media(StreamName="cam", StartSelector={"StartSelectorType": "EARLIEST"})["Payload"]
        numbers = [str(f.number) for f in stream.snapshot()]
        saved = save_fragments(payload, tmp_path / "cam.mkv", FragmentFilter(fragment_numbers=numbers[1:3]))
    [path] = saved
    check_standalone(path)
    with av.open(str(path)) as container:
        indices = [read_index(p.to_ndarray(format="rgb24")) for p in container.decode(video=0)]
        assert container.duration == 20 * 20_000
    assert indices == list(range(10, 30))


def test_capture_cut_mid_fragment_saves_the_whole_fragments(fixtures: Path, tmp_path: Path) -> None:
    """The normal end of a capture: the bytes stop inside a fragment. The fragments before it are saved as a
    playable file; the cut one is reported, not raised, and leaves nothing partial behind."""
    data = (fixtures / "kvs" / "output_get_media.mkv").read_bytes()
    fragments = list(iter_fragments(data))
    cut = len(data) // 2
    complete = [f for f in iter_fragments(data[:cut], on_error=lambda error: None) if f.complete]
    assert 0 < len(complete) < len(fragments)
    saved = save_fragments(data[:cut], tmp_path / "clip.mkv")
    assert [p.name for p in saved] == ["clip.mkv"]
    check_standalone(saved[0])
    expected = [f for f in iter_frames(data) if f.fragment_number in {c.fragment_number for c in complete}]
    assert digests(packets(saved[0])) == digests(f for f in expected if f.track_number == 1)
    [left_out] = saved.incomplete
    assert left_out.fragment_number == fragments[len(complete)].fragment_number
    assert left_out.reason == "the input ends inside it" and left_out.frames > 0
