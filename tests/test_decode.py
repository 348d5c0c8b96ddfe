"""Decoding real H.264/H.265/VP8/VP9 streams: pixel content, timestamps, output formats, latency."""

from __future__ import annotations

import numpy as np
import pytest

from decode_media import RED, Block, Stream, Track, encode, encode_annex_b, frame_index, level
from kvs_parser.decode import AnnexBFeed, DecodedPicture, DecodeOptions, FrameDecoder, UnsupportedCodecError
from kvs_parser.decode._codecs import codec_spec, is_annex_b


def decode_all(stream: Stream, options: DecodeOptions | None = None) -> tuple[list[DecodedPicture], FrameDecoder]:
    decoder = FrameDecoder(options or DecodeOptions(pixel_format="rgb24"))
    out = decoder.update_tracks([stream.track])
    for block in stream.blocks:
        out += decoder.decode(block)
    out += decoder.flush()
    return out, decoder


def assert_pattern(frames: list[DecodedPicture], expected_indices: list[int]) -> None:
    assert [frame_index(f.image) for f in frames] == expected_indices
    for f in frames:
        right = f.image[:, f.width * 5 // 8 : f.width * 7 // 8].reshape(-1, 3).mean(axis=0)
        assert np.allclose(right, RED, atol=12), right


@pytest.mark.parametrize("codec_id", ["V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC", "V_VP8", "V_VP9"])
def test_every_frame_decodes_with_its_timestamps(codec_id: str) -> None:
    stream = encode(codec_id)
    frames, decoder = decode_all(stream)
    assert_pattern(frames, list(range(30)))
    by_pts = {b.pts_ms: b for b in stream.blocks}
    for f in frames:
        block = by_pts[f.pts_ms]
        assert (f.width, f.height, f.image.shape) == (160, 120, (120, 160, 3))
        assert f.producer_timestamp_ms == block.producer_timestamp_ms
        assert f.server_timestamp_ms == block.server_timestamp_ms
        assert f.fragment_number == block.fragment_number
        assert f.is_keyframe == block.is_keyframe
        assert f.track_number == 1
    assert sum(f.is_keyframe for f in frames) == 3
    assert decoder.stats.decode_errors == 0
    assert decoder.stats.decoders_opened == 1


def test_avc_codec_private_is_a_configuration_record() -> None:
    stream = encode("V_MPEG4/ISO/AVC")
    assert stream.track.codec_private[0] == 1  # avcC configurationVersion
    assert not is_annex_b(stream.blocks[0].data)
    assert codec_spec(stream.track, stream.blocks[0].data).extradata == stream.track.codec_private


def test_hevc_codec_private_is_hvcc() -> None:
    stream = encode("V_MPEGH/ISO/HEVC")
    assert stream.track.codec_private[0] == 1  # hvcC configurationVersion
    assert codec_spec(stream.track).decoder_name == "hevc"


def test_b_frames_come_out_in_presentation_order() -> None:
    stream = encode("V_MPEG4/ISO/AVC", bframes=True)
    decode_order = [b.pts_ms for b in stream.blocks]
    assert decode_order != sorted(decode_order), "the encoder made no B-frames; the test proves nothing"
    frames, _ = decode_all(stream)
    assert [f.pts_ms for f in frames] == sorted(decode_order)
    assert_pattern(frames, list(range(30)))


def test_annex_b_without_codec_private() -> None:
    stream = encode_annex_b()
    assert stream.track.codec_private == b"" and is_annex_b(stream.blocks[0].data)
    frames, decoder = decode_all(stream)
    assert_pattern(frames, list(range(30)))
    assert decoder.stats.decode_errors == 0


def test_annex_b_frames_with_an_avcc_codec_private() -> None:
    """Some producers declare avcC but send start codes: the record must not be applied then."""
    annex_b = encode_annex_b()
    avcc = encode("V_MPEG4/ISO/AVC").track
    frames, decoder = decode_all(Stream(avcc, annex_b.blocks))
    assert_pattern(frames, list(range(30)))
    assert decoder.stats.decode_errors == 0


def test_low_latency_returns_each_frame_from_its_own_decode_call() -> None:
    stream = encode("V_MPEG4/ISO/AVC")
    decoder = FrameDecoder(DecodeOptions(pixel_format="rgb24"))
    decoder.update_tracks([stream.track])
    for i, block in enumerate(stream.blocks):
        out = decoder.decode(block)
        assert [frame_index(f.image) for f in out] == [i]
    assert decoder.flush() == []


def test_throughput_mode_decodes_the_same_frames() -> None:
    stream = encode("V_MPEG4/ISO/AVC")
    frames, _ = decode_all(stream, DecodeOptions(pixel_format="rgb24", latency="throughput", thread_count=2))
    assert_pattern(frames, list(range(30)))


def test_memoryview_frame_data() -> None:
    stream = encode("V_MPEG4/ISO/AVC", frames=5, gop=5)
    views = Stream(stream.track, [Block(1, memoryview(b.data), b.pts_ms, b.is_keyframe) for b in stream.blocks])
    frames, _ = decode_all(views)  # type: ignore[arg-type]
    assert_pattern(frames, list(range(5)))


@pytest.mark.parametrize(
    ("pixel_format", "shape"),
    [("rgb24", (120, 160, 3)), ("bgr24", (120, 160, 3)), ("gray", (120, 160)), ("yuv420p", (180, 160))],
)
def test_pixel_formats(pixel_format: str, shape: tuple[int, ...]) -> None:
    stream = encode("V_MPEG4/ISO/AVC", frames=3, gop=3)
    frames, _ = decode_all(stream, DecodeOptions(pixel_format=pixel_format))  # type: ignore[arg-type]
    image = frames[2].image
    assert image.shape == shape and image.dtype == np.uint8
    if pixel_format == "bgr24":
        assert np.allclose(image[60, 140], RED[::-1], atol=12)
    elif pixel_format == "gray":  # full range, like the rgb input
        assert abs(int(image[60, 40]) - level(2)) <= 6
    elif pixel_format == "yuv420p":  # the Y plane comes first, in limited (video) range
        assert abs(int(image[60, 40]) - (16 + level(2) * 219 / 255)) <= 6


def test_resize_in_the_conversion_pass() -> None:
    stream = encode("V_MPEG4/ISO/AVC", frames=12, gop=12)
    frames, _ = decode_all(stream, DecodeOptions(pixel_format="rgb24", width=80, height=40))
    assert frames[0].image.shape == (40, 80, 3) and (frames[0].width, frames[0].height) == (80, 40)
    assert_pattern(frames, list(range(12)))
    frames, _ = decode_all(stream, DecodeOptions(pixel_format="yuv420p", width=64))
    assert (frames[0].width, frames[0].height) == (64, 48) and frames[0].image.shape == (72, 64)


def test_unsupported_codec_and_audio_tracks_are_skipped() -> None:
    video = encode("V_MPEG4/ISO/AVC", frames=3, gop=3)
    theora = Track(number=2, codec_id="V_THEORA")
    audio = Track(number=3, type=2, codec_id="A_AAC")
    decoder = FrameDecoder(DecodeOptions(pixel_format="rgb24"))
    decoder.update_tracks([video.track, theora, audio])
    out = []
    for block in video.blocks:
        out += decoder.decode(block)
        assert decoder.decode(Block(2, b"\x00" * 10, block.pts_ms, True)) == []
        assert decoder.decode(Block(3, b"\xff\xf1", block.pts_ms, True)) == []
    assert len(out) == 3
    assert decoder.stats.frames_skipped == 3  # the theora frames; audio is not counted at all
    with pytest.raises(UnsupportedCodecError, match="V_THEORA"):
        decoder.backend.open(theora)


# Filler-data NAL units (H.264 type 12, H.265 type 38) that decoders skip, sized so the frame's 4-byte
# length prefix is 00 00 01 xx: the bytes of a 3-byte Annex B start code.
_FILLER_HEADER = {"V_MPEG4/ISO/AVC": b"\x0c", "V_MPEGH/ISO/HEVC": b"\x4c\x01"}


def _with_leading_filler(stream: Stream, size: int) -> Stream:
    header = _FILLER_HEADER[stream.track.codec_id]
    nal = header + b"\xff" * (size - len(header) - 1) + b"\x80"
    prefix = len(nal).to_bytes(4, "big") + nal
    blocks = [Block(b.track_number, prefix + b.data, b.pts_ms, b.is_keyframe) for b in stream.blocks]
    return Stream(stream.track, blocks)


@pytest.mark.parametrize("codec_id", ["V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"])
@pytest.mark.parametrize("nal_size", [256, 300, 511])
def test_first_nal_of_256_to_511_bytes_is_not_taken_for_a_start_code(codec_id: str, nal_size: int) -> None:
    """The format comes from the avcC/hvcC record, not from a frame beginning 00 00 01."""
    stream = _with_leading_filler(encode(codec_id), nal_size)
    assert stream.blocks[0].data[:3] == b"\x00\x00\x01" and is_annex_b(stream.blocks[0].data)
    assert codec_spec(stream.track, stream.blocks[0].data).extradata == stream.track.codec_private
    frames, decoder = decode_all(stream)
    assert_pattern(frames, list(range(30)))
    assert decoder.stats.decode_errors == 0


def test_codec_private_that_is_no_record_is_not_extradata() -> None:
    track = encode("V_MPEG4/ISO/AVC").track
    broken = Track(codec_id=track.codec_id, codec_private=track.codec_private[:9])  # arrays cut short
    assert codec_spec(broken).extradata is None
    assert codec_spec(track).extradata == track.codec_private


@pytest.mark.parametrize("codec_id", ["V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"])
def test_annexb_feed_converts_a_first_nal_of_256_to_511_bytes(codec_id: str) -> None:
    """The NVDEC feed decides from CodecPrivate too: the frame is length-prefixed, not Annex B."""
    plain = encode(codec_id)
    stream = _with_leading_filler(plain, 300)
    feed = AnnexBFeed(stream.track)
    for block, original in zip(stream.blocks, plain.blocks):
        unit = feed.access_unit(block)
        expected = AnnexBFeed(plain.track).access_unit(original)
        filler = b"\x00\x00\x00\x01" + block.data[4:304]
        head = feed.parameter_sets if block.is_keyframe else b""
        assert unit == head + filler + expected[len(head):]
