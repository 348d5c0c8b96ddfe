"""A minimal whole-buffer EBML walker, the writer's mirror image, for the tests (not part of the package).

Not the product parser (that is the native streaming core): it needs the complete buffer, knows only the
elements the writer emits, and raises on anything malformed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

from kvs_parser.mkv import Id, Lacing
from kvs_parser.mkv._blocks import FLAG_DISCARDABLE, FLAG_INVISIBLE, FLAG_KEYFRAME

MASTERS = frozenset(
    {Id.EBML, Id.SEGMENT, Id.INFO, Id.TRACKS, Id.TRACK_ENTRY, Id.VIDEO, Id.AUDIO, Id.CLUSTER, Id.BLOCK_GROUP,
     Id.TAGS, Id.TAG, Id.TARGETS, Id.SIMPLE_TAG}
)
# Where an unknown-size element ends: at the next element of the same or a higher level.
LEVELS = {Id.EBML: 0, Id.SEGMENT: 0, Id.INFO: 1, Id.TRACKS: 1, Id.TAGS: 1, Id.CLUSTER: 1}


def read_vint(data: bytes, pos: int, *, keep_marker: bool = False) -> Tuple[Optional[int], int]:
    """Returns (value or None for the all-ones "unknown", length)."""
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        raise ValueError(f"bad or truncated vint at {pos}")
    value = int.from_bytes(data[pos : pos + length], "big")
    if keep_marker:
        return value, length
    value &= (1 << (7 * length)) - 1
    return (None if value == (1 << (7 * length)) - 1 else value), length


def read_signed_vint(data: bytes, pos: int) -> Tuple[int, int]:
    value, length = read_vint(data, pos)
    assert value is not None
    return value - ((1 << (7 * length - 1)) - 1), length


@dataclass
class Node:
    id: int
    offset: int
    size: Optional[int]  # None: unknown size
    data: bytes = b""
    children: List[Node] = field(default_factory=list)

    def find(self, element_id: int) -> Iterator[Node]:
        for child in self.children:
            if child.id == element_id:
                yield child
            yield from child.find(element_id)

    def first(self, element_id: int) -> Node:
        return next(self.find(element_id))

    @property
    def uint(self) -> int:
        return int.from_bytes(self.data, "big")

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def parse(data: bytes, pos: int = 0, end: Optional[int] = None, level: int = -1) -> Tuple[List[Node], int]:
    """Parses elements from `pos` until `end` or, inside an unknown-size parent, a same-or-higher level ID."""
    end = len(data) if end is None else end
    nodes: List[Node] = []
    while pos < end:
        element_id, id_length = read_vint(data, pos, keep_marker=True)
        assert element_id is not None
        if level >= 0 and LEVELS.get(element_id, 99) <= level:
            break
        size, size_length = read_vint(data, pos + id_length)
        start = pos + id_length + size_length
        node = Node(element_id, pos, size)
        if element_id in MASTERS:
            if size is None:
                node.children, pos = parse(data, start, end, LEVELS.get(element_id, 98))
            else:
                node.children, _ = parse(data, start, start + size)
                pos = start + size
        else:
            if size is None or start + size > end:
                raise ValueError(f"truncated element {element_id:#x} at {pos}")
            node.data = bytes(data[start : start + size])
            pos = start + size
        nodes.append(node)
    return nodes, pos


@dataclass(frozen=True)
class Block:
    track: int
    relative_timecode: int
    flags: int
    lacing: Lacing
    laces: Tuple[bytes, ...]

    @property
    def keyframe(self) -> bool:
        return bool(self.flags & FLAG_KEYFRAME)

    @property
    def invisible(self) -> bool:
        return bool(self.flags & FLAG_INVISIBLE)

    @property
    def discardable(self) -> bool:
        return bool(self.flags & FLAG_DISCARDABLE)


def parse_block(payload: bytes) -> Block:
    track, pos = read_vint(payload, 0)
    assert track is not None
    relative = int.from_bytes(payload[pos : pos + 2], "big", signed=True)
    flags = payload[pos + 2]
    pos += 3
    lacing = Lacing(flags & 0x06)
    if lacing is Lacing.NONE:
        return Block(track, relative, flags, lacing, (payload[pos:],))
    count = payload[pos] + 1
    pos += 1
    sizes: List[int] = []
    if lacing is Lacing.XIPH:
        for _ in range(count - 1):
            size = 0
            while payload[pos] == 255:
                size += 255
                pos += 1
            sizes.append(size + payload[pos])
            pos += 1
    elif lacing is Lacing.EBML and count > 1:
        first, length = read_vint(payload, pos)
        assert first is not None
        sizes.append(first)
        pos += length
        for _ in range(count - 2):
            delta, length = read_signed_vint(payload, pos)
            sizes.append(sizes[-1] + delta)
            pos += length
    elif lacing is Lacing.FIXED:
        sizes = [(len(payload) - pos) // count] * (count - 1)
    laces = []
    for size in sizes:
        laces.append(payload[pos : pos + size])
        pos += size
    laces.append(payload[pos:])
    return Block(track, relative, flags, lacing, tuple(laces))


@dataclass
class ParsedFragment:
    """One EBML header + Segment of a GetMedia-style stream, reduced to what tests check."""

    segment: Node
    tags: Dict[str, str]
    cluster_timecode: Optional[int]
    blocks: List[Block]

    def timecodes(self) -> List[int]:
        assert self.cluster_timecode is not None
        return [self.cluster_timecode + b.relative_timecode for b in self.blocks]


def split_fragments(data: bytes) -> List[ParsedFragment]:
    """All Segments in a concatenated stream, with their SimpleTags (all Tags elements, in order)."""
    nodes, _ = parse(data)
    fragments = []
    for segment in (n for n in nodes if n.id == Id.SEGMENT):
        tags = {t.first(Id.TAG_NAME).text: t.first(Id.TAG_STRING).text for t in segment.find(Id.SIMPLE_TAG)}
        clusters = [c for c in segment.children if c.id == Id.CLUSTER]
        timecode = clusters[0].first(Id.TIMECODE).uint if clusters else None
        blocks = [parse_block(b.data) for c in clusters for b in c.find(Id.SIMPLE_BLOCK)]
        blocks += [parse_block(b.data) for c in clusters for b in c.find(Id.BLOCK)]
        fragments.append(ParsedFragment(segment, tags, timecode, blocks))
    return fragments
