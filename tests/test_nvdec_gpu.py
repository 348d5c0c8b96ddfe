"""The nvdec backend on a real NVIDIA GPU: H.264/H.265 decoded by NVDEC into device arrays.

Skipped, with the reason, where there is no NVIDIA GPU, no PyNvVideoCodec (the [gpu] extra) or neither
CuPy nor PyTorch; scripts/gpu_check.sh runs them on a GPU machine.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path
from typing import Any, List

import numpy as np
import pytest

from decode_media import Stream, encode
from kvs_parser.batch import LatestFrames
from kvs_parser.decode import DecodedPicture, DecodeOptions, FrameDecoder
from test_decode import assert_pattern


def _skip_reason() -> str:
    if not Path("/dev/nvidiactl").exists() and not Path("/proc/driver/nvidia/version").exists():
        return "no NVIDIA GPU driver on this machine"
    if importlib.util.find_spec("PyNvVideoCodec") is None:
        return "PyNvVideoCodec is not installed (pip install 'kvs-parser-py[gpu]')"
    if importlib.util.find_spec("cupy") is None and importlib.util.find_spec("torch") is None:
        return "neither CuPy nor PyTorch is installed to hold device arrays"
    return ""


pytestmark = [pytest.mark.gpu, pytest.mark.skipif(bool(_skip_reason()), reason=_skip_reason() or "-")]

H264, HEVC = "V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"


def to_host(image: Any) -> np.ndarray:
    if hasattr(image, "get"):  # CuPy
        return image.get()
    return image.cpu().numpy()


def decode_on_gpu(stream: Stream, options: DecodeOptions,
                  blocks: Any = None) -> tuple[List[DecodedPicture], FrameDecoder]:
    decoder = FrameDecoder(options, "nvdec")
    out = decoder.update_tracks([stream.track])
    for block in blocks if blocks is not None else stream.blocks:
        out += decoder.decode(block)
    out += decoder.flush()
    return out, decoder


@pytest.mark.parametrize("codec_id", [H264, HEVC])
def test_every_frame_reaches_the_gpu_with_its_timestamps(codec_id: str) -> None:
    stream = encode(codec_id, width=320, height=240)
    frames, decoder = decode_on_gpu(stream, DecodeOptions(pixel_format="rgb24"))
    assert all(f.device == "cuda:0" for f in frames)
    assert all(hasattr(f.image, "__cuda_array_interface__") and hasattr(f.image, "__dlpack__") for f in frames)
    host = [replace(f, image=to_host(f.image)) for f in frames]
    assert_pattern(host, list(range(30)))
    by_pts = {b.pts_ms: b for b in stream.blocks}
    assert [f.producer_timestamp_ms for f in frames] == [by_pts[f.pts_ms].producer_timestamp_ms for f in frames]
    assert decoder.stats.decode_errors == 0 and decoder.stats.decoders_opened == 1


def test_pixels_match_the_cpu_decoder() -> None:
    stream = encode(H264, width=320, height=240)
    gpu, _ = decode_on_gpu(stream, DecodeOptions(pixel_format="rgb24"))
    cpu = FrameDecoder(DecodeOptions(pixel_format="rgb24"))
    cpu_frames = cpu.update_tracks([stream.track])
    for block in stream.blocks:
        cpu_frames += cpu.decode(block)
    cpu_frames += cpu.flush()
    assert len(gpu) == len(cpu_frames) == 30
    for a, b in zip(gpu, cpu_frames):
        diff = np.abs(to_host(a.image).astype(np.int16) - b.image.astype(np.int16))
        assert diff.mean() < 3, diff.mean()  # colour conversion differs by rounding only


def test_planar_and_nv12_layouts() -> None:
    stream = encode(H264, width=320, height=240, frames=10)
    rgbp, _ = decode_on_gpu(stream, DecodeOptions(pixel_format="rgbp"))
    bgrp, _ = decode_on_gpu(stream, DecodeOptions(pixel_format="bgrp"))
    nv12, _ = decode_on_gpu(stream, DecodeOptions(pixel_format="nv12"))
    assert tuple(rgbp[0].image.shape) == (3, 240, 320) and tuple(nv12[0].image.shape) == (360, 320)
    assert np.array_equal(to_host(bgrp[4].image), to_host(rgbp[4].image)[::-1])


def test_b_frames_and_a_corrupt_block() -> None:
    stream = encode(H264, bframes=True, width=320, height=240)
    frames, _ = decode_on_gpu(stream, DecodeOptions(pixel_format="rgb24", latency="throughput"))
    assert [f.pts_ms for f in frames] == sorted(b.pts_ms for b in stream.blocks)
    plain = encode(H264, width=320, height=240)
    blocks = list(plain.blocks)
    blocks[4] = replace(blocks[4], data=(len(blocks[4].data) + 50).to_bytes(4, "big") + blocks[4].data[4:])
    frames, decoder = decode_on_gpu(plain, DecodeOptions(pixel_format="rgb24"), blocks)
    assert_pattern([replace(f, image=to_host(f.image)) for f in frames], [*range(4), *range(10, 30)])
    assert decoder.stats.decode_errors == 1 and decoder.stats.decoders_opened == 2


def test_a_size_change_reopens_and_the_batch_stays_on_the_gpu() -> None:
    first, second = encode(H264, width=320, height=240), encode(HEVC, width=640, height=360, start_ms=2000)
    decoder = FrameDecoder(DecodeOptions(pixel_format="rgbp"), "nvdec")
    out = decoder.update_tracks([first.track])
    for block in first.blocks:
        out += decoder.decode(block)
    out += decoder.update_tracks([second.track])
    for block in second.blocks:
        out += decoder.decode(block)
    assert {(f.width, f.height) for f in out} == {(320, 240), (640, 360)}
    assert decoder.stats.decoders_opened == 2
    latest = LatestFrames()
    for i, frame in enumerate(f for f in out if f.width == 640):
        latest.put(f"cam{i % 8}", frame)
    batch = latest.newest_batch(decoder.backend.arrays)  # type: ignore[attr-defined]
    assert tuple(batch.tensor.shape) == (8, 3, 360, 640)
    assert hasattr(batch.tensor, "__cuda_array_interface__")


def test_garbage_slice_data_neither_crashes_nor_stops_decoding() -> None:
    stream = encode(H264, width=320, height=240)  # keyframes at 0, 10, 20
    blocks = list(stream.blocks)
    data = blocks[5].data
    garbage = bytes((b * 37 + 11) & 0xFF for b in data[5:])
    blocks[5] = replace(blocks[5], data=data[:5] + garbage)  # valid length, NAL header kept, slice garbage
    frames, decoder = decode_on_gpu(stream, DecodeOptions(pixel_format="rgb24"), blocks)
    indices = [f.pts_ms for f in frames]
    assert set(indices) >= {b.pts_ms for b in stream.blocks[10:]}  # the next keyframe on, every frame
    print("garbage slice:", decoder.stats)  # whether NVDEC reports it (decode_errors) or conceals it
