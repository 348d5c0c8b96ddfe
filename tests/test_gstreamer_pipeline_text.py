"""The gstreamer backend's parts that need no GStreamer (they run everywhere): the user's pipeline string cut
down to its decode part, the decoders' thread setting, the caps chosen from CodecPrivate, the NAL length
check and the timestamps blocks are pushed with."""

from __future__ import annotations

import pytest

from decode_media import encode, encode_annex_b
from kvs_parser.decode._gst_caps import check_nal_lengths, track_caps
from kvs_parser.decode._gst_pipeline import GStreamerPipelineError, decode_part, split_elements, tune_for_latency
from kvs_parser.decode._gst_timestamps import NS_PER_MS, Timestamps


@pytest.mark.parametrize(("text", "part", "removed"), [
    ("appsrc ! matroskademux ! h264parse ! avdec_h264 ! videoconvert ! appsink", "h264parse ! avdec_h264",
     ("appsrc", "matroskademux", "appsink", "videoconvert")),
    ("h264parse ! avdec_h264", "h264parse ! avdec_h264", ()),
    ("appsrc name=src is-live=true ! vaapih264dec ! appsink name=out sync=false", "vaapih264dec",
     ("appsrc", "appsink")),
    ("h264parse ! nvv4l2decoder ! nvvidconv ! video/x-raw,format=I420 ! videoconvert ! appsink",
     "h264parse ! nvv4l2decoder ! nvvidconv ! video/x-raw,format=I420", ("appsink", "videoconvert")),
    ("avdec_h264 skip-frame='non-ref ! x'", "avdec_h264 skip-frame='non-ref ! x'", ()),
])
def test_our_source_demuxer_and_sink_are_taken_off(text: str, part: str, removed: tuple[str, ...]) -> None:
    result = decode_part(text)
    assert (result.description, result.removed) == (part, removed)


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty"), ("appsrc ! appsink", "no decoder left"), ("h264parse !", "'!' with nothing"),
    ("h264parse ! avdec_h264 fakesink", "single chain"), ('avdec_h264 name="x', "unterminated"),
])
def test_strings_that_are_not_one_chain(text: str, words: str) -> None:
    with pytest.raises(GStreamerPipelineError, match=words):
        decode_part(text)


def test_quotes_keep_their_bangs_and_ffmpeg_decoders_get_one_thread() -> None:
    assert split_elements('a p="x ! y" ! b') == ['a p="x ! y"', "b"]
    tuned = tune_for_latency(decode_part("h264parse ! avdec_h264 ! avdec_h265 max-threads=4"), 1)
    assert tuned.description == "h264parse ! avdec_h264 max-threads=1 ! avdec_h265 max-threads=4"
    assert tune_for_latency(decode_part("avdec_h264"), 0).description == "avdec_h264"


def test_caps_follow_codec_private_and_what_the_pipeline_takes() -> None:
    stream = encode("V_MPEG4/ISO/AVC", width=320, height=240, frames=3)
    record = track_caps(stream.track, lambda caps: True)
    assert record.caps.startswith("video/x-h264,stream-format=(string)avc,alignment=(string)au,width=(int)320")
    assert f"codec_data=(buffer){stream.track.codec_private.hex()}" in record.caps and not record.byte_stream
    assert record.payload(stream.blocks[0]) == stream.blocks[0].data
    only_bytes = track_caps(stream.track, lambda caps: "byte-stream" in caps)
    key = bytes(only_bytes.payload(stream.blocks[0]))
    assert only_bytes.byte_stream and key.startswith(b"\x00\x00\x00\x01") and key.count(b"\x00\x00\x00\x01") >= 3
    annex_b = encode_annex_b(frames=3)
    assert track_caps(annex_b.track, lambda caps: True).byte_stream  # no CodecPrivate: Annex B as it is


def test_nal_lengths_must_walk_the_block_exactly() -> None:
    check_nal_lengths(b"\x00\x00\x00\x02ab\x00\x00\x00\x01c", 4)
    for bad in (b"\x00\x00\x00\x05ab", b"\x00\x00\x00\x02ab\x00", b"\x00\x00\x00\x00"):
        with pytest.raises(ValueError):
            check_nal_lengths(bad, 4)


def test_timestamps_keep_rising_across_a_producer_restart() -> None:
    stamps = Timestamps()
    first = [stamps.stamp(pts, key) for pts, key in [(1000, True), (1100, False), (1033, False), (1066, False)]]
    assert first == [pts * NS_PER_MS for pts in (1000, 1100, 1033, 1066)], "B-frames keep their own order"
    again = [stamps.stamp(pts, key) for pts, key in [(0, True), (33, False)]]
    assert again[0] > max(first) and again[1] - again[0] == 33 * NS_PER_MS
    assert stamps.stamp(33, False) == again[1] + 1, "a repeated timestamp still gets a picture of its own"
