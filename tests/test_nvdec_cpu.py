"""The nvdec backend's CPU-side logic, for real on machines without a GPU.

Its track decoder runs unchanged with ``AnnexBSession`` (FFmpeg fed the same Annex B access units NVDEC
gets, see annexb_session.py): the Annex B conversion, parameter sets before keyframes, pts mapping,
keyframe resync after corrupt blocks, reopen on track changes and the output layouts are all checked on
real encoded H.264/H.265. Choosing nvdec where it cannot run must be a typed error naming what is missing.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from typing import List, Optional

import numpy as np
import pytest

from annexb_session import SessionLog, cpu_nvdec_backend
from decode_media import Stream, encode, encode_annex_b
from kvs_parser.decode import (
    AnnexBFeed,
    BackendRegistry,
    DecodedPicture,
    DecodeOptions,
    FrameDecoder,
    NvdecUnavailableError,
    UnsupportedCodecError,
)
from kvs_parser.pipe._annexb import START_CODE
from test_decode import assert_pattern

H264, HEVC = "V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"


def nal_types(access_unit: bytes, codec_id: str) -> List[int]:
    units = [u for u in access_unit.split(START_CODE) if u]
    return [u[0] & 0x1F if codec_id == H264 else (u[0] >> 1) & 0x3F for u in units]


def decode_with(stream: Stream, options: DecodeOptions, log: Optional[SessionLog] = None,
                blocks: Optional[list] = None) -> tuple[List[DecodedPicture], FrameDecoder]:
    decoder = FrameDecoder(options, cpu_nvdec_backend(options, log))
    out = decoder.update_tracks([stream.track])
    for block in blocks if blocks is not None else stream.blocks:
        out += decoder.decode(block)
    out += decoder.flush()
    return out, decoder


# -- what NVDEC is fed --


@pytest.mark.parametrize(("codec_id", "parameter_set_types"), [(H264, [7, 8]), (HEVC, [32, 33, 34])])
def test_keyframes_are_fed_with_their_parameter_sets_in_front(codec_id: str, parameter_set_types: List[int]) -> None:
    stream = encode(codec_id)
    feed = AnnexBFeed(stream.track)
    for block in stream.blocks:
        unit = feed.access_unit(block)
        assert unit.startswith(START_CODE)
        types = nal_types(unit, codec_id)
        if block.is_keyframe:
            assert types[: len(parameter_set_types)] == parameter_set_types
        else:
            assert not set(types) & set(parameter_set_types), types


@pytest.mark.parametrize("codec_id", [H264, HEVC])
def test_what_nvdec_is_fed_decodes_to_every_frame_with_its_timestamps(codec_id: str) -> None:
    stream = encode(codec_id)
    log = SessionLog()
    frames, decoder = decode_with(stream, DecodeOptions(pixel_format="rgb24"), log)
    assert_pattern(frames, list(range(30)))
    by_pts = {b.pts_ms: b for b in stream.blocks}
    for frame in frames:
        block = by_pts[frame.pts_ms]
        assert (frame.producer_timestamp_ms, frame.fragment_number) == (block.producer_timestamp_ms,
                                                                         block.fragment_number)
        assert frame.is_keyframe == block.is_keyframe
    assert decoder.stats.decoders_opened == 1 and decoder.stats.decode_errors == 0
    assert len(log.sessions[0].fed) == 30


def test_same_pixels_as_the_pyav_backend() -> None:
    stream = encode(H264, width=320, height=240)
    options = DecodeOptions(pixel_format="rgb24")
    gpu_path, _ = decode_with(stream, options)
    cpu = FrameDecoder(options)
    cpu_path = cpu.update_tracks([stream.track])
    for block in stream.blocks:
        cpu_path += cpu.decode(block)
    cpu_path += cpu.flush()
    assert len(gpu_path) == len(cpu_path) == 30
    for a, b in zip(gpu_path, cpu_path):
        assert a.pts_ms == b.pts_ms
        assert np.array_equal(a.image, b.image)


def test_annex_b_frames_without_codec_private_pass_through() -> None:
    stream = encode_annex_b()
    frames, decoder = decode_with(stream, DecodeOptions(pixel_format="rgb24"))
    assert_pattern(frames, list(range(30)))
    assert decoder.stats.decode_errors == 0


def test_other_codecs_are_unsupported_and_skipped() -> None:
    stream = encode("V_VP9")
    with pytest.raises(UnsupportedCodecError, match="NVDEC"):
        cpu_nvdec_backend().open(stream.track)
    frames, decoder = decode_with(stream, DecodeOptions(pixel_format="rgb24"))
    assert frames == [] and decoder.stats.frames_skipped == 30


# -- bad data, changes, reordering --


def test_a_corrupt_block_skips_to_the_next_keyframe_with_a_new_decoder() -> None:
    stream = encode(H264)  # keyframes at 0, 10, 20
    blocks = list(stream.blocks)
    good = blocks[4].data
    blocks[4] = replace(blocks[4], data=(len(good) + 50).to_bytes(4, "big") + good[4:])  # length overruns
    log = SessionLog()
    frames, decoder = decode_with(stream, DecodeOptions(pixel_format="rgb24"), log, blocks)
    assert_pattern(frames, [*range(4), *range(10, 30)])
    stats = decoder.stats
    assert stats.decode_errors == 1
    assert stats.frames_skipped == 5  # blocks 5..9 wait for the keyframe
    assert stats.decoders_opened == 2 and len(log.sessions) == 2
    assert nal_types(log.sessions[1].fed[0], H264)[:2] == [7, 8]  # the new decoder starts with SPS, PPS


def test_a_new_codec_private_or_size_opens_a_new_decoder() -> None:
    first = encode(H264, width=160, height=120)
    second = encode(HEVC, width=192, height=108, start_ms=2000, first_index=0)
    log = SessionLog()
    options = DecodeOptions(pixel_format="rgb24")
    decoder = FrameDecoder(options, cpu_nvdec_backend(options, log))
    out = decoder.update_tracks([first.track])
    for block in first.blocks:
        out += decoder.decode(block)
    out += decoder.update_tracks([second.track])  # flushes the old decoder's pictures
    for block in second.blocks:
        out += decoder.decode(block)
    out += decoder.flush()
    assert [(f.width, f.height) for f in out] == [(160, 120)] * 30 + [(192, 108)] * 30
    assert [s.codec_id for s in log.sessions] == [H264, HEVC]
    assert decoder.stats.decoders_opened == 2


def test_b_frames_turn_low_latency_mode_off_at_the_next_keyframe() -> None:
    stream = encode(H264, bframes=True, frames=30, gop=10)
    assert [b.pts_ms for b in stream.blocks] != sorted(b.pts_ms for b in stream.blocks)
    log = SessionLog()
    frames, _ = decode_with(stream, DecodeOptions(pixel_format="rgb24", latency="low"), log)
    assert [s.low_latency for s in log.sessions] == [True, False]
    pts = [f.pts_ms for f in frames]
    assert pts == sorted(pts) and len(frames) >= 20  # from the second keyframe on, every frame
    assert_pattern(frames[-20:], list(range(10, 30)))


def test_throughput_latency_never_uses_low_latency_mode() -> None:
    stream = encode(H264, bframes=True)
    log = SessionLog()
    frames, _ = decode_with(stream, DecodeOptions(pixel_format="rgb24", latency="throughput"), log)
    assert [s.low_latency for s in log.sessions] == [False]
    assert_pattern(frames, list(range(30)))


def test_fps_target_samples_before_the_copy() -> None:
    stream = encode(H264)  # 30 fps
    frames, decoder = decode_with(stream, DecodeOptions(pixel_format="rgb24", fps_target=10))
    assert 9 <= len(frames) <= 11
    assert decoder.stats.frames_sampled_out == 30 - len(frames)


# -- output layouts (planar RGB is what a batch stacks) --


def test_output_layouts() -> None:
    stream = encode(H264, frames=10)
    images = {}
    for pixel_format in ("rgb24", "bgr24", "rgbp", "bgrp", "nv12", "gray"):
        frames, _ = decode_with(stream, DecodeOptions(pixel_format=pixel_format))
        assert len(frames) == 10
        assert all((f.pixel_format, f.width, f.height, f.device) == (pixel_format, 160, 120, "cpu") for f in frames)
        images[pixel_format] = frames[3].image
    assert images["rgb24"].shape == (120, 160, 3)
    assert images["rgbp"].shape == (3, 120, 160) and images["rgbp"].flags["C_CONTIGUOUS"]
    assert np.array_equal(images["rgbp"], images["rgb24"].transpose(2, 0, 1))
    assert np.array_equal(images["bgrp"], images["rgbp"][::-1])
    assert np.array_equal(images["bgr24"], images["rgb24"][..., ::-1])
    assert images["nv12"].shape == (180, 160)
    assert np.array_equal(images["gray"], images["nv12"][:120])


# -- choosing nvdec: registry, options, missing pieces --


def test_the_registry_has_nvdec_next_to_pyav() -> None:
    assert BackendRegistry().names() == ["gstreamer", "nvdec", "pyav"]


@pytest.mark.parametrize("kwargs", [dict(pixel_format="yuv420p"), dict(width=640), dict(height=360)])
def test_options_nvdec_cannot_honour_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="nvdec"):
        cpu_nvdec_backend(DecodeOptions(**kwargs))


def test_gpu_only_formats_are_rejected_by_pyav_and_negative_devices_by_the_options() -> None:
    with pytest.raises(ValueError, match="nvdec"):
        FrameDecoder(DecodeOptions(pixel_format="rgbp"), "pyav")
    with pytest.raises(ValueError, match="device"):
        DecodeOptions(device=-1)


def test_nvdec_without_pynvvideocodec_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PyNvVideoCodec", None)  # what `import` sees when it is not installed
    with pytest.raises(NvdecUnavailableError, match=r"kvs-parser-py\[gpu\]"):
        FrameDecoder(DecodeOptions(), "nvdec")


def test_a_frame_source_choosing_nvdec_fails_in_its_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("boto3", reason="frame sources need boto3 (not carried to the GPU machine)")
    from kvs_parser.source import KVSGetMediaFrameSource

    monkeypatch.setitem(sys.modules, "PyNvVideoCodec", None)
    with pytest.raises(NvdecUnavailableError, match=r"\[gpu\]"):
        KVSGetMediaFrameSource("cam", "stream", region="us-east-1", endpoint_url="http://127.0.0.1:9",
                               backend="nvdec", device=0)


@pytest.mark.skipif(importlib.util.find_spec("PyNvVideoCodec") is None,
                    reason="PyNvVideoCodec is not installed (the [gpu] extra)")
def test_nvdec_without_a_gpu_names_the_gpu() -> None:
    from pathlib import Path

    if Path("/dev/nvidiactl").exists():
        pytest.skip("this machine has an NVIDIA driver: tests/test_nvdec_gpu.py covers it")
    with pytest.raises(NvdecUnavailableError, match="NVIDIA GPU"):
        FrameDecoder(DecodeOptions(), "nvdec")


def test_annex_b_parameter_sets_in_codec_private_are_used_as_they_are() -> None:
    stream = encode(H264)
    feed = AnnexBFeed(stream.track)
    annexb_track = replace(stream.track, codec_private=feed.parameter_sets)
    units = [AnnexBFeed(annexb_track).access_unit(b) for b in stream.blocks]
    assert units == [feed.access_unit(b) for b in stream.blocks]


def test_an_unreadable_codec_private_leaves_the_frames_to_carry_their_parameter_sets(
        caplog: pytest.LogCaptureFixture) -> None:
    stream = encode_annex_b()  # SPS/PPS in band
    broken = replace(stream.track, codec_private=b"\x01\x64\x00")  # a truncated avcC
    assert AnnexBFeed(broken).parameter_sets == b""
    assert "unreadable CodecPrivate" in caplog.text
    frames, decoder = decode_with(Stream(broken, stream.blocks), DecodeOptions(pixel_format="rgb24"))
    assert_pattern(frames, list(range(30)))
    assert decoder.stats.decode_errors == 0


@pytest.mark.parametrize(("data", "problem"), [
    (b"\x00\x00\x00\x02\x65\x88\x00", "stray"),  # 1 byte left after the unit
    (b"\x00\x00\x00\x09\x65\x88", "overruns"),
    (b"\x00\x00\x00\x00\x00\x00\x00\x01\x65", "overruns"),  # a zero-length unit
])
def test_strict_annexb_conversion_refuses_corrupt_lengths(data: bytes, problem: str) -> None:
    from kvs_parser.pipe._annexb import to_annexb

    with pytest.raises(ValueError, match=problem):
        to_annexb(data, 4, strict=True)
    to_annexb(data, 4)  # the pipe's lenient conversion keeps what fits, as before
