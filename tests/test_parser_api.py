"""The Python API of the native parser: events, frame objects, the error and callback contracts."""

from __future__ import annotations

import hashlib
import random
import threading
from typing import Any, Iterator, List, Tuple

import numpy as np
import pytest

import kvs_parser
from kvs_parser import KVSStreamParser, ParseError, ParserClosedError, ParserLimits, TruncatedStreamError
from kvs_parser.mkv import (
    Block,
    FragmentInfo,
    FragmentWriter,
    Lacing,
    TrackSpec,
    end_tags,
    start_tags,
)

VIDEO = TrackSpec(number=1, codec_id="V_MPEG4/ISO/AVC", codec_private=b"\x01avcC", width=320, height=240)
AUDIO = TrackSpec(
    number=2,
    codec_id="A_AAC",
    track_type=2,
    codec_private=b"\x12\x10",
    name="Stereo",
    sampling_frequency=48000.0,
    channels=2,
)
FRAGMENT_NUMBER = "91343852333181432392682062607743920146159169392"


def kvs_fragment(writer: FragmentWriter, index: int, frames: List[Block], cluster_timecode: int = 0) -> bytes:
    number = str(int(FRAGMENT_NUMBER) + index)
    info = FragmentInfo(number, 1_700_000_000_000 + index * 2000, 1_699_999_999_000 + index * 2000)
    return writer.fragment(frames, start_tags(info), end_tags(100 + index, number), cluster_timecode)


def payload(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def video_frames(count: int, start: int = 0, step: int = 33) -> List[Block]:
    return [Block(1, start + k * step, payload(50 + k, k), keyframe=k == 0) for k in range(count)]


def chunkings(data: bytes) -> Iterator[Tuple[str, List[bytes]]]:
    yield "whole", [data]
    yield "bytewise", [data[k : k + 1] for k in range(len(data))]
    for seed in (1, 2, 3):
        rng = random.Random(seed)
        chunks, at = [], 0
        while at < len(data):
            n = rng.randint(1, 97)
            chunks.append(data[at : at + n])
            at += n
        yield f"random-{seed}", chunks


class Events:
    """Records every callback as (name, value) in order."""

    def __init__(self) -> None:
        self.log: List[Tuple[str, Any]] = []

    def callbacks(self) -> dict:
        return {
            name: (lambda value, name=name: self.log.append((name, value)))
            for name in (
                "on_frame",
                "on_fragment_start",
                "on_fragment_end",
                "on_tracks",
                "on_tags",
                "on_error",
            )
        }

    def of(self, name: str) -> List[Any]:
        return [value for kind, value in self.log if kind == name]


def frame_key(frame: kvs_parser.ParsedFrame) -> tuple:
    return (frame.track_number, frame.pts_ms, frame.is_keyframe, frame.lacing, bytes(frame.data))


def test_events_arrive_in_stream_order() -> None:
    writer = FragmentWriter(tracks=(VIDEO,))
    data = kvs_fragment(writer, 0, video_frames(3)) + kvs_fragment(writer, 1, video_frames(2, 2000), 2000)
    events = Events()
    parser = KVSStreamParser(**events.callbacks())
    parser.parse(data)
    parser.close()
    kinds = [kind for kind, _ in events.log]
    one = [
        "on_fragment_start",
        "on_tracks",
        "on_tags",
        "on_frame",
        "on_frame",
        "on_frame",
        "on_tags",
        "on_fragment_end",
    ]
    assert kinds[: len(one)] == one
    assert kinds.count("on_frame") == 5 and kinds.count("on_fragment_end") == 2
    first = events.of("on_fragment_end")[0]
    assert first.fragment_number == FRAGMENT_NUMBER
    assert first.producer_timestamp_ms == 1_699_999_999_000
    assert first.server_timestamp_ms == 1_700_000_000_000
    assert first.millis_behind_now == 100
    assert first.continuation_token == FRAGMENT_NUMBER
    assert first.complete and first.frame_count == 3 and not first.is_error
    assert first.tags_dict()["AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"] == "100"
    assert [t.codec_id for t in first.tracks] == ["V_MPEG4/ISO/AVC"]
    assert "FragmentMetadata(index=0" in repr(first)


def test_frame_attributes() -> None:
    writer = FragmentWriter(tracks=(VIDEO,), timecode_scale=100_000)  # 0.1 ms ticks
    frames = [
        Block(1, 500, b"key", keyframe=True),
        Block(1, 830, b"delta", keyframe=False, discardable=True, invisible=True),
    ]
    data = kvs_fragment(writer, 0, frames, cluster_timecode=500)
    got = list(kvs_parser.iter_frames(data))
    assert [bytes(f.data) for f in got] == [b"key", b"delta"]
    key, delta = got
    assert (key.cluster_timecode, key.timecode, key.pts_ms) == (500, 0, 50)
    assert (delta.timecode, delta.pts_ms) == (330, 83)
    assert key.is_keyframe and not delta.is_keyframe
    assert delta.is_discardable and delta.is_invisible and not key.is_invisible
    assert key.fragment_number == FRAGMENT_NUMBER
    assert key.producer_timestamp_ms == 1_699_999_999_000 and key.server_timestamp_ms == 1_700_000_000_000
    assert key.lacing == "none" and key.track_number == 1 and len(key) == 3 == key.size
    assert "pts_ms=50" in repr(key)


def test_frame_data_is_a_readonly_buffer_that_outlives_the_parser() -> None:
    writer = FragmentWriter(tracks=(VIDEO,))
    body = payload(4096, 7)
    frames: List[kvs_parser.ParsedFrame] = []
    parser = KVSStreamParser(on_frame=frames.append)
    parser.parse(kvs_fragment(writer, 0, [Block(1, 0, body)]))
    parser.close()
    del parser
    view = frames[0].data
    assert view.readonly and view.nbytes == 4096
    array = np.frombuffer(frames[0], dtype=np.uint8)  # the buffer protocol: no copy
    assert array.ctypes.data == np.frombuffer(view, dtype=np.uint8).ctypes.data
    del frames[:]
    assert hashlib.sha256(view).digest() == hashlib.sha256(body).digest()  # the view keeps the frame alive
    with pytest.raises(TypeError):
        view[0] = 1


@pytest.mark.parametrize("block_groups", [False, True])
@pytest.mark.parametrize("known_cluster_size", [False, True])
def test_block_groups_lacing_and_tracks_in_any_chunking(block_groups: bool, known_cluster_size: bool) -> None:
    writer = FragmentWriter(tracks=(VIDEO, AUDIO), block_groups=block_groups, known_cluster_size=known_cluster_size)
    written = [
        Block(1, 0, payload(300, 1), keyframe=True),
        Block(2, 0, (payload(10, 2), payload(300, 3), payload(7, 4)), lacing=Lacing.XIPH),
        Block(1, 33, payload(40, 5), keyframe=False),
        Block(2, 21, (payload(16, 6),) * 3, lacing=Lacing.FIXED),
        Block(2, 42, (payload(5, 7), payload(700, 8), payload(1, 9), payload(70, 10)), lacing=Lacing.EBML),
        Block(1, 66, payload(20, 11), keyframe=False, duration=33),
    ]
    data = kvs_fragment(writer, 0, written)
    expected = []
    for f in written:
        in_group = block_groups or f.duration is not None
        for lace in f.laces:
            expected.append((f.track, f.timecode, f.keyframe, f.lacing.name.lower(), lace, in_group))
    results = {}
    for name, chunks in chunkings(data):
        got = list(kvs_parser.iter_frames(chunks))
        results[name] = [
            (g.track_number, g.pts_ms, g.is_keyframe, g.lacing, bytes(g.data), g.in_block_group) for g in got
        ]
        assert results[name] == expected, name
    durations = [g.duration for g in kvs_parser.iter_frames(data)]
    assert durations[-1] == 33
    tracks = next(kvs_parser.iter_fragments(data)).tracks
    assert [(t.number, t.type, t.name) for t in tracks] == [(1, 1, ""), (2, 2, "Stereo")]
    assert (tracks[0].pixel_width, tracks[0].pixel_height, tracks[0].codec_private) == (320, 240, b"\x01avcC")
    assert (tracks[1].sampling_frequency, tracks[1].channels) == (48000.0, 2)


def test_a_frame_is_delivered_with_its_last_byte() -> None:
    writer = FragmentWriter(tracks=(VIDEO,), known_cluster_size=False)
    body = payload(1000, 3)
    data = kvs_fragment(writer, 0, [Block(1, 0, body), Block(1, 33, payload(10, 4), keyframe=False)])
    end_of_first = data.index(body) + len(body)
    frames: List[kvs_parser.ParsedFrame] = []
    parser = KVSStreamParser(on_frame=frames.append)
    parser.parse(data[: end_of_first - 1])
    assert frames == []
    parser.parse(data[end_of_first - 1 : end_of_first])
    assert len(frames) == 1 and bytes(frames[0].data) == body


def corrupt_stream() -> Tuple[bytes, int]:
    """Two fragments with garbage between them; returns the stream and where the garbage starts."""
    writer = FragmentWriter(tracks=(VIDEO,))
    first = kvs_fragment(writer, 0, video_frames(2))
    garbage = b"\x00\x00\x00\x00"
    return first + garbage + kvs_fragment(writer, 1, video_frames(3, 2000), 2000), len(first)


def test_with_on_error_parsing_continues_in_the_same_call() -> None:
    data, bad_at = corrupt_stream()
    events = Events()
    parser = KVSStreamParser(**events.callbacks())
    parser.parse(data)
    parser.close()
    errors = events.of("on_error")
    assert len(errors) == 1 and isinstance(errors[0], ParseError) and isinstance(errors[0], ValueError)
    assert errors[0].offset == bad_at and errors[0].code == "invalid_vint"
    assert len(events.of("on_frame")) == 5  # the second fragment was recovered


def test_without_on_error_the_error_is_raised_after_the_whole_chunk() -> None:
    data, bad_at = corrupt_stream()
    frames: List[kvs_parser.ParsedFrame] = []
    parser = KVSStreamParser(on_frame=frames.append)
    with pytest.raises(ParseError) as caught:
        parser.parse(data)
    assert caught.value.offset == bad_at
    assert len(frames) == 5  # frames after the corruption, in the same chunk, were delivered first
    assert parser.bytes_consumed == len(data)
    parser.close()  # nothing pending: the stream ended cleanly after the resync


def test_next_parse_carries_on_from_the_resync_point() -> None:
    data, bad_at = corrupt_stream()
    frames: List[kvs_parser.ParsedFrame] = []
    parser = KVSStreamParser(on_frame=frames.append)
    with pytest.raises(ParseError):
        parser.parse(data[: bad_at + 10])
    parser.parse(data[bad_at + 10 :])
    parser.close()
    assert len(frames) == 5


def test_truncation_is_raised_at_close_after_complete_frames() -> None:
    writer = FragmentWriter(tracks=(VIDEO,))
    data = kvs_fragment(writer, 0, video_frames(4))
    body = video_frames(4)[3].data
    cut = data.index(body) + 5
    frames = []
    with pytest.raises(TruncatedStreamError) as caught:
        for frame in kvs_parser.iter_frames(data[:cut]):
            frames.append(frame)
    assert len(frames) == 3
    assert caught.value.code == "truncated" and caught.value.element_path.endswith("SimpleBlock")
    assert 0 < caught.value.offset < cut


def test_a_raising_callback_loses_no_event() -> None:
    writer = FragmentWriter(tracks=(VIDEO,))
    data = kvs_fragment(writer, 0, video_frames(4))
    seen: List[int] = []

    def on_frame(frame: kvs_parser.ParsedFrame) -> None:
        seen.append(frame.pts_ms)
        if len(seen) == 2:
            raise RuntimeError("user code failed")

    parser = KVSStreamParser(on_frame=on_frame)
    with pytest.raises(RuntimeError, match="user code failed"):
        parser.parse(data)
    assert seen == [0, 33] and parser.pending_events > 0
    parser.flush()
    parser.close()
    assert seen == [0, 33, 66, 99]


def test_reentrant_parse_and_close_from_a_callback_keep_order() -> None:
    writer = FragmentWriter(tracks=(VIDEO,))
    data = kvs_fragment(writer, 0, video_frames(3)) + kvs_fragment(writer, 1, video_frames(3, 2000), 2000)
    half = len(data) // 2
    order: List[int] = []
    parser = KVSStreamParser()

    def on_frame(frame: kvs_parser.ParsedFrame) -> None:
        order.append(frame.pts_ms)
        if len(order) == 1:
            parser.parse(data[half:])  # feeds the rest from inside a callback
            parser.close()

    parser.set_callback("frame", on_frame)
    parser.parse(data[:half])
    assert order == [0, 33, 66, 2000, 2033, 2066]
    assert parser.closed
    with pytest.raises(ParserClosedError):
        parser.parse(b"\x1a")


def test_set_callback_names() -> None:
    parser = KVSStreamParser()
    parser.set_callback("on_frame", print)
    parser.set_callback("fragment_end", print)
    with pytest.raises(ValueError, match="unknown event"):
        parser.set_callback("frames", print)


def test_limits() -> None:
    limits = ParserLimits(max_frame_size=100)
    assert limits.max_frame_size == 100 and limits.max_depth == 32
    with pytest.raises(TypeError, match="unknown limit"):
        ParserLimits(max_frames=1)
    writer = FragmentWriter(tracks=(VIDEO,))
    data = kvs_fragment(
        writer,
        0,
        [
            Block(1, 0, payload(50, 1)),
            Block(1, 33, payload(500, 2), keyframe=False),
            Block(1, 66, payload(60, 3), keyframe=False),
        ],
    )
    errors: List[ParseError] = []
    frames = list(kvs_parser.iter_frames(data, limits=limits, on_error=errors.append))
    assert [f.size for f in frames] == [50, 60]  # the oversized frame is skipped by its size
    assert isinstance(errors[0], kvs_parser.LimitExceededError) and errors[0].code == "frame_too_large"


def test_iterators_read_files_and_chunk_iterables(tmp_path) -> None:
    writer = FragmentWriter(tracks=(VIDEO,))
    data = b"".join(kvs_fragment(writer, k, video_frames(3, 2000 * k), 2000 * k) for k in range(3))
    path = tmp_path / "stream.mkv"
    path.write_bytes(data)
    with path.open("rb") as handle:
        from_file = [f.pts_ms for f in kvs_parser.iter_frames(handle, chunk_size=100)]
    from_chunks = [f.pts_ms for f in kvs_parser.iter_frames(iter([data[:77], data[77:]]))]
    assert from_file == from_chunks == [0, 33, 66, 2000, 2033, 2066, 4000, 4033, 4066]
    fragments = list(kvs_parser.iter_fragments(data))
    assert [f.frame_count for f in fragments] == [3, 3, 3]
    assert [int(f.fragment_number) - int(FRAGMENT_NUMBER) for f in fragments] == [0, 1, 2]


def test_the_gil_is_released_while_parsing() -> None:
    writer = FragmentWriter(tracks=(VIDEO,))
    fragment = kvs_fragment(writer, 0, [Block(1, k, b"\x00" * 100, keyframe=k == 0) for k in range(2000)])
    data = fragment * 200  # ~25 MB of small frames: long enough to watch
    parser = KVSStreamParser()  # no callbacks: the whole call is native work
    worker = threading.Thread(target=parser.parse, args=(data,))
    ticks = 0
    worker.start()
    while worker.is_alive():
        ticks += 1  # runs only if the worker let go of the GIL
    worker.join()
    assert parser.fragment_count == 200
    assert ticks > 1000


def test_each_frame_carries_its_producer_time() -> None:
    writer = FragmentWriter(tracks=(VIDEO,))
    data = kvs_fragment(writer, 0, video_frames(3, 5000), 5000) + kvs_fragment(writer, 1, video_frames(2, 7000), 7000)
    got = [(f.producer_timestamp_ms, f.producer_time_ms) for f in kvs_parser.iter_frames(data)]
    first, second = 1_699_999_999_000, 1_699_999_999_000 + 2000
    assert got == [(first, first), (first, first + 33), (first, first + 66), (second, second), (second, second + 33)]


def test_producer_time_in_a_merged_capture_follows_each_fragment(fixtures) -> None:
    data = (fixtures / "kvs" / "output_get_media_sparse_fragments_merged.mkv").read_bytes()
    frames = list(kvs_parser.iter_frames(data))
    starts = {}
    for frame in frames:
        starts.setdefault(frame.fragment_number, frame.pts_ms)  # each fragment's first cluster
        assert frame.producer_time_ms == frame.producer_timestamp_ms + frame.pts_ms - starts[frame.fragment_number]
    assert len(starts) == 3  # three KVS fragments merged into one Segment, each with its own producer time


def test_an_abandoned_iterator_closes_cleanly() -> None:
    writer = FragmentWriter(tracks=(VIDEO,))
    data = b"".join(kvs_fragment(writer, k, video_frames(2, 2000 * k), 2000 * k) for k in range(3))
    fragments = kvs_parser.iter_fragments(data, chunk_size=50)
    assert next(fragments).frame_count == 2
    fragments.close()  # a generator that yielded while being closed would raise RuntimeError here
    frames = kvs_parser.iter_frames(iter([data]))
    next(frames)
    frames.close()
