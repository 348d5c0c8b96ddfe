"""The gstreamer decode backend with Debian's GStreamer (avdec_h264/avdec_h265 through PyGObject): the same
pictures and metadata as PyAV, every block's picture once, B-frames, a corrupt block and a pipeline that
rejects the stream recovered at the next keyframe, codec and size changes, and the pipeline strings."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from typing import Any, List, Optional, Sequence

import numpy as np
import pytest

from decode_media import Block, Stream, encode, encode_annex_b
from gstreamer_check import needs_gstreamer
from kvs_parser.decode import (
    DecodedPicture,
    DecodeOptions,
    FrameDecoder,
    GStreamerPipelineError,
    GStreamerUnavailableError,
)

pytestmark = [needs_gstreamer, pytest.mark.timeout(120)]

H264, HEVC = "V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"
SEED = "appsrc ! matroskademux ! h264parse ! avdec_h264 ! videoconvert ! appsink"


def decode(stream: Stream, backend: str, options: DecodeOptions,
           blocks: Optional[Sequence[Block]] = None) -> tuple[List[DecodedPicture], FrameDecoder]:
    decoder = FrameDecoder(options, backend)
    out = decoder.update_tracks([stream.track])
    for block in blocks if blocks is not None else stream.blocks:
        out += decoder.decode(block)
    out += decoder.flush()
    decoder.close()
    return out, decoder


def metadata(pictures: List[DecodedPicture]) -> List[tuple[Any, ...]]:
    return [(p.pts_ms, p.is_keyframe, p.producer_timestamp_ms, p.server_timestamp_ms, p.fragment_number,
             p.width, p.height, p.image.shape) for p in pictures]


def assert_close(ours: List[DecodedPicture], pyav: List[DecodedPicture], mean: float, peak: int) -> None:
    assert len(ours) == len(pyav)
    for a, b in zip(ours, pyav):
        diff = np.abs(a.image.astype(np.int16) - b.image.astype(np.int16))
        assert diff.mean() <= mean and diff.max() <= peak, (a.pts_ms, diff.mean(), diff.max())


@pytest.mark.parametrize("codec_id", [H264, HEVC])
def test_same_pictures_and_metadata_as_pyav(codec_id: str) -> None:
    stream = encode(codec_id, width=320, height=240)
    for pixel_format, mean, peak in (("yuv420p", 0.0, 0), ("rgb24", 3.0, 4)):
        options = DecodeOptions(pixel_format=pixel_format)
        ours, decoder = decode(stream, "gstreamer", options)
        pyav, _ = decode(stream, "pyav", options)
        assert metadata(ours) == metadata(pyav) and len(ours) == 30
        # The same FFmpeg decoder underneath: planes bit-exact; RGB differs by videoconvert's rounding only.
        assert_close(ours, pyav, mean, peak)
        assert (decoder.stats.frames_out, decoder.stats.decode_errors, decoder.stats.decoders_opened) == (30, 0, 1)


def test_each_picture_comes_out_of_the_push_of_its_own_block() -> None:
    """No picture held back beyond the decoder's need: without B-frames, decode() returns the block's own."""
    stream = encode(H264, width=320, height=240)
    decoder = FrameDecoder(DecodeOptions(), "gstreamer")
    decoder.update_tracks([stream.track])
    returned = [[p.pts_ms for p in decoder.decode(block)] for block in stream.blocks]
    assert returned == [[block.pts_ms] for block in stream.blocks]
    assert decoder.flush() == []


def test_b_frames_come_out_in_presentation_order_once_each() -> None:
    stream = encode(H264, bframes=True, width=320, height=240)
    ours, _ = decode(stream, "gstreamer", DecodeOptions(pixel_format="yuv420p"))
    pyav, _ = decode(stream, "pyav", DecodeOptions(pixel_format="yuv420p"))
    assert [p.pts_ms for p in ours] == sorted(b.pts_ms for b in stream.blocks)
    assert metadata(ours) == metadata(pyav)
    assert_close(ours, pyav, 0.0, 0)


BYTE_STREAM_ONLY = "capsfilter caps=video/x-h264,stream-format=byte-stream ! h264parse ! avdec_h264"


@pytest.mark.parametrize("pipeline", [SEED, "h264parse ! avdec_h264", "avdec_h264", BYTE_STREAM_ONLY,
                                      "appsrc is-live=true ! h264parse ! avdec_h264 max-threads=2 ! appsink sync=true",
                                      "h264parse ! queue ! avdec_h264"])
def test_the_seed_string_and_decode_only_strings(pipeline: str) -> None:
    """The seed's whole pipeline (our demuxer replaces matroskademux), decode parts, one whose input takes
    only a byte stream (as hardware decoders do: it is fed Annex B with the parameter sets), and one with a
    queue (a thread of its own: its pictures arrive later, still each once)."""
    stream = encode(H264, width=320, height=240)
    ours, _ = decode(stream, "gstreamer", DecodeOptions(pixel_format="yuv420p", pipeline=pipeline))
    pyav, _ = decode(stream, "pyav", DecodeOptions(pixel_format="yuv420p"))
    assert metadata(ours) == metadata(pyav)
    assert_close(ours, pyav, 0.0, 0)


def test_annex_b_blocks_without_codec_private() -> None:
    stream = encode_annex_b(width=320, height=240)
    ours, decoder = decode(stream, "gstreamer", DecodeOptions(pixel_format="yuv420p"))
    pyav, _ = decode(stream, "pyav", DecodeOptions(pixel_format="yuv420p"))
    assert metadata(ours) == metadata(pyav) and len(ours) == 30 and decoder.stats.decode_errors == 0
    assert_close(ours, pyav, 0.0, 0)


def test_a_corrupt_block_is_counted_and_decoding_resumes_at_the_next_keyframe() -> None:
    stream = encode(H264, width=320, height=240)
    blocks = list(stream.blocks)
    blocks[4] = replace(blocks[4], data=(len(blocks[4].data) + 50).to_bytes(4, "big") + blocks[4].data[4:])
    ours, decoder = decode(stream, "gstreamer", DecodeOptions(pixel_format="yuv420p"), blocks)
    clean, _ = decode(stream, "pyav", DecodeOptions(pixel_format="yuv420p"))
    kept = [*range(4), *range(10, 30)]
    assert [p.pts_ms for p in ours] == [stream.blocks[i].pts_ms for i in kept]
    assert_close(ours, [clean[i] for i in kept], 0.0, 0)
    assert decoder.stats.decode_errors == 1 and decoder.stats.decoders_opened == 2


def test_a_pipeline_that_rejects_the_stream_at_run_time_is_counted_not_raised() -> None:
    """The caps filter refuses the decoded size (the track states none, so only decoding finds it out):
    every keyframe retries on a new pipeline, each failure is one decode error."""
    coded = encode(H264, width=320, height=240)
    stream = replace(coded, track=replace(coded.track, pixel_width=None, pixel_height=None))
    options = DecodeOptions(pipeline="h264parse ! avdec_h264 ! video/x-raw,width=100")
    ours, decoder = decode(stream, "gstreamer", options)
    assert ours == []
    keyframes = len(stream.keyframe_indices())
    assert decoder.stats.decode_errors == keyframes and decoder.stats.decoders_opened == keyframes
    assert decoder.stats.frames_skipped == len(stream.blocks) - keyframes


def test_a_codec_and_size_change_opens_a_new_pipeline() -> None:
    first, second = encode(H264, width=320, height=240), encode(HEVC, width=640, height=360, start_ms=2000)
    decoder = FrameDecoder(DecodeOptions(pixel_format="rgb24"), "gstreamer")
    out = decoder.update_tracks([first.track])
    for block in first.blocks:
        out += decoder.decode(block)
    out += decoder.update_tracks([second.track])
    for block in second.blocks:
        out += decoder.decode(block)
    out += decoder.flush()
    assert [(p.width, p.height) for p in out] == [(320, 240)] * 30 + [(640, 360)] * 30
    assert [p.pts_ms for p in out] == [b.pts_ms for b in first.blocks + second.blocks]
    assert decoder.stats.decoders_opened == 2 and decoder.stats.decode_errors == 0


def test_resize_gray_sampling_and_keyframes_only() -> None:
    stream = encode(H264, width=320, height=240)
    small, _ = decode(stream, "gstreamer", DecodeOptions(pixel_format="bgr24", width=160))
    assert {(p.width, p.height, p.image.shape) for p in small} == {(160, 120, (120, 160, 3))}
    gray, _ = decode(stream, "gstreamer", DecodeOptions(pixel_format="gray"))
    assert gray[0].image.shape == (240, 320) and gray[0].image.flags.writeable
    sampled, decoder = decode(stream, "gstreamer", DecodeOptions(fps_target=10))
    assert len(sampled) == 10 and decoder.stats.frames_sampled_out == 20
    keys, _ = decode(stream, "gstreamer", DecodeOptions(pixel_format="rgb24", keyframes_only=True),
                     [b for b in stream.blocks if b.is_keyframe])
    assert [p.pts_ms for p in keys] == [b.pts_ms for b in stream.blocks if b.is_keyframe]


def test_a_pipeline_for_the_other_codec_skips_the_track() -> None:
    stream = encode(HEVC, width=320, height=240, frames=10)
    ours, decoder = decode(stream, "gstreamer", DecodeOptions(pipeline="h264parse ! avdec_h264"))
    assert ours == [] and decoder.stats.frames_skipped == 10


@pytest.mark.parametrize(("pipeline", "element", "words"), [
    ("h264parse ! avdec_h2645", "avdec_h2645", "not installed"),
    ("vaapih264dec", "vaapih264dec", "not installed"),
    ("avdec_h264 ! h264parse", "avdec_h264", "could not link avdec_h264 to h264parse"),
    ("h264parse ! avdec_h264 turbo=1", "avdec_h264", 'no property "turbo"'),
    ("decodebin", "decodebin", "takes neither H.264 nor H.265"),
    ("appsrc ! matroskademux ! appsink", None, "no decoder left"),
    ("h264parse ! tee name=t t. ! avdec_h264", "t.", "single chain"),
    ("h264parse ! 'avdec_h264", None, "unterminated"),
])
def test_pipelines_that_cannot_run_name_the_element(pipeline: str, element: Optional[str], words: str) -> None:
    with pytest.raises(GStreamerPipelineError) as caught:
        FrameDecoder(DecodeOptions(pipeline=pipeline), "gstreamer")
    assert caught.value.element == element and words in str(caught.value)


def test_gpu_pixel_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="nvdec"):
        FrameDecoder(DecodeOptions(pixel_format="nv12"), "gstreamer")
    assert issubclass(GStreamerUnavailableError, RuntimeError)


def test_without_pygobject_the_backend_says_in_one_line_what_to_install() -> None:
    code = ("import sys; sys.modules['gi'] = None\n"  # as if PyGObject were not installed
            "from kvs_parser.decode import FrameDecoder, GStreamerUnavailableError\n"
            "try:\n    FrameDecoder(backend='gstreamer')\n"
            "except GStreamerUnavailableError as error:\n    print(error)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    [line] = result.stdout.splitlines()
    assert "pip install 'kvs-parser-py[gstreamer]'" in line and "apt-get install gir1.2-gstreamer-1.0" in line
