"""Decoder changes between fragments, and bad data: counted, skipped to the next keyframe, never raised."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decode_media import Block, Stream, encode, frame_index
from kvs_parser.decode import DecodedPicture, DecodeOptions, FrameDecoder


def run(decoder: FrameDecoder, *streams: Stream) -> list[DecodedPicture]:
    """Feed fragments the way the parser does: Tracks first, then the fragment's blocks."""
    out: list[DecodedPicture] = []
    for stream in streams:
        out += decoder.update_tracks([stream.track])
        for block in stream.blocks:
            out += decoder.decode(block)
    return out + decoder.flush()


def rgb_decoder() -> FrameDecoder:
    return FrameDecoder(DecodeOptions(pixel_format="rgb24"))


def garbled(block: Block, seed: int) -> Block:
    rnd = random.Random(seed)
    data = bytearray(block.data)
    data[4:] = bytes(rnd.randrange(256) for _ in range(len(data) - 4))  # keep the NAL length prefix
    return replace(block, data=bytes(data))


def test_resolution_change_opens_a_new_decoder_without_losing_frames() -> None:
    # B-frames: the old decoder still holds pictures at the change, which must come out too.
    small = encode(width=160, height=120, frames=15, gop=5, bframes=True)
    large = encode(width=320, height=240, frames=15, gop=5, first_index=15, start_ms=500, bframes=True)
    decoder = rgb_decoder()
    frames = run(decoder, small, large)
    assert [frame_index(f.image) for f in frames] == list(range(30))
    assert [(f.width, f.height) for f in frames] == [(160, 120)] * 15 + [(320, 240)] * 15
    assert decoder.stats.decoders_opened == 2 and decoder.stats.decode_errors == 0


def test_codec_change_opens_a_new_decoder() -> None:
    avc = encode("V_MPEG4/ISO/AVC", frames=10, gop=5)
    hevc = encode("V_MPEGH/ISO/HEVC", frames=10, gop=5, first_index=10, start_ms=400)
    decoder = rgb_decoder()
    frames = run(decoder, avc, hevc)
    assert [frame_index(f.image) for f in frames] == list(range(20))
    assert decoder.stats.decoders_opened == 2


def test_codec_private_change_opens_a_new_decoder() -> None:
    first = encode(frames=10, gop=5)
    second = encode(frames=10, gop=5, first_index=10, start_ms=400, bframes=True)
    assert first.track.codec_private != second.track.codec_private
    decoder = rgb_decoder()
    frames = run(decoder, first, second)
    assert [frame_index(f.image) for f in frames] == list(range(20))
    assert decoder.stats.decoders_opened == 2


def test_unchanged_tracks_in_every_fragment_keep_the_decoder() -> None:
    stream = encode(frames=30, gop=10)
    fragments = [Stream(stream.track, stream.blocks[i : i + 10]) for i in range(0, 30, 10)]
    decoder = rgb_decoder()
    frames = run(decoder, *fragments)
    assert [frame_index(f.image) for f in frames] == list(range(30))
    assert decoder.stats.decoders_opened == 1


@pytest.mark.parametrize(
    ("bad_block", "lost"),
    [(3, range(3, 10)), (10, range(10, 20)), (29, range(29, 30))],
    ids=["p-frame", "keyframe", "last-frame"],
)
def test_corrupt_frame_is_counted_and_skipped_to_the_next_keyframe(bad_block: int, lost: range) -> None:
    stream = encode(frames=30, gop=10)
    blocks = list(stream.blocks)
    blocks[bad_block] = garbled(blocks[bad_block], bad_block)
    decoder = rgb_decoder()
    frames = run(decoder, Stream(stream.track, blocks))
    assert [frame_index(f.image) for f in frames] == [i for i in range(30) if i not in lost]
    assert decoder.stats.decode_errors >= 1
    assert decoder.stats.frames_skipped >= len(lost) - 1


def test_truncated_frame_is_counted() -> None:
    stream = encode(frames=20, gop=10)
    blocks = list(stream.blocks)
    blocks[4] = replace(blocks[4], data=blocks[4].data[: len(blocks[4].data) // 3])
    decoder = rgb_decoder()
    frames = run(decoder, Stream(stream.track, blocks))
    assert [frame_index(f.image) for f in frames] == [0, 1, 2, 3, *range(10, 20)]
    assert decoder.stats.decode_errors >= 1


def test_joining_mid_gop_waits_for_a_keyframe_without_errors() -> None:
    stream = encode(frames=30, gop=10)
    decoder = rgb_decoder()
    frames = run(decoder, Stream(stream.track, stream.blocks[5:]))
    assert [frame_index(f.image) for f in frames] == list(range(10, 30))
    assert decoder.stats.frames_skipped == 5 and decoder.stats.decode_errors == 0


def test_garbage_codec_private_is_an_error_not_a_crash() -> None:
    stream = encode(frames=20, gop=10)
    bad = replace(stream.track, codec_private=b"\x01" + bytes(range(40)))
    decoder = rgb_decoder()
    run(decoder, Stream(bad, stream.blocks))
    assert decoder.stats.decode_errors >= 1
    assert decoder.stats.frames_in == 20


def test_empty_block_is_skipped() -> None:
    stream = encode(frames=3, gop=3)
    decoder = rgb_decoder()
    decoder.update_tracks([stream.track])
    assert decoder.decode(replace(stream.blocks[0], data=b"")) == []
    assert len(run(decoder, stream)) == 3


@pytest.fixture(scope="module")
def fuzz_stream() -> Stream:
    return encode(frames=20, gop=5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_damage_never_raises_and_never_reorders(fuzz_stream: Stream, data: st.DataObject) -> None:
    blocks = list(fuzz_stream.blocks)
    for index in data.draw(st.sets(st.integers(0, len(blocks) - 1), max_size=4)):
        cut = data.draw(st.integers(0, len(blocks[index].data)))
        noise = data.draw(st.binary(max_size=64))
        blocks[index] = replace(blocks[index], data=blocks[index].data[:cut] + noise)
    decoder = rgb_decoder()
    frames = run(decoder, Stream(fuzz_stream.track, blocks))
    pts = [f.pts_ms for f in frames]
    assert pts == sorted(set(pts)) and set(pts) <= {b.pts_ms for b in blocks}
    assert decoder.stats.frames_in == len(blocks)
    # A GOP left intact decodes fully whatever happened before it: the keyframe resynchronises.
    gop = 5
    intact = [
        b.pts_ms
        for start in range(0, len(blocks), gop)
        if blocks[start : start + gop] == fuzz_stream.blocks[start : start + gop]
        for b in blocks[start : start + gop]
    ]
    assert set(intact) <= set(pts)
