"""Hostile inputs: each gives one clear typed error (code, offset, element_path), the parser's own
memory accounting stays within the configured limits, and a valid fragment after the damage is still
parsed (the parser resynchronises on the next EBML header, Segment or Cluster)."""

from __future__ import annotations

from typing import List, Optional, Tuple

import pytest

from kvs_parser import KVSStreamParser, LimitExceededError, ParseError, ParserLimits, TruncatedStreamError
from test_properties import (
    BLOCK,
    BLOCK_GROUP,
    CLUSTER,
    INFO,
    SEGMENT,
    SIMPLE_BLOCK,
    SIMPLE_TAG,
    TAG,
    TAGS,
    TRACKS,
    VOID,
    Recording,
    block_body,
    ebml_header,
    element,
    element_id,
    kvs_fragment,
    recording_parser,
    simple_block,
    simple_tag,
    string,
    tags,
    uint,
    unknown_size,
)

LIMITS = ParserLimits(
    max_frame_size=64 << 10,
    max_buffered_element=16 << 10,
    max_element_size=1 << 20,
    max_segment_size=1 << 24,
    max_fragment_metadata=64 << 10,
)
# What the parser may hold under LIMITS: a frame being assembled and a BlockGroup's payload, one
# buffered value, the metadata budget, plus bookkeeping (element stack, tag and track vectors).
MEMORY_BOUND = 2 * (64 << 10) + (16 << 10) + (64 << 10) + (64 << 10)

GOOD_FRAMES = [b"good-0" * 10, b"good-1" * 20, b"good-2" * 5]
HEAD = ebml_header() + unknown_size(SEGMENT)  # an open KVS fragment to put damage into
MAX_SIZE = (1 << 56) - 2  # the largest known size an 8-byte vint can hold


def good_fragment() -> bytes:
    return kvs_fragment("999", 5000, GOOD_FRAMES)


def run(
    bad: bytes,
    limits: ParserLimits = LIMITS,
    chunk: int = 4096,
    prefix: bytes = HEAD,
    tail: Optional[bytes] = None,
) -> Tuple[Recording, KVSStreamParser, int]:
    """Parses prefix + bad + a good fragment in `chunk`-byte pieces; returns where `bad` starts."""
    parser, rec = recording_parser(limits)
    stream = prefix + bad + (good_fragment() if tail is None else tail)
    for at in range(0, len(stream), chunk):
        parser.parse(stream[at : at + chunk])
        assert parser.memory_in_use <= MEMORY_BOUND
    parser.close()
    assert parser.peak_memory <= MEMORY_BOUND
    return rec, parser, len(prefix)


def assert_resynced(rec: Recording) -> None:
    """The good fragment after the damage came through whole."""
    assert [payload for _, payload in rec.frames[-len(GOOD_FRAMES) :]] == GOOD_FRAMES
    good = [e for e in rec.events if e[0] == "frame" and e[5] == "999"]
    assert len(good) == len(GOOD_FRAMES)
    end = rec.events[-1]
    assert end[0] == "end" and end[6] == "999" and end[5] == len(GOOD_FRAMES)
    assert end[4] is True  # the good fragment is complete


def only_error(rec: Recording) -> ParseError:
    assert len(rec.errors) == 1, rec.errors
    return rec.errors[0]


# ---- sizes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eid", "path"),
    [(VOID, "Segment/Void"), (CLUSTER, "Segment/Cluster"), (TAGS, "Segment/Tags")],
)
def test_size_near_2_56_is_too_large(eid: int, path: str) -> None:
    bad = element_id(eid) + MAX_SIZE.to_bytes(7, "big").rjust(8, b"\x01")
    assert bad[-8] == 0x01  # an 8-byte vint: marker byte then 2^56 - 2
    rec, _, at = run(bad + b"\x00" * 100)
    error = only_error(rec)
    assert isinstance(error, LimitExceededError)
    assert (error.code, error.offset, error.element_path) == ("element_too_large", at, path)
    assert str(MAX_SIZE) in error.message
    assert_resynced(rec)


def test_an_element_that_is_no_segment_child_ends_the_unknown_size_segment() -> None:
    # RFC 8794 section 6.2: 0x4DBB (Seek) cannot be a child of a Segment, so the unknown-size Segment
    # ends there; at the top level it is garbage, resynchronised past, whatever size it claims.
    bad = element_id(0x4DBB) + (1000).to_bytes(7, "big").rjust(8, b"\x01")
    rec, _, at = run(bad + b"\x00" * 100)
    error = only_error(rec)
    assert (error.code, error.offset, error.element_path) == ("unexpected_element", at, "0x4DBB")
    assert_resynced(rec)


def test_block_claiming_2_56_inside_a_cluster() -> None:
    bad = unknown_size(CLUSTER) + uint(0xE7, 0) + bytes([SIMPLE_BLOCK]) + MAX_SIZE.to_bytes(7, "big").rjust(8, b"\x01")
    rec, _, at = run(bad)
    error = only_error(rec)
    assert isinstance(error, LimitExceededError)
    assert error.code == "element_too_large"
    assert error.offset == at + len(unknown_size(CLUSTER)) + len(uint(0xE7, 0))
    assert error.element_path == "Segment/Cluster/SimpleBlock"
    assert_resynced(rec)


def test_element_overflowing_its_parent() -> None:
    bad = element(TRACKS, b"\x86\x88abc")  # a CodecID of 8 bytes with 3 left in its parent
    rec, _, at = run(bad)
    error = only_error(rec)
    assert type(error) is ParseError
    assert error.code == "element_overflows_parent"
    assert error.element_path == "Segment/Tracks/CodecID"
    assert error.offset == at + len(element(TRACKS, b""))
    assert_resynced(rec)


# ---- nesting ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_depth", [8, 32])
def test_deeply_nested_masters(max_depth: int) -> None:
    tag = simple_tag("x", "y")
    for _ in range(200):
        tag = element(SIMPLE_TAG, tag)
    bad = element(TAGS, element(TAG, tag))
    limits = ParserLimits(max_depth=max_depth, max_fragment_metadata=64 << 10, max_frame_size=64 << 10)
    rec, _, at = run(bad, limits=limits)
    error = only_error(rec)
    assert isinstance(error, LimitExceededError)
    assert error.code == "too_deep"
    # Segment, Tags, Tag and SimpleTags fill the stack; the next SimpleTag is refused.
    header = 2 + 8
    assert error.offset == at + (4 + 8) + header + header * (max_depth - 3)
    assert error.element_path == "/".join(["Segment", "Tags", "Tag"] + ["SimpleTag"] * (max_depth - 2))
    assert_resynced(rec)


# ---- vints ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "code", "path"),
    [
        (b"\x00\x81\x00", "invalid_vint", "Segment"),  # ID with no length marker (length 0)
        (b"\xec\x00\x00\x00\x00\x00\x00\x00\x00\x01", "invalid_vint", "Segment/Void"),  # size of length 9
        (b"\x08\x00\x00\x00\x00\x81\x00", "invalid_id", "Segment"),  # ID of 5 bytes
    ],
)
def test_invalid_vints(bad: bytes, code: str, path: str) -> None:
    for chunk in (1, 7, 4096):
        rec, _, at = run(bad, chunk=chunk)
        error = only_error(rec)
        assert type(error) is ParseError
        assert (error.code, error.offset, error.element_path) == (code, at, path)
        assert_resynced(rec)


# ---- blocks -----------------------------------------------------------------------------------------

LACED = [
    # Xiph: 256 frames whose sizes (255 + 255 + ...) run past the block.
    ("xiph", 0x02, bytes([255]) + b"\xff" * 40),
    # EBML: a first size of 2^56 - 2, then signed deltas.
    ("ebml-huge", 0x06, b"\x02\x01\xff\xff\xff\xff\xff\xff\xfe\x81\x81" + b"x" * 8),
    # EBML: deltas that drive the size negative.
    ("ebml-negative", 0x06, b"\x02\x85\x80\x00" + b"x" * 8),
    # EBML: sizes that each fit but add up to more than the block.
    ("ebml-sum", 0x06, b"\x03\x88\xbf\x81" + b"x" * 12),
    # Fixed: 256 frames that do not divide 10 bytes.
    ("fixed", 0x04, b"\xff" + b"x" * 10),
    # A lace count and nothing else.
    ("count-only", 0x02, b"\x05"),
]


@pytest.mark.parametrize(("name", "flags", "body"), LACED, ids=[case[0] for case in LACED])
def test_block_lacing_that_overflows(name: str, flags: int, body: bytes) -> None:
    block = element(SIMPLE_BLOCK, block_body(1, 0, 0x80 | flags, body))
    prefix = unknown_size(CLUSTER) + uint(0xE7, 0)
    rec, _, at = run(prefix + block + simple_block(1, 10, False, b"after"))
    error = only_error(rec)
    assert type(error) is ParseError
    assert error.code == "invalid_block", name
    assert error.offset == at + len(prefix)
    assert error.element_path == "Segment/Cluster/SimpleBlock"
    assert rec.frames[0][1] == b"after"  # the next block in the same Cluster is parsed
    assert_resynced(rec)


def test_block_group_lacing_that_overflows() -> None:
    group = element(BLOCK_GROUP, element(BLOCK, block_body(1, 0, 0x02, bytes([200]) + b"\xff" * 9)))
    rec, _, at = run(unknown_size(CLUSTER) + group)
    error = only_error(rec)
    assert error.code == "invalid_block"
    assert error.element_path == "Segment/Cluster/Block"
    assert error.offset == at + len(unknown_size(CLUSTER)) + len(element(BLOCK_GROUP, b""))
    assert_resynced(rec)


@pytest.mark.parametrize("laced", [False, True])
def test_frame_larger_than_the_limit(laced: bool) -> None:
    limits = ParserLimits(max_frame_size=1000)
    flags = 0x80 | (0x04 if laced else 0)
    big = element(SIMPLE_BLOCK, block_body(1, 0, flags, (b"\x00" if laced else b"") + b"B" * 5000))
    prefix = unknown_size(CLUSTER) + uint(0xE7, 0)
    rec, parser, at = run(prefix + simple_block(1, 1, True, b"s" * 1000) + big, limits=limits, chunk=333)
    error = only_error(rec)
    assert isinstance(error, LimitExceededError)
    assert error.code == "frame_too_large"
    assert error.offset == at + len(prefix) + len(simple_block(1, 1, True, b"s" * 1000))
    assert error.element_path == "Segment/Cluster/SimpleBlock"
    assert "1000" in error.message
    assert rec.frames[0][1] == b"s" * 1000  # a frame of exactly the limit passes
    assert parser.peak_memory < 4 * 1000 + (64 << 10)  # never buffered the 5000 bytes
    assert_resynced(rec)


def test_frame_too_large_raises_without_on_error() -> None:
    parser = KVSStreamParser(limits=ParserLimits(max_frame_size=100))
    frames: List[bytes] = []
    parser.set_callback("on_frame", lambda f: frames.append(bytes(f)))
    stream = HEAD + unknown_size(CLUSTER) + simple_block(1, 0, True, b"x" * 101) + simple_block(1, 1, False, b"ok")
    with pytest.raises(LimitExceededError) as info:
        parser.parse(stream)
    assert info.value.code == "frame_too_large"
    assert parser.bytes_consumed == len(stream)  # the whole chunk was consumed first
    assert frames == [b"ok"]  # and its events delivered
    parser.close()


# ---- endless elements ----------------------------------------------------------------------------


def test_unknown_size_void_is_refused() -> None:
    rec, _, at = run(unknown_size(VOID) + b"\x00" * 5000)
    error = only_error(rec)
    assert (error.code, error.offset, error.element_path) == ("unknown_size_not_allowed", at, "Segment/Void")
    assert_resynced(rec)


def test_endless_void_is_skipped_in_bounded_memory() -> None:
    parser, rec = recording_parser(LIMITS)
    void = element_id(VOID) + (1_000_000).to_bytes(7, "big").rjust(8, b"\x01")  # under max_element_size
    parser.parse(HEAD + void)
    zeros = bytes(64 << 10)
    for _ in range(10):  # 640 KiB of the Void's body: skipped, never buffered
        parser.parse(zeros)
    assert rec.errors == []
    assert parser.peak_memory < 4096
    with pytest.raises(TruncatedStreamError) as info:
        parser.set_callback("on_error", None)
        parser.close()
    assert (info.value.code, info.value.offset, info.value.element_path) == ("truncated", len(HEAD), "Segment/Void")


@pytest.mark.parametrize(("eid", "path"), [(TRACKS, "Segment/Tracks"), (TAGS, "Segment/Tags"), (INFO, "Segment/Info")])
def test_unknown_size_master_that_must_be_sized(eid: int, path: str) -> None:
    rec, _, at = run(unknown_size(eid) + uint(0x2AD7B1, 1) * 50)
    error = only_error(rec)
    assert isinstance(error, ParseError)
    assert (error.code, error.offset, error.element_path) == ("unknown_size_not_allowed", at, path)
    assert_resynced(rec)


def test_unknown_size_cluster_that_never_ends() -> None:
    """Legal in KVS: frames keep coming in bounded memory, the next fragment's header ends it."""
    parser, rec = recording_parser(LIMITS)
    parser.parse(HEAD + unknown_size(CLUSTER) + uint(0xE7, 0))
    block = simple_block(1, 0, False, b"f" * 4000)
    for _ in range(100):
        parser.parse(block * 10)  # 4 MB of frames
        assert parser.memory_in_use <= MEMORY_BOUND
    assert len(rec.frames) == 1000 and rec.errors == []
    assert parser.peak_memory < 16 << 10
    parser.parse(good_fragment())
    parser.close()
    assert rec.errors == []
    assert_resynced(rec)


def test_unknown_size_cluster_cut_off_is_not_an_error_but_a_known_size_one_is() -> None:
    parser, rec = recording_parser(LIMITS)
    parser.parse(HEAD + unknown_size(CLUSTER) + simple_block(1, 0, True, b"x"))
    parser.close()
    assert rec.errors == [] and rec.events[-1][4] is True
    parser, rec = recording_parser(LIMITS)
    parser.parse(HEAD + element(CLUSTER, simple_block(1, 0, True, b"x") * 2)[:-5])
    parser.close()
    error = only_error(rec)
    assert isinstance(error, TruncatedStreamError)
    assert error.offset is not None and error.offset >= len(HEAD)
    assert rec.events[-1][4] is False  # the fragment is marked incomplete


# ---- zeros ------------------------------------------------------------------------------------------


def test_stream_of_zeros() -> None:
    first = kvs_fragment("1", 0, [b"a"])
    rec, parser, at = run(bytes(4 << 20), prefix=first, chunk=1 << 16)
    error = only_error(rec)
    assert type(error) is ParseError
    assert (error.code, error.offset, error.element_path) == ("invalid_vint", at, "Segment")
    assert parser.peak_memory < 4096
    assert parser.bytes_consumed == len(first) + (4 << 20) + len(good_fragment())
    assert_resynced(rec)


def test_zeros_from_the_first_byte_raise_once() -> None:
    parser = KVSStreamParser()
    with pytest.raises(ParseError) as info:
        parser.parse(bytes(1 << 20))
    assert (info.value.code, info.value.offset) == ("invalid_vint", 0)
    parser.parse(bytes(1 << 20))  # still scanning: no second error
    frames: List[bytes] = []
    parser.set_callback("on_frame", lambda f: frames.append(bytes(f)))
    parser.parse(good_fragment())
    parser.close()
    assert frames == GOOD_FRAMES
    assert parser.error_count == 1


# ---- buffered values and metadata -------------------------------------------------------------------


def test_value_larger_than_the_buffered_element_limit() -> None:
    entry = element(0xAE, uint(0xD7, 1) + element(0x63A2, b"p" * (20 << 10)) + string(0x86, "V_VP8"))
    bad = element(TRACKS, entry)
    rec, parser, at = run(bad)
    error = only_error(rec)
    assert isinstance(error, LimitExceededError)
    assert error.code == "element_too_large"
    assert error.element_path == "Segment/Tracks/TrackEntry/CodecPrivate"
    assert error.offset == at + len(element(TRACKS, b"")) + len(element(0xAE, b"")) + len(uint(0xD7, 1))
    assert ("tracks", ("V_VP8",)) in rec.events  # the rest of the TrackEntry is kept
    assert parser.peak_memory < (20 << 10)  # never buffered
    assert_resynced(rec)


def test_tags_over_the_metadata_budget() -> None:
    limits = ParserLimits(max_fragment_metadata=1000)
    bad = tags([("AWS_TAG", "v" * 300)] * 10)
    rec, parser, at = run(bad, limits=limits)
    assert rec.errors and all(isinstance(e, LimitExceededError) for e in rec.errors)
    assert {e.code for e in rec.errors} == {"limit_exceeded"}
    assert all(e.element_path.startswith("Segment/Tags/Tag/SimpleTag/") for e in rec.errors)
    assert all(e.offset is not None and e.offset > at for e in rec.errors)
    assert parser.peak_memory < 1000 + (32 << 10)
    assert_resynced(rec)
