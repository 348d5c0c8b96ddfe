#!/usr/bin/env python3
"""Build the fuzz seed corpus from the real KVS captures in tests/fixtures/kvs (into fuzz/out/corpus, git-ignored).

Every seed starts with the fuzzer's 4-byte control prefix (limits choice, three chunk sizes; see
stream_parser_fuzzer.cc). Seeds are kept small so the fuzzer runs fast:
- "shrunk" captures: the first fragments of each capture with every frame payload cut to a few bytes
  and the sizes of known-size parents rewritten, so the whole element structure fits in a few KB;
- raw slices of the captures (the first bytes, and a window around the second fragment's header);
- mutations of the shrunk streams: truncations, bit flips, corrupted sizes, duplicated and dropped
  elements, a zero run, an unknown size forced on a leaf.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from synthetic_seeds import synthetic_seeds

HERE = Path(__file__).resolve().parent
DEFAULT_FIXTURES = HERE.parent / "tests" / "fixtures" / "kvs"

MASTERS = {
    0x18538067,  # Segment
    0x1F43B675,  # Cluster
    0x1654AE6B,  # Tracks
    0xAE,  # TrackEntry
    0xE0,  # Video
    0xE1,  # Audio
    0x1549A966,  # Info
    0x1254C367,  # Tags
    0x7373,  # Tag
    0x67C8,  # SimpleTag
    0xA0,  # BlockGroup
}
BLOCKS = {0xA3, 0xA1}  # SimpleBlock, Block
EBML_HEADER = b"\x1a\x45\xdf\xa3"
# Control prefixes (see stream_parser_fuzzer.cc): limits, skipping some blocks, chunk sizes.
PREFIXES = [b"\x00\xff\xff\xff", b"\x00\x00\x06\x3f", b"\x01\x10\x00\x7f", b"\x00\x03\x1f\x00",
            b"\x02\x00\x06\x3f", b"\x03\x10\x00\x7f"]


def read_vint(data: bytes, at: int, keep_marker: bool) -> Optional[Tuple[int, int, bool]]:
    """(value, length, all_ones) of the vint at `at`, or None when it is not a valid one."""
    if at >= len(data) or data[at] == 0:
        return None
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        return None
    raw = int.from_bytes(data[at : at + length], "big")
    if keep_marker:
        return raw, length, False
    value = raw & ((1 << (7 * length)) - 1)
    return value, length, value == (1 << (7 * length)) - 1


def encode_size(size: int) -> bytes:
    return (size | (1 << 56)).to_bytes(8, "big")


def shrink(data: bytes, limit: int, payload: int = 12) -> bytes:
    """Rewrite the first `limit` bytes' worth of elements with frame payloads cut to `payload` bytes."""
    out, _ = _shrink_children(data, 0, len(data), limit, payload)
    return out


def _shrink_children(data: bytes, at: int, end: int, budget: int, payload: int) -> Tuple[bytes, int]:
    out = bytearray()
    while at < end and len(out) < budget:
        element_id = read_vint(data, at, keep_marker=True)
        if element_id is None or element_id[1] > 4:
            break
        size = read_vint(data, at + element_id[1], keep_marker=False)
        if size is None:
            break
        header_end = at + element_id[1] + size[1]
        id_bytes = data[at : at + element_id[1]]
        body_end = end if size[2] else min(end, header_end + size[0])
        if element_id[0] in MASTERS:
            body, used = _shrink_children(data, header_end, body_end, budget - len(out), payload)
            size_bytes = data[at + element_id[1] : header_end] if size[2] else encode_size(len(body))
            out += id_bytes + size_bytes + body
            at = used if size[2] else body_end
            if size[2] and element_id[0] == 0x18538067 and used < end and data[used : used + 4] != EBML_HEADER:
                break
            continue
        if element_id[0] in BLOCKS:
            block = data[header_end:body_end]
            track = read_vint(block, 0, keep_marker=False)
            keep = (track[1] if track else 1) + 3 + payload
            body = block[:keep]
            out += id_bytes + encode_size(len(body)) + body
        else:
            out += data[at:body_end]
        at = body_end
        if size[2]:
            break
    return bytes(out), at


def mutations(stream: bytes, rng: random.Random) -> List[bytes]:
    n = len(stream)
    result = [stream[: rng.randrange(1, n)] for _ in range(3)]
    for _ in range(4):
        flipped = bytearray(stream)
        for _ in range(rng.randrange(1, 6)):
            flipped[rng.randrange(n)] ^= 1 << rng.randrange(8)
        result.append(bytes(flipped))
    for marker in (b"\x01\x00\x00\x00", b"\x01\xff\xff\xff\xff\xff\xff\xff", b"\x00", b"\xff"):
        at = rng.randrange(n)
        result.append(stream[:at] + marker + stream[at + len(marker) :])
    at, length = rng.randrange(n), rng.randrange(1, 64)
    result.append(stream[:at] + stream[at : at + length] * 3 + stream[at + length :])
    result.append(stream[:at] + stream[at + length :])
    result.append(stream[:at] + bytes(256) + stream[at:])
    return result


def build(fixtures: Path, out: Path, seed: int) -> int:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    seeds: List[bytes] = []
    for capture in sorted(fixtures.glob("*.mkv")):
        with capture.open("rb") as handle:
            head = handle.read(1 << 20)
        small = shrink(head, 6000)
        seeds.append(small)
        seeds.extend(mutations(small, rng))
        seeds.append(head[:2048])
        second = head.find(EBML_HEADER, 4)
        if second > 0:
            seeds.append(head[max(0, second - 512) : second + 2048])
    for synthetic in synthetic_seeds():
        seeds.append(synthetic)
        seeds.extend(mutations(synthetic, rng))
    written = 0
    for index, stream in enumerate(seeds):
        if not stream:
            continue
        data = PREFIXES[index % len(PREFIXES)] + stream
        name = hashlib.sha1(data).hexdigest()[:16]
        (out / name).write_bytes(data)
        written += 1
    return written


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "corpus")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.fixtures.is_dir():
        print(f"no fixtures at {args.fixtures}; the corpus has only synthetic seeds", file=sys.stderr)
    count = build(args.fixtures, args.out, args.seed)
    print(f"{count} seeds in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
