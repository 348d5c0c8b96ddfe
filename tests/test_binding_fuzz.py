"""Fuzzing the Python binding: object lifetimes, callbacks that raise, re-entrancy, parse after close.

`exercise(data)` is one fuzz input: its first CONTROL bytes choose what every callback does (record,
raise, call parse()/close()/flush()/set_callback() from inside, keep frames and memoryviews) and how
the rest, the stream, is chunked. It fails on any exception other than the callbacks' own `Boom`,
the typed `KVSError`s, on a frame or memoryview that changed after the parser is gone, and, in strict
mode (no callback closes the parser or drops a callback), unless every frame and error arrives
exactly once and in stream order, whatever raised on the way.

Here it runs on a bounded number of random inputs (valid streams, mutated); fuzz/binding_fuzzer.py
runs the same function under atheris for longer.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from kvs_parser import KVSError, KVSStreamParser, ParseError, ParserClosedError, ParserLimits
from test_properties import kvs_fragment

CONTROL = 16
EVENTS = ("frame", "fragment_start", "fragment_end", "tracks", "tags", "error")
STRICT_BEHAVIOURS = 6  # behaviours below this keep every event, in order


class Boom(Exception):
    """What a misbehaving callback raises."""


@dataclass
class Run:
    parser: KVSStreamParser
    stream: bytes
    control: bytes
    fed: int = 0  # bytes of the stream given to parse(), by the outer loop or a callback
    frames: List[Tuple[int, bytes]] = field(default_factory=list)
    errors: List[Tuple[str, Optional[int]]] = field(default_factory=list)
    kept: List[Tuple[Any, memoryview, bytes]] = field(default_factory=list)
    calls: Dict[str, int] = field(default_factory=dict)
    raises_left: int = 20

    def next_slice(self, size: int) -> bytes:
        chunk = self.stream[self.fed : self.fed + size]
        self.fed += len(chunk)
        return chunk


def record(run: Run, event: str, argument: Any) -> None:
    if event == "frame":
        payload = bytes(argument)
        run.frames.append((argument.block_offset, payload))
        if len(run.kept) < 64:
            run.kept.append((argument, argument.data, payload))
    elif event == "error":
        assert isinstance(argument, ParseError)
        run.errors.append((argument.code, argument.offset))
        assert argument.offset is None or argument.offset <= len(run.stream)


def make_callback(run: Run, event: str, behaviour: int) -> Callable[[Any], None]:
    """A callback for `event` that records it, then misbehaves as `behaviour` says."""

    def callback(argument: Any, *, tag: str = event) -> None:
        record(run, tag, argument)
        count = run.calls[tag] = run.calls.get(tag, 0) + 1
        parser = run.parser
        if behaviour == 1 and count % 3 == 1 and run.raises_left > 0:
            run.raises_left -= 1
            raise Boom(tag)
        if behaviour == 2 and run.fed < len(run.stream) and not parser.closed:
            parser.parse(run.next_slice(1 + count % 97))  # re-entrant: its events queue behind ours
        elif behaviour == 3:
            parser.flush()  # re-entrant flush: the outer loop keeps delivering
            _ = (parser.pending_events, parser.memory_in_use, parser.bytes_consumed, parser.error_count)
        elif behaviour == 4:
            # Swap in an equivalent callback: the replacement records too, nothing is lost.
            parser.set_callback(tag, make_callback(run, tag, 0))
        elif behaviour == 5 and count % 2 == 0 and run.raises_left > 0:
            run.raises_left -= 1
            parser.parse(b"")
            raise Boom(tag)
        elif behaviour == 6:
            parser.close()  # chaos: ends the stream from inside a callback
        elif behaviour == 7:
            # chaos: drop this very callback while it runs (a partial holds the only reference).
            parser.set_callback(tag, None)
            gc.collect()

    return functools.partial(callback)


def drain(call: Callable[[], None]) -> None:
    """Calls parse/close/flush until no callback raises (each raises a bounded number of times)."""
    for _ in range(200):
        try:
            call()
            return
        except ParserClosedError:
            return
        except (Boom, ParseError):  # a ParseError: on_error was dropped; the next call goes on
            continue
    raise AssertionError("callbacks kept raising")


def reference(stream: bytes, limits: ParserLimits) -> Tuple[List[Tuple[int, bytes]], List[Tuple[str, Any]]]:
    frames: List[Tuple[int, bytes]] = []
    errors: List[Tuple[str, Any]] = []
    parser = KVSStreamParser(
        on_frame=lambda f: frames.append((f.block_offset, bytes(f))),
        on_error=lambda e: errors.append((e.code, e.offset)),
        limits=limits,
    )
    parser.parse(stream)
    parser.close()
    return frames, errors


def exercise(data: bytes) -> None:
    control, stream = data[:CONTROL].ljust(CONTROL, b"\x00"), data[CONTROL:]
    strict = control[0] & 1 == 0
    limits = ParserLimits(max_frame_size=256 + control[1] * 64, max_depth=4 + control[2] % 30)
    parser = KVSStreamParser(limits=limits)
    run = Run(parser, stream, control)
    for k, event in enumerate(EVENTS):
        behaviour = control[3 + k] % (STRICT_BEHAVIOURS if strict else 8)
        parser.set_callback("on_" + event, make_callback(run, event, behaviour))
    sizes = [1 + b for b in control[9:13]]
    turn = 0
    while run.fed < len(stream) and not parser.closed:
        chunk = run.next_slice(sizes[turn % len(sizes)])
        turn += 1
        with contextlib.suppress(Boom, KVSError):
            parser.parse(memoryview(chunk) if turn % 2 else bytearray(chunk))
    drain(parser.flush)
    with contextlib.suppress(Boom, KVSError):
        parser.close()
    drain(parser.flush)  # a second close() does not deliver what a raising callback left queued
    assert parser.closed
    with pytest.raises(ParserClosedError):
        parser.parse(b"\x1a\x45\xdf\xa3")
    parser.close()  # a second close is a no-op
    assert parser.pending_events == 0

    if strict:
        frames, errors = reference(stream, limits)
        assert run.frames == frames
        assert run.errors == errors
    # Frames and their memoryviews outlive the parser, unchanged.
    kept = run.kept
    del parser, run
    gc.collect()
    for frame, view, payload in kept:
        assert bytes(frame) == payload
        assert bytes(view) == payload
        assert len(frame) == len(payload) == frame.size


# ---- a bounded random run ---------------------------------------------------------------------------


def mutate(stream: bytes, rng: random.Random) -> bytes:
    data = bytearray(stream)
    for _ in range(rng.randrange(0, 4)):
        choice = rng.randrange(4)
        at = rng.randrange(len(data) + 1)
        if choice == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif choice == 1:
            del data[at : at + rng.randrange(1, 32)]
        elif choice == 2:
            data[at:at] = rng.choice([b"\x00" * 8, b"\x01\xff\xff\xff\xff\xff\xff\xff", b"\x1f\x43\xb6\x75"])
        else:
            data = data[:at]
    return bytes(data)


def sample_stream(rng: random.Random) -> bytes:
    fragments = [
        kvs_fragment(str(k), 100 * k, [bytes([k]) * rng.randrange(0, 300) for _ in range(rng.randrange(0, 6))])
        for k in range(rng.randrange(1, 4))
    ]
    return b"".join(fragments)


def random_input(rng: random.Random) -> bytes:
    stream = sample_stream(rng)
    if rng.random() < 0.5:
        stream = mutate(stream, rng)
    return bytes(rng.randrange(256) for _ in range(CONTROL)) + stream


@pytest.mark.parametrize("seed", range(4))
def test_random_inputs(seed: int) -> None:
    """About two seconds per seed of random programs over valid and damaged streams."""
    rng = random.Random(seed)
    deadline = time.monotonic() + 2.0
    runs = 0
    while time.monotonic() < deadline or runs < 20:
        exercise(random_input(rng))
        runs += 1
    assert runs >= 20


@pytest.mark.parametrize("behaviour", range(8))
@pytest.mark.parametrize("event", range(len(EVENTS)))
def test_each_behaviour_on_each_event(behaviour: int, event: int) -> None:
    control = bytearray(CONTROL)
    control[0] = 0 if behaviour < STRICT_BEHAVIOURS else 1
    control[1] = 255
    control[2] = 28
    control[3 + event] = behaviour
    control[9:13] = bytes([99, 6, 250, 0])
    stream = kvs_fragment("1", 0, [b"a" * 10, b"b" * 300]) + b"\x00" * 40 + kvs_fragment("2", 9, [b"c"])
    exercise(bytes(control) + stream)


def test_frame_outlives_parser_and_chunk() -> None:
    frames: List[Any] = []
    chunk = bytearray(kvs_fragment("1", 0, [b"x" * 1000, b"y" * 3]))
    parser = KVSStreamParser(on_frame=frames.append)
    parser.parse(chunk)
    views = [frame.data for frame in frames]
    chunk[:] = b"\x00" * len(chunk)  # the caller reuses its buffer
    del parser, chunk
    gc.collect()
    assert [bytes(v) for v in views] == [b"x" * 1000, b"y" * 3]
    assert [bytes(f) for f in frames] == [b"x" * 1000, b"y" * 3]


def test_close_from_inside_a_callback_then_parse_raises() -> None:
    frames: List[bytes] = []
    parser: KVSStreamParser

    def on_frame(frame: Any) -> None:
        frames.append(bytes(frame))
        parser.close()

    parser = KVSStreamParser(on_frame=on_frame)
    stream = kvs_fragment("1", 0, [b"a", b"b", b"c"])
    parser.parse(stream)  # close() from the callback does not cut what this parse() already read
    assert frames == [b"a", b"b", b"c"] and parser.closed
    with pytest.raises(ParserClosedError):
        parser.parse(stream)
    assert isinstance(ParserClosedError("x"), RuntimeError)


def test_second_close_delivers_events_left_by_a_raising_callback() -> None:
    ends: List[bool] = []

    def on_error(_: Any) -> None:
        raise Boom("error")

    parser = KVSStreamParser(on_error=on_error, on_fragment_end=lambda m: ends.append(m.complete))
    parser.parse(kvs_fragment("1", 0, [b"a" * 50])[:-20])  # cut inside the trailing tags
    with pytest.raises(Boom):
        parser.close()  # the truncation error raises; the partial Tags and the end stay queued
    assert parser.pending_events > 0
    parser.close()
    assert ends == [False]
