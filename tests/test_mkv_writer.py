"""The pure-Python Matroska writer: EBML primitives, blocks, lacing, KVS fragment shape, PyAV round trip."""

from __future__ import annotations

import io
import struct

import av
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvs_parser.emulator import SyntheticCamera, read_index
from kvs_parser.mkv import (
    TRACK_TYPE_AUDIO,
    Block,
    FragmentInfo,
    FragmentWriter,
    Id,
    Lacing,
    TrackSpec,
    encode_block,
    encode_signed_vint,
    encode_vint,
    end_tags,
    float_element,
    format_timestamp_ms,
    int_element,
    start_tags,
    uint_element,
    unknown_size,
)
from mkv_walk import parse, parse_block, read_signed_vint, read_vint, split_fragments

pytestmark = pytest.mark.timeout(60)


def test_vint_vectors() -> None:
    assert encode_vint(0) == b"\x80"
    assert encode_vint(126) == b"\xfe"
    assert encode_vint(127) == b"\x40\x7f"  # 0xFF would mean "unknown"
    assert encode_vint(5, 8) == b"\x01" + b"\x00" * 6 + b"\x05"
    assert unknown_size() == b"\x01" + b"\xff" * 7
    assert unknown_size(1) == b"\xff"
    with pytest.raises(ValueError):
        encode_vint(127, 1)


@given(st.integers(min_value=0, max_value=(1 << 56) - 2))
def test_vint_round_trip(value: int) -> None:
    assert read_vint(encode_vint(value), 0) == (value, len(encode_vint(value)))


@given(st.integers(min_value=-(1 << 40), max_value=1 << 40))
def test_signed_vint_round_trip(value: int) -> None:
    data = encode_signed_vint(value)
    assert read_signed_vint(data, 0) == (value, len(data))


def test_numeric_elements() -> None:
    assert uint_element(Id.TIMECODE, 0) == b"\xe7\x81\x00"
    assert int_element(Id.REFERENCE_BLOCK, -1) == b"\xfb\x81\xff"
    assert int_element(Id.REFERENCE_BLOCK, 200) == b"\xfb\x82\x00\xc8"
    assert float_element(Id.SAMPLING_FREQUENCY, 48000.0) == b"\xb5\x88" + struct.pack(">d", 48000.0)
    assert format_timestamp_ms(1511852109126) == "1511852109.126"
    assert format_timestamp_ms(5) == "0.005"


LACES = {
    Lacing.NONE: (b"x" * 10,),
    Lacing.XIPH: (b"a" * 300, b"b" * 255, b"", b"c" * 7),
    Lacing.FIXED: (b"a" * 50, b"b" * 50, b"c" * 50),
    Lacing.EBML: (b"a" * 300, b"b" * 5, b"c" * 1000, b"d" * 7, b"e" * 2),
}


@pytest.mark.parametrize("lacing", list(Lacing))
@pytest.mark.parametrize(("keyframe", "invisible", "discardable"),
                         [(True, False, False), (False, True, True)])
def test_simple_block_lacing_and_flags(
    lacing: Lacing, keyframe: bool, invisible: bool, discardable: bool
) -> None:
    frame = Block(3, 1005, LACES[lacing], keyframe=keyframe, invisible=invisible, discardable=discardable,
                  lacing=lacing)
    nodes, _ = parse(encode_block(frame, 1000))
    assert nodes[0].id == Id.SIMPLE_BLOCK
    block = parse_block(nodes[0].data)
    assert (block.track, block.relative_timecode, block.lacing) == (3, 5, lacing)
    assert block.laces == LACES[lacing]
    assert (block.keyframe, block.invisible, block.discardable) == (keyframe, invisible, discardable)


@given(st.lists(st.binary(max_size=700), min_size=1, max_size=20),
       st.sampled_from([Lacing.XIPH, Lacing.EBML]))
def test_lacing_round_trip(laces: list, lacing: Lacing) -> None:
    nodes, _ = parse(encode_block(Block(1, 0, tuple(laces), lacing=lacing), 0))
    assert parse_block(nodes[0].data).laces == tuple(laces)


def test_fixed_lacing_rejects_unequal_sizes() -> None:
    with pytest.raises(ValueError):
        encode_block(Block(1, 0, (b"a", b"bb"), lacing=Lacing.FIXED), 0)


def test_block_group_duration_and_references() -> None:
    frame = Block(1, 40, b"p-frame", keyframe=False, duration=33, references=(-40, -7))
    group = parse(encode_block(frame, 0))[0][0]
    assert group.id == Id.BLOCK_GROUP
    assert group.first(Id.BLOCK_DURATION).uint == 33
    refs = [int.from_bytes(n.data, "big", signed=True) for n in group.find(Id.REFERENCE_BLOCK)]
    assert refs == [-40, -7]
    block = parse_block(group.first(Id.BLOCK).data)
    assert (block.relative_timecode, block.laces, block.flags & 0x80) == (40, (b"p-frame",), 0)
    # A BlockGroup non-keyframe without explicit references still says it depends on something.
    implicit = parse(FragmentWriter((), block_groups=True).block(Block(1, 5, b"x", keyframe=False), 0))[0][0]
    assert [n.data for n in implicit.find(Id.REFERENCE_BLOCK)] == [b"\xff"]


INFO = FragmentInfo("91343852333181432392682062607743920146159169392", 1511852109126, 1511852108513)


@pytest.mark.parametrize("known_segment", [False, True])
@pytest.mark.parametrize("known_cluster", [False, True])
def test_fragment_shape_matches_getmedia(known_segment: bool, known_cluster: bool) -> None:
    writer = FragmentWriter((TrackSpec(1, "V_MPEG4/ISO/AVC", width=64, height=48),),
                            known_segment_size=known_segment, known_cluster_size=known_cluster)
    data = writer.fragment([Block(1, 100, b"k"), Block(1, 133, b"p", keyframe=False)], start_tags(INFO),
                           end_tags(42, INFO.fragment_number))
    nodes, end = parse(data)
    assert end == len(data)
    assert [n.id for n in nodes] == [Id.EBML, Id.SEGMENT]
    segment = nodes[1]
    assert (segment.size is None) != known_segment
    assert [c.id for c in segment.children] == [Id.INFO, Id.TRACKS, Id.TAGS, Id.CLUSTER, Id.TAGS]
    assert (segment.children[3].size is None) != known_cluster
    (fragment,) = split_fragments(data)
    assert fragment.tags == {
        "AWS_KINESISVIDEO_FRAGMENT_NUMBER": INFO.fragment_number,
        "AWS_KINESISVIDEO_SERVER_TIMESTAMP": "1511852109.126",
        "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": "1511852108.513",
        "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": "42",
        "AWS_KINESISVIDEO_CONTINUATION_TOKEN": INFO.fragment_number,
    }
    assert fragment.timecodes() == [100, 133]
    assert [b.keyframe for b in fragment.blocks] == [True, False]


def test_streaming_form_equals_whole_unknown_cluster_fragment() -> None:
    writer = FragmentWriter((TrackSpec(1, "V_MPEG4/ISO/AVC"),), known_cluster_size=False)
    frames = [Block(1, 0, b"a"), Block(1, 33, b"b", keyframe=False)]
    pieces = writer.prefix(start_tags(INFO), 0) + b"".join(writer.block(f, 0) for f in frames)
    pieces += writer.suffix(end_tags(0, "1"))
    assert pieces == writer.fragment(frames, start_tags(INFO), end_tags(0, "1"))


def test_error_fragment_and_side_spellings() -> None:
    writer = FragmentWriter(())
    (error,) = split_fragments(writer.error_fragment(4000))
    assert error.tags == {
        "AWS_KINESISVIDEO_ERROR_CODE": "Requested fragment is not found",
        "AWS_KINESISVIDEO_ERROR_ID": "4000",
    }
    names = [name for name, _ in start_tags(INFO, side_spelling=True)]
    assert names[1:] == ["AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP", "AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP"]


@pytest.mark.parametrize("known_cluster", [False, True])
def test_pyav_decodes_writer_output_with_video_and_audio(known_cluster: bool) -> None:
    camera = SyntheticCamera(width=96, height=64, fps=10, fragment_duration=0.5)
    audio = TrackSpec(2, "A_PCM/INT/LIT", TRACK_TYPE_AUDIO, sampling_frequency=8000.0, channels=1,
                      bit_depth=16)
    writer = FragmentWriter((camera.track(), audio), known_cluster_size=known_cluster)
    data = b""
    for k in range(2):
        frames = []
        for i, packet in enumerate(camera.fragment(k).packets):
            index = k * camera.frames_per_fragment + i
            frames.append(Block(1, camera.timecode(index), packet, keyframe=i == 0))
            frames.append(Block(2, camera.timecode(index), b"\x00\x01" * 800))  # 100 ms of 16-bit mono
        data += writer.fragment(frames, start_tags(INFO))
    with av.open(io.BytesIO(data)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.audio[0].sample_rate == 8000
        indices = [read_index(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    assert indices == list(range(2 * camera.frames_per_fragment))
