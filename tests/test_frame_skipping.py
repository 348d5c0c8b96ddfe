"""Skipping what the caller does not want before any of it is copied: `tracks=`, `on_frame_begin`,
and no `on_frame` at all. Also what help() shows of the parser."""

from __future__ import annotations

import pydoc
from typing import List

import pytest

import kvs_parser
from kvs_parser import BlockHeader, KVSStreamParser
from kvs_parser.mkv import Block, FragmentInfo, FragmentWriter, TrackSpec, end_tags, start_tags

VIDEO = TrackSpec(number=1, codec_id="V_MPEG4/ISO/AVC", codec_private=b"\x01avcC", width=320, height=240)
AUDIO = TrackSpec(number=2, codec_id="A_AAC", track_type=2, sampling_frequency=48000.0, channels=2)
BIG = 1 << 20


def stream(fragments: int = 2) -> bytes:
    writer = FragmentWriter(tracks=(VIDEO, AUDIO))
    out = b""
    for index in range(fragments):
        frames = [Block(1, 1000 * index, b"v" * 60, keyframe=True), Block(2, 1000 * index + 5, b"a" * BIG),
                  Block(1, 1000 * index + 33, b"w" * 70, keyframe=False)]
        info = FragmentInfo(str(100 + index), 1_700_000_000_000 + index, 1_699_999_999_000 + index)
        out += writer.fragment(frames, start_tags(info), end_tags(10, str(100 + index)), 1000 * index)
    return out


def parse_bytewise(parser: KVSStreamParser, data: bytes) -> None:
    """One byte per parse(): whatever the parser reads of a frame, it has to buffer."""
    view = memoryview(data)
    for at in range(len(data)):
        parser.parse(view[at : at + 1])
    parser.close()


def test_tracks_reads_only_the_wanted_tracks_and_copies_nothing_else() -> None:
    frames: List[kvs_parser.ParsedFrame] = []
    parser = KVSStreamParser(on_frame=frames.append, tracks={1})
    assert parser.tracks == frozenset({1})
    parse_bytewise(parser, stream())
    assert [(f.track_number, f.pts_ms) for f in frames] == [(1, 0), (1, 33), (1, 1000), (1, 1033)]
    assert parser.peak_memory < 64 * 1024  # the two 1 MiB audio frames were never buffered

    everything = KVSStreamParser(on_frame=lambda f: None)
    parse_bytewise(everything, stream(1))
    assert everything.peak_memory >= BIG  # the same stream, read whole: the audio frame is held


def test_without_on_frame_no_payload_is_copied_but_frames_are_counted() -> None:
    ends: List[kvs_parser.FragmentMetadata] = []
    parser = KVSStreamParser(on_fragment_end=ends.append)
    parse_bytewise(parser, stream())
    assert [e.frame_count for e in ends] == [3, 3]
    assert parser.peak_memory < 64 * 1024


def test_on_frame_begin_sees_the_header_and_may_skip() -> None:
    headers: List[BlockHeader] = []
    frames: List[kvs_parser.ParsedFrame] = []

    def begin(header: BlockHeader) -> bool:
        headers.append(header)
        return header.payload_size < 1000  # skip the big ones by their size alone

    parser = KVSStreamParser(on_frame=frames.append, on_frame_begin=begin)
    parser.parse(stream())
    parser.close()
    assert [(h.track_number, h.pts_ms, h.payload_size) for h in headers] == [
        (1, 0, 60), (2, 5, BIG), (1, 33, 70), (1, 1000, 60), (2, 1005, BIG), (1, 1033, 70)]
    assert headers[0].is_keyframe and not headers[2].is_keyframe and headers[0].lacing == "none"
    assert [bytes(f)[:1] for f in frames] == [b"v", b"w", b"v", b"w"]
    assert "payload_size=60" in repr(headers[0])


def test_an_exception_in_on_frame_begin_skips_that_block_and_is_raised_after_the_chunk() -> None:
    frames: List[kvs_parser.ParsedFrame] = []
    ends: List[kvs_parser.FragmentMetadata] = []

    def begin(header: BlockHeader) -> bool:
        if header.track_number == 2:
            raise KeyError("no audio here")
        return True

    parser = KVSStreamParser(on_frame=frames.append, on_fragment_end=ends.append, on_frame_begin=begin)
    with pytest.raises(KeyError):
        parser.parse(stream(1))
    assert [f.track_number for f in frames] == [1, 1]  # everything else of the chunk was delivered
    parser.close()
    assert len(ends) == 1


def test_on_frame_begin_may_not_reenter_the_parser() -> None:
    parser = KVSStreamParser(on_frame=lambda f: None)
    parser.set_callback("frame_begin", lambda header: parser.parse(b""))
    with pytest.raises(RuntimeError, match="on_frame_begin"):
        parser.parse(stream(1))


def test_iter_frames_takes_tracks() -> None:
    assert [f.track_number for f in kvs_parser.iter_frames(stream(1), tracks=[2])] == [2]


def test_help_shows_the_real_name_arguments_and_types() -> None:
    text = pydoc.render_doc(kvs_parser.KVSStreamParser, renderer=pydoc.plaintext)
    assert "class KVSStreamParser" in text
    for argument in ("on_frame: collections.abc.Callable[[kvs_parser._kvsparser.ParsedFrame], None] | None = None",
                     "on_error: collections.abc.Callable[[kvs_parser.errors.ParseError], None] | None = None",
                     "limits: kvs_parser._kvsparser.ParserLimits | None = None",
                     "tracks: collections.abc.Iterable",
                     "on_frame_begin: collections.abc.Callable[[kvs_parser._kvsparser.BlockHeader], bool]"):
        assert argument in text
    assert "return False to skip the block" in text
    assert kvs_parser.KVSStreamParser.__name__ == "KVSStreamParser"
