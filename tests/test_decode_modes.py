"""Keyframes-only, fps_target sampling, DecodeOptions, and plugging another backend in by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from decode_media import Block, Stream, Track, encode, frame_index
from kvs_parser.decode import (
    BackendRegistry,
    DecodedPicture,
    DecodeOptions,
    DecodeStats,
    FpsSampler,
    FrameDecoder,
)
from kvs_parser.decode._pyav_backend import PyAVBackend, PyAVTrackDecoder


@dataclass
class SpyTrackDecoder:
    """Records what reaches a real PyAV track decoder."""

    inner: PyAVTrackDecoder
    sent: list[int]

    @property
    def stats(self) -> DecodeStats:
        return self.inner.stats

    def decode(self, frame: Block) -> list[DecodedPicture]:
        self.sent.append(frame.pts_ms)
        return self.inner.decode(frame)

    def flush(self) -> list[DecodedPicture]:
        return self.inner.flush()

    def close(self) -> None:
        self.inner.close()


@dataclass
class SpyBackend:
    inner: PyAVBackend
    sent: list[int] = field(default_factory=list)
    name: str = "spy"

    def open(self, track: Track, sampler: Optional[FpsSampler] = None) -> SpyTrackDecoder:
        return SpyTrackDecoder(self.inner.open(track, sampler), self.sent)


def spy_decoder(options: DecodeOptions) -> tuple[FrameDecoder, SpyBackend]:
    spy = SpyBackend(PyAVBackend(options))
    registry = BackendRegistry()
    registry.register("spy", lambda _options: spy)
    return FrameDecoder(options, backend="spy", registry=registry), spy


def test_keyframes_only_sends_only_keyframes_and_returns_each_at_once() -> None:
    stream = encode(frames=30, gop=10, bframes=True)  # reordering delay the drain must beat
    decoder, spy = spy_decoder(DecodeOptions(pixel_format="rgb24", keyframes_only=True))
    decoder.update_tracks([stream.track])
    for i, block in enumerate(stream.blocks):
        out = decoder.decode(block)
        if block.is_keyframe:
            assert [frame_index(f.image) for f in out] == [i] and out[0].is_keyframe
        else:
            assert out == []
    assert spy.sent == [b.pts_ms for b in stream.blocks if b.is_keyframe] == [0, 333, 667]
    assert decoder.stats.frames_skipped == 27 and decoder.stats.decode_errors == 0


def test_fps_target_drops_before_colour_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    converted: list[int] = []
    original = PyAVTrackDecoder._to_decoded

    def counting(self, picture, meta):
        converted.append(meta.pts_ms)
        return original(self, picture, meta)

    monkeypatch.setattr(PyAVTrackDecoder, "_to_decoded", counting)
    stream = encode(frames=30, gop=10, bframes=True)
    decoder, spy = spy_decoder(DecodeOptions(pixel_format="rgb24", fps_target=10))
    frames = decoder.update_tracks([stream.track])
    for block in stream.blocks:
        frames += decoder.decode(block)
    frames += decoder.flush()
    assert [frame_index(f.image) for f in frames] == list(range(0, 30, 3))
    assert converted == [f.pts_ms for f in frames]  # conversion paid only for kept frames
    assert len(spy.sent) == 30  # every frame still decoded: dropped ones may be references
    stats = decoder.stats
    assert (stats.frames_decoded, stats.frames_out, stats.frames_sampled_out) == (30, 10, 20)


def test_fps_target_above_the_source_rate_keeps_everything() -> None:
    sampler = FpsSampler(30)
    assert all(sampler.keep(i * 1000 // 30) for i in range(90))


def test_sampler_restarts_after_a_jump_backwards() -> None:
    sampler = FpsSampler(5)
    assert [sampler.keep(t) for t in (10_000, 10_100, 10_200)] == [True, False, True]
    assert sampler.keep(0)  # new stream
    assert not sampler.keep(100)


@given(
    fps=st.floats(0.5, 60),
    gaps=st.lists(st.integers(0, 200), min_size=1, max_size=300),
)
def test_sampler_never_exceeds_its_rate(fps: float, gaps: list[int]) -> None:
    stamps = [int(t) for t in np.cumsum(gaps)]
    sampler = FpsSampler(fps)
    kept = [t for t in stamps if sampler.keep(t)]
    interval = 1000 / fps
    assert 1 <= len(kept) <= (stamps[-1] - stamps[0] + 1 + interval / 10) / interval + 1


def test_no_fps_target_keeps_all() -> None:
    assert all(FpsSampler(None).keep(t) for t in (0, 0, 1, 1))


@pytest.mark.parametrize(
    "bad",
    [
        {"pixel_format": "rgba"},
        {"latency": "fast"},
        {"width": 0},
        {"fps_target": 0},
        {"thread_count": -1},
    ],
)
def test_decode_options_are_validated(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        DecodeOptions(**bad)


def test_registry_names_and_errors() -> None:
    registry = BackendRegistry()
    assert registry.names() == ["gstreamer", "nvdec", "pyav"]
    assert isinstance(registry.create(), PyAVBackend)
    with pytest.raises(ValueError, match=r"unknown decoder backend 'vaapi'.*gstreamer, nvdec, pyav"):
        registry.create("vaapi")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("pyav", PyAVBackend)
    registry.register("vaapi", PyAVBackend)
    assert BackendRegistry().names() == ["gstreamer", "nvdec", "pyav"], "registries must not share state"


def test_a_device_backend_slots_in_without_touching_frame_decoding() -> None:
    """A stand-in for NVDEC: hands 'device arrays' over; FrameDecoder needs no change for it."""

    @dataclass
    class DeviceTrackDecoder:
        options: DecodeOptions
        stats: DecodeStats = field(default_factory=DecodeStats)

        def decode(self, frame: Block) -> list[DecodedPicture]:
            self.stats.frames_in += 1
            image = ("cuda-array", len(frame.data))
            return [
                DecodedPicture(
                    image, "nv12", 160, 120, frame.track_number, frame.pts_ms, frame.is_keyframe, device="cuda:0"
                )
            ]

        def flush(self) -> list[DecodedPicture]:
            return []

        def close(self) -> None:
            pass

    @dataclass
    class DeviceBackend:
        options: DecodeOptions
        name: str = "fake-nvdec"

        def open(self, track: Track, sampler: Optional[FpsSampler] = None) -> DeviceTrackDecoder:
            return DeviceTrackDecoder(self.options)

    registry = BackendRegistry()
    registry.register("fake-nvdec", DeviceBackend)
    stream = encode(frames=3, gop=3)
    decoder = FrameDecoder(DecodeOptions(), backend="fake-nvdec", registry=registry)
    decoder.update_tracks([stream.track])
    out = [f for b in stream.blocks for f in decoder.decode(b)]
    assert [(f.device, f.image[0], f.pts_ms) for f in out] == [
        ("cuda:0", "cuda-array", b.pts_ms) for b in stream.blocks
    ]
    assert decoder.stats.frames_in == 3


def test_frame_decoder_is_a_context_manager() -> None:
    stream: Stream = encode(frames=2, gop=2)
    with FrameDecoder() as decoder:
        decoder.update_tracks([stream.track])
        out = [f for b in stream.blocks for f in decoder.decode(b)]
    assert len(out) == 2 and out[0].image.shape == (120, 160, 3)
    assert decoder.decode(stream.blocks[0]) == []  # closed: no tracks any more
