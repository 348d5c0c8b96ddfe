"""Matroska rules beyond plain blocks, through the Python API: where unknown-size elements end (RFC 8794
section 6.2), ContentEncoding (header stripping and zlib undone, encryption flagged), CodecDelay and
SeekPreRoll, and lace times from DefaultDuration."""

from __future__ import annotations

import io
import os
import random
import zlib
from pathlib import Path
from typing import List, Tuple

import av
import pytest

import kvs_parser
from kvs_parser import KVSStreamParser, _kvsparser
from kvs_parser.mkv import (
    TRACK_TYPE_AUDIO,
    Block,
    FragmentWriter,
    Lacing,
    TrackSpec,
    binary_element,
    element,
    element_header,
    master,
    string_element,
    uint_element,
)

EBML_HEADER = b"\x1a\x45\xdf\xa3"
# First bytes of the IDs valid directly in a Cluster or Segment, or of a sync ID: garbage starting with
# one reads as data (FFmpeg is fooled the same way).
VALID_CHILD_FIRST_BYTES = {0xA3, 0xA0, 0xE7, 0xA7, 0xAB, 0xAF, 0xEC, 0xBF, 0x58, 0x1F, 0x18, 0x1A, 0x11, 0x15,
                           0x16, 0x1C, 0x10, 0x12, 0x19}


def frames_of(data: bytes) -> List[Tuple[str, int, int]]:
    return [(f.fragment_number, f.track_number, f.pts_ms)
            for f in kvs_parser.iter_frames(data, on_error=lambda error: None)]


def test_random_bytes_between_fragments_no_longer_swallow_the_following_ones(fixtures: Path) -> None:
    data = (fixtures / "kvs" / "output_get_media.mkv").read_bytes()
    starts = [at for at in range(len(data)) if data.startswith(EBML_HEADER, at)]
    assert len(starts) >= 4
    cut = starts[1]
    expected = frames_of(data)
    rng = random.Random(15)
    tried = 0
    while tried < 20:
        garbage = rng.randbytes(rng.randrange(16, 600))
        if garbage[0] in VALID_CHILD_FIRST_BYTES:
            continue
        tried += 1
        errors: List[Exception] = []
        got = [(f.fragment_number, f.track_number, f.pts_ms)
               for f in kvs_parser.iter_frames(data[:cut] + garbage + data[cut:], on_error=errors.append)]
        assert got == expected
        assert errors and errors[0].code in ("unexpected_element", "invalid_vint", "invalid_id")
    # The case that used to swallow them: an "element" claiming more bytes than all that follows.
    claim = element_header(0x4DBB, len(data))
    assert frames_of(data[:cut] + claim + data[cut:]) == expected


def ffmpeg_packets(data: bytes) -> int:
    with av.open(io.BytesIO(data), format="matroska") as container:
        return sum(1 for packet in container.demux() if packet.size)


def test_after_an_element_claiming_more_than_follows_both_we_and_ffmpeg_keep_every_frame(fixtures: Path) -> None:
    data = (fixtures / "kvs" / "output_get_media.mkv").read_bytes()
    cut = data.find(EBML_HEADER, 4)
    damaged = data[:cut] + element_header(0x4DBB, len(data)) + data[cut:]
    assert len(frames_of(damaged)) == ffmpeg_packets(damaged) == ffmpeg_packets(data) == len(frames_of(data))


def track(number: int, codec: str, *children: bytes) -> bytes:
    return master(0xAE, [uint_element(0xD7, number), uint_element(0x83, 1 if codec[0] == "V" else 2),
                         string_element(0x86, codec), *children])


def compression(algorithm: int, settings: bytes = b"", scope: int = 1) -> bytes:
    body = [uint_element(0x4254, algorithm)] + ([binary_element(0x4255, settings)] if settings else [])
    encoding = master(0x6240, [uint_element(0x5032, scope), master(0x5034, body)])
    return master(0x6D80, [encoding])


def block(track_number: int, timecode: int, payload: bytes, flags: int = 0x80) -> bytes:
    return element(0xA3, bytes([0x80 | track_number]) + timecode.to_bytes(2, "big") + bytes([flags]) + payload)


def fragment(tracks: bytes, blocks: bytes) -> bytes:
    return (master(EBML_HEADER_ID, [string_element(0x4282, "matroska")]) + element_header(0x18538067, None)
            + master(0x1549A966, [uint_element(0x2AD7B1, 1_000_000)]) + master(0x1654AE6B, [tracks])
            + element_header(0x1F43B675, None) + uint_element(0xE7, 500) + blocks)


EBML_HEADER_ID = 0x1A45DFA3


@pytest.mark.skipif(not _kvsparser._inflates_zlib and not os.environ.get("CI"),
                    reason="the extension was built without zlib (scripts/system_packages.sh installs zlib1g-dev)")
def test_content_encodings_are_reported_and_undone() -> None:
    nal = b"\x65\x88\x84\x00" * 10
    tracks = (track(1, "V_MPEG4/ISO/AVC", compression(3, b"\x00\x00\x00\x01"))
              + track(2, "V_VP8", binary_element(0x63A2, zlib.compress(b"private")), compression(0, scope=3))
              + track(3, "V_VP9", master(0x6D80, [master(0x6240, [uint_element(0x5033, 1),
                                                                   master(0x5035, [uint_element(0x47E1, 5)])])])))
    data = fragment(tracks, block(1, 0, nal) + block(2, 1, zlib.compress(nal * 100)) + block(3, 2, b"sealed"))
    seen: List[kvs_parser.TrackInfo] = []
    frames: List[kvs_parser.ParsedFrame] = []
    parser = KVSStreamParser(on_frame=frames.append, on_tracks=seen.extend)
    parser.parse(data)
    parser.close()
    assert bytes(frames[0]) == b"\x00\x00\x00\x01" + nal and not frames[0].is_content_encoded
    assert bytes(frames[1]) == nal * 100 and not frames[1].is_content_encoded
    assert bytes(frames[2]) == b"sealed" and frames[2].is_content_encoded
    stripping, = seen[0].content_encodings
    assert (stripping.order, stripping.scope, stripping.type, stripping.compression_algorithm) == (0, 1, 0, 3)
    assert stripping.compression_settings == b"\x00\x00\x00\x01" and not stripping.encrypted
    assert seen[1].content_encodings[0].scope == 3 and seen[1].codec_private == b"private"
    sealed, = seen[2].content_encodings
    assert sealed.encrypted and sealed.type == 1 and sealed.encryption_algorithm == 5
    assert "compression_algorithm=3" in repr(stripping)


def test_codec_delay_seek_pre_roll_and_lace_times() -> None:
    opus = track(1, "A_OPUS", uint_element(0x56AA, 6_500_000), uint_element(0x56BB, 80_000_000),
                 uint_element(0x23E383, 20_000_000))
    laced = bytes([2]) + b"\x01" * 9  # fixed lacing: 3 laces of 3 bytes
    data = fragment(opus + track(2, "A_AAC"), block(1, 10, laced, 0x84) + block(2, 20, laced, 0x84))
    seen: List[kvs_parser.TrackInfo] = []
    frames = []
    parser = KVSStreamParser(on_frame=frames.append, on_tracks=seen.extend)
    parser.parse(data)
    parser.close()
    assert (seen[0].codec_delay_ns, seen[0].seek_pre_roll_ns) == (6_500_000, 80_000_000)
    assert (seen[1].codec_delay_ns, seen[1].seek_pre_roll_ns) == (None, None)
    assert [(f.track_number, f.lace_index, f.pts_ms) for f in frames] == [
        (1, 0, 510), (1, 1, 530), (1, 2, 550), (2, 0, 520), (2, 1, 520), (2, 2, 520)]


@pytest.mark.parametrize(("timecode_scale", "cluster", "block_ticks", "step_ns"), [
    (20_833, 4_000, 4_080, 10_666_667),  # 1/48 kHz ticks: the block at 84.998640 ms
    (1_000, 84_000, 84_998, 10_667_000),  # microsecond ticks: the block at 84.998 ms
])
def test_lace_times_are_summed_in_ns_and_rounded_once(timecode_scale: int, cluster: int, block_ticks: int,
                                                      step_ns: int) -> None:
    """Lace 1 is at 84.998 + 10.667 = 95.665 ms: 95, where adding 10 ms to the block's 84 gave 94."""
    track = TrackSpec(1, "A_OPUS", TRACK_TYPE_AUDIO, default_duration_ns=step_ns, sampling_frequency=48_000.0,
                      channels=2)
    laced = Block(1, block_ticks, (b"\x01" * 8,) * 4, lacing=Lacing.FIXED)
    writer = FragmentWriter((track,), timecode_scale=timecode_scale)
    frames = list(kvs_parser.iter_frames(writer.fragment([laced], cluster_timecode=cluster)))
    block_ns = block_ticks * timecode_scale
    assert [f.lace_index for f in frames] == [0, 1, 2, 3]
    assert [f.pts_ms for f in frames] == [(block_ns + k * step_ns) // 1_000_000 for k in range(4)]
    assert [f.pts_ms for f in frames] == [84, 95, 106, 116]
