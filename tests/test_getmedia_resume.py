"""Resume after cut connections, at many points of the byte stream: every frame exactly once, in order
(checked by the frame index each synthetic frame carries in its timecode)."""

from __future__ import annotations

from typing import Any, Iterator, List, Tuple

import boto3
import pytest

from finished_stream import (
    FRAMES,
    KEYS,
    PER_FRAGMENT,
    camera,
    fault_free_client,
    finished_stream_emulator,
    read_all,
)
from kvs_parser.emulator import Emulator, Fault, index_from_timecode
from kvs_parser.getmedia import GetMediaClient, RetryPolicy, StartSelector

pytestmark = pytest.mark.timeout(60)
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.005, max_delay=0.02)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with finished_stream_emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[GetMediaClient]:
    with fault_free_client(emu, FAST_RETRY) as c:
        yield c


@pytest.fixture(scope="module")
def layout(emu: Emulator) -> Tuple[List[Tuple[int, int]], List[Tuple[int, int]]]:
    """Byte ranges, in an uncut response, of each fragment and of each frame's block."""
    fragments: List[Tuple[int, int]] = []
    with GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url) as client:
        stream = client.stream("done", start=StartSelector.earliest(), follow=False,
                               on_fragment=lambda f: fragments.append((f.start_offset, f.end_offset)))
        frames = [(f.block_offset, f.size) for f in stream.frames()]
    assert len(fragments) == FRAMES // PER_FRAGMENT and len(frames) == FRAMES
    return fragments, frames


def cut_points(layout: Tuple[List[Tuple[int, int]], List[Tuple[int, int]]]) -> List[Tuple[str, int]]:
    fragments, frames = layout
    points = [("first EBML header", 5), ("first Segment tags", 120)]
    for k in (1, 3):
        boundary, segment = fragments[k - 1][1], fragments[k][0]  # the EBML header lies between them
        points += [(f"between fragments {k - 1} and {k}", boundary), (f"EBML header of {k}", boundary + 3),
                   (f"Tracks/Tags of {k}", segment + 150)]
    for i in (0, 1, 9, 10, 25, 59):  # first frames (no token yet), fragment edges, middle, last
        offset, size = frames[i]
        points += [(f"block header of frame {i}", offset + 2), (f"inside frame {i}", offset + size // 2)]
    points += [("inside the trailing tags of fragment 2", fragments[2][1] - 6),
               ("last byte", fragments[-1][1] - 1)]
    return points


CUTS = 22  # len(cut_points(...)), fixed so the parametrisation is known at collection


@pytest.mark.parametrize("which", range(CUTS))
def test_one_cut_anywhere(emu: Emulator, client: GetMediaClient, layout: Any, which: int) -> None:
    points = cut_points(layout)
    assert len(points) == CUTS
    where, offset = points[which]
    emu.inject(Fault(close_after_bytes=offset), stream="done")
    got, resets, stream = read_all(client)
    counters = stream.counters
    assert got == list(range(FRAMES)), where
    assert [r.reason for r in resets] == ["cut"], where
    assert counters.frames == FRAMES and counters.resets == 1 and counters.parse_errors == 0


def test_cut_in_every_fragment_in_turn(emu: Emulator, client: GetMediaClient) -> None:
    for frame in (2, 0, 5, 9, 1, 3):  # the n-th frame of each successive response is cut in half
        emu.inject(Fault(close_in_frame=frame), stream="done")
    got, resets, stream = read_all(client)
    counters = stream.counters
    assert got == list(range(FRAMES))
    assert len(resets) == 6 and counters.duplicates_skipped > 0
    assert counters.fragments == FRAMES // PER_FRAGMENT


def test_many_byte_cuts_in_one_session(emu: Emulator, client: GetMediaClient) -> None:
    for offset in (700, 1, 2500, 333, 4000, 90, 1500):
        emu.inject(Fault(close_after_bytes=offset), stream="done")
    got, resets, _ = read_all(client)
    assert got == list(range(FRAMES)) and len(resets) == 7


def test_error_fragment_is_resumed(emu: Emulator, client: GetMediaClient) -> None:
    emu.inject(Fault(error_fragment_after=2), stream="done")
    got, resets, stream = read_all(client)
    counters = stream.counters
    assert got == list(range(FRAMES))
    assert [r.reason for r in resets] == ["error fragment"] and counters.error_fragments == 1


def test_cuts_and_throttles_mixed(emu: Emulator, client: GetMediaClient) -> None:
    emu.inject(Fault(close_in_frame=4), stream="done")
    emu.inject(Fault(error="ClientLimitExceededException"), stream="done")
    emu.inject(Fault(close_after_bytes=2000), stream="done")
    got, resets, _ = read_all(client)
    assert got == list(range(FRAMES)) and [r.reason for r in resets] == ["cut", "throttled", "cut"]


def test_live_stream_cut_while_following(emu: Emulator, client: GetMediaClient) -> None:
    """Cuts while the fragment is still being produced, starting from NOW: contiguous from the start on."""
    emu.add_live_stream("live", camera(fps=25, fragment_duration=0.4, max_frames=50))
    for frame in (3, 7, 1):
        emu.inject(Fault(close_in_frame=frame), stream="live")
    stream = client.stream("live", start=StartSelector.now(), follow=False)
    got = [index_from_timecode(frame.pts_ms, 25) for frame in stream.frames()]
    assert got == list(range(got[0], 50)) and stream.counters.resets == 3
    emu.remove_stream("live")
