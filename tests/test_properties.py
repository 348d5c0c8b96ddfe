"""Properties of the parser over generated valid KVS streams (hypothesis).

- Any chunking of a stream gives exactly the same events as one parse() of it.
- A stream cut anywhere delivers every frame whose block ended before the cut, nothing else, and
  close() reports the cut as a TruncatedStreamError when it falls inside an element.

The small EBML builder here is also used by test_hostile_inputs.py and test_binding_fuzz.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kvs_parser
from kvs_parser import KVSStreamParser, ParserLimits, TruncatedStreamError

# ---- a small EBML / KVS stream builder ------------------------------------------------------------

EBML = 0x1A45DFA3
SEGMENT = 0x18538067
CLUSTER = 0x1F43B675
INFO = 0x1549A966
TIMECODE_SCALE = 0x2AD7B1
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_TYPE = 0x83
CODEC_ID = 0x86
TAGS = 0x1254C367
TAG = 0x7373
SIMPLE_TAG = 0x67C8
TAG_NAME = 0x45A3
TAG_STRING = 0x4487
TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
VOID = 0xEC
UNKNOWN = b"\x01\xff\xff\xff\xff\xff\xff\xff"


def vint(value: int, length: int = 8) -> bytes:
    return ((1 << (7 * length)) | value).to_bytes(length, "big")


def element_id(eid: int) -> bytes:
    return eid.to_bytes((eid.bit_length() + 7) // 8, "big")


def element(eid: int, body: bytes) -> bytes:
    return element_id(eid) + vint(len(body)) + body


def unknown_size(eid: int) -> bytes:
    return element_id(eid) + UNKNOWN


def uint(eid: int, value: int) -> bytes:
    return element(eid, value.to_bytes(8, "big"))


def string(eid: int, value: str) -> bytes:
    return element(eid, value.encode())


def block_body(track: int, timecode: int, flags: int, payload: bytes) -> bytes:
    return bytes([0x80 | track]) + timecode.to_bytes(2, "big", signed=True) + bytes([flags]) + payload


def simple_block(track: int, timecode: int, key: bool, payload: bytes) -> bytes:
    return element(SIMPLE_BLOCK, block_body(track, timecode, 0x80 if key else 0, payload))


def simple_tag(name: str, value: str) -> bytes:
    return element(SIMPLE_TAG, string(TAG_NAME, name) + string(TAG_STRING, value))


def ebml_header() -> bytes:
    return element(EBML, string(0x4282, "matroska"))


def tags(pairs: Sequence[Tuple[str, str]]) -> bytes:
    return element(TAGS, element(TAG, b"".join(simple_tag(n, v) for n, v in pairs)))


def kvs_fragment(number: str, cluster_timecode: int, frames: Sequence[bytes], known_cluster: bool = False) -> bytes:
    """One KVS fragment as GetMedia sends it: unknown-size Segment, tags around one Cluster."""
    blocks = b"".join(simple_block(1, 33 * k, k == 0, payload) for k, payload in enumerate(frames))
    cluster_body = uint(TIMECODE, cluster_timecode) + blocks
    cluster = element(CLUSTER, cluster_body) if known_cluster else unknown_size(CLUSTER) + cluster_body
    track = element(TRACK_ENTRY, uint(TRACK_NUMBER, 1) + uint(TRACK_TYPE, 1) + string(CODEC_ID, "V_MPEG4/ISO/AVC"))
    return (
        ebml_header()
        + unknown_size(SEGMENT)
        + element(INFO, uint(TIMECODE_SCALE, 1_000_000))
        + element(TRACKS, track)
        + tags([("AWS_KINESISVIDEO_FRAGMENT_NUMBER", number), ("AWS_KINESISVIDEO_SERVER_TIMESTAMP", "1511852109.126")])
        + cluster
        + tags([("AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", "15")])
    )


# ---- recording events -----------------------------------------------------------------------------


@dataclass
class Recording:
    events: List[Tuple[Any, ...]] = field(default_factory=list)
    frames: List[Tuple[int, bytes]] = field(default_factory=list)  # (block_offset, payload)
    errors: List[kvs_parser.ParseError] = field(default_factory=list)


def recording_parser(limits: Optional[ParserLimits] = None, collect_errors: bool = True) -> Tuple[Any, Recording]:
    rec = Recording()

    def on_frame(f: kvs_parser.ParsedFrame) -> None:
        payload = bytes(f)
        rec.frames.append((f.block_offset, payload))
        rec.events.append(
            ("frame", f.track_number, f.pts_ms, f.is_keyframe, f.block_offset, f.fragment_number, payload)
        )

    def on_error(e: kvs_parser.ParseError) -> None:
        rec.errors.append(e)
        rec.events.append(("error", e.code, e.offset, e.element_path))

    parser = KVSStreamParser(
        on_frame=on_frame,
        on_fragment_start=lambda s: rec.events.append(("start", s.index, s.offset)),
        on_fragment_end=lambda m: rec.events.append(
            ("end", m.index, m.start_offset, m.end_offset, m.complete, m.frame_count, m.fragment_number)
        ),
        on_tracks=lambda ts: rec.events.append(("tracks", tuple(t.codec_id for t in ts))),
        on_tags=lambda ts: rec.events.append(("tags", tuple((t.name, t.value) for t in ts))),
        on_error=on_error if collect_errors else None,
        limits=limits,
    )
    return parser, rec


def parse_in_chunks(stream: bytes, cuts: Sequence[int] = (), limits: Optional[ParserLimits] = None) -> Recording:
    parser, rec = recording_parser(limits)
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(stream))), len(stream)]
    for start, end in zip(bounds, bounds[1:]):
        parser.parse(stream[start:end])
    parser.close()
    return rec


def block_end(stream: bytes, offset: int) -> int:
    """Offset just past the (1-byte-ID) block element at `offset`."""
    first = stream[offset + 1]
    length = 9 - first.bit_length()
    size = int.from_bytes(stream[offset + 1 : offset + 1 + length], "big") & ((1 << (7 * length)) - 1)
    return offset + 1 + length + size


# ---- strategies -----------------------------------------------------------------------------------

payloads = st.lists(st.binary(min_size=0, max_size=48), min_size=0, max_size=5)


@st.composite
def kvs_streams(draw: st.DrawFn) -> bytes:
    fragments = draw(st.lists(st.tuples(payloads, st.booleans()), min_size=1, max_size=3))
    return b"".join(
        kvs_fragment(str(1000 + k), 100 * k, frames, known_cluster=known) for k, (frames, known) in enumerate(fragments)
    )


@st.composite
def stream_and_cuts(draw: st.DrawFn) -> Tuple[bytes, List[int]]:
    stream = draw(kvs_streams())
    cuts = draw(st.lists(st.integers(min_value=1, max_value=len(stream) - 1), max_size=12))
    return stream, cuts


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- properties -----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(stream_and_cuts())
def test_any_chunking_gives_the_same_events(case: Tuple[bytes, List[int]]) -> None:
    stream, cuts = case
    whole = parse_in_chunks(stream)
    assert whole.errors == []
    assert parse_in_chunks(stream, cuts).events == whole.events


@PROPERTY_SETTINGS
@given(kvs_streams())
def test_one_byte_feeds_give_the_same_events(stream: bytes) -> None:
    assert parse_in_chunks(stream, range(1, len(stream))).events == parse_in_chunks(stream).events


@PROPERTY_SETTINGS
@given(kvs_streams(), st.data())
def test_truncated_stream_delivers_frames_before_the_cut(stream: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=1, max_value=len(stream) - 1), label="cut")
    full = parse_in_chunks(stream)
    expected = [frame for frame in full.frames if block_end(stream, frame[0]) <= cut]

    parser, rec = recording_parser(collect_errors=False)
    parser.parse(stream[:cut])
    assert rec.frames == expected  # delivered as soon as each block was complete, before close()
    inside_a_block = any(offset < cut < block_end(stream, offset) for offset, _ in full.frames)
    try:
        parser.close()
    except TruncatedStreamError as error:
        assert error.code == "truncated"
        assert error.offset is not None and error.offset < cut
        # The open elements (empty when the cut falls in the first header of the stream).
        assert error.element_path == "" or error.element_path.split("/")[0] in ("EBML", "Segment")
    else:
        assert not inside_a_block, "a cut inside a block must be reported"
    assert rec.frames == expected
    assert parser.closed


@pytest.mark.parametrize("known_cluster", [False, True])
def test_every_cut_of_one_fragment(known_cluster: bool) -> None:
    """Exhaustively: every cut point of a small fragment behaves like the property says."""
    stream = kvs_fragment("7", 0, [b"a" * 5, b"b" * 7, b""], known_cluster=known_cluster)
    full = parse_in_chunks(stream)
    assert len(full.frames) == 3
    for cut in range(1, len(stream)):
        parser, rec = recording_parser()
        parser.parse(stream[:cut])
        parser.close()
        assert rec.frames == [f for f in full.frames if block_end(stream, f[0]) <= cut], cut
        assert all(isinstance(e, TruncatedStreamError) for e in rec.errors), cut
        assert len(rec.errors) <= 1, cut
