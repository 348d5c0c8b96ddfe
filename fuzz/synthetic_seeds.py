"""Small hand-built streams for the paths the captures do not exercise: ContentEncoding (header
stripping, zlib, encryption), laced blocks on tracks with a DefaultDuration, CodecDelay/SeekPreRoll,
and unknown elements (or plain garbage) inside unknown-size Segments and Clusters."""

from __future__ import annotations

import zlib
from typing import List


def element_id(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def element(eid: int, body: bytes) -> bytes:
    return element_id(eid) + bytes([0x01]) + len(body).to_bytes(7, "big") + body


def unknown_size(eid: int) -> bytes:
    return element_id(eid) + b"\x01\xff\xff\xff\xff\xff\xff\xff"


def uint(eid: int, value: int) -> bytes:
    return element(eid, value.to_bytes(8, "big"))


def text(eid: int, value: str) -> bytes:
    return element(eid, value.encode())


def block(track: int, timecode: int, flags: int, payload: bytes) -> bytes:
    return bytes([0x80 | track]) + timecode.to_bytes(2, "big", signed=True) + bytes([flags]) + payload


def simple_block(track: int, timecode: int, payload: bytes, flags: int = 0x80) -> bytes:
    return element(0xA3, block(track, timecode, flags, payload))


def xiph_laced(track: int, timecode: int, frames: List[bytes]) -> bytes:
    sizes = b""
    for frame in frames[:-1]:
        size = len(frame)
        sizes += b"\xff" * (size // 255) + bytes([size % 255])
    return element(0xA3, block(track, timecode, 0x82, bytes([len(frames) - 1]) + sizes + b"".join(frames)))


def fixed_laced(track: int, timecode: int, frames: List[bytes]) -> bytes:
    return element(0xA3, block(track, timecode, 0x84, bytes([len(frames) - 1]) + b"".join(frames)))


def encoding(algorithm: int, settings: bytes = b"", scope: int = 1, order: int = 0, encrypted: bool = False) -> bytes:
    body = uint(0x5031, order) + uint(0x5032, scope)
    if encrypted:
        body += uint(0x5033, 1) + element(0x5035, uint(0x47E1, 5))
    else:
        compression = uint(0x4254, algorithm) + (element(0x4255, settings) if settings else b"")
        body += uint(0x5033, 0) + element(0x5034, compression)
    return element(0x6D80, element(0x6240, body))


def track(number: int, codec: str, extra: bytes = b"") -> bytes:
    track_type = 1 if codec.startswith("V_") else 2
    return element(0xAE, uint(0xD7, number) + uint(0x83, track_type) + text(0x86, codec) + extra)


def tags(fragment_number: str) -> bytes:
    simple = element(0x67C8, text(0x45A3, "AWS_KINESISVIDEO_FRAGMENT_NUMBER") + text(0x4487, fragment_number))
    simple += element(0x67C8, text(0x45A3, "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP") + text(0x4487, "1700000000.000"))
    return element(0x1254C367, element(0x7373, simple))


def fragment(number: str, tracks: bytes, cluster_body: bytes) -> bytes:
    head = element(0x1A45DFA3, text(0x4282, "matroska"))
    return (head + unknown_size(0x18538067) + element(0x1549A966, uint(0x2AD7B1, 1000000)) + element(0x1654AE6B, tracks)
            + tags(number) + unknown_size(0x1F43B675) + uint(0xE7, 1000) + cluster_body)


def synthetic_seeds() -> List[bytes]:
    nal = bytes([0, 0, 0, 5, 0x65, 0x88, 0x84, 0x21, 0xA0]) * 3
    stripped = fragment("1", track(1, "V_MPEG4/ISO/AVC", encoding(3, b"\x00\x00\x00")),
                        simple_block(1, 0, nal[3:]) + simple_block(1, 33, nal[3:], 0))
    deflated = fragment("2", track(1, "V_MPEG4/ISO/AVC", element(0x63A2, zlib.compress(b"\x01avcC" * 4))
                                   + encoding(0, scope=3)),
                        simple_block(1, 0, zlib.compress(nal)) + simple_block(1, 33, zlib.compress(nal * 50), 0)
                        + simple_block(1, 66, b"\x78\x9c not zlib", 0))
    chained = fragment("3", track(1, "A_AAC", encoding(3, b"\xff\xf1", order=1) + encoding(0, order=0)),
                       simple_block(1, 0, zlib.compress(b"\x50\x80" * 20)))
    encrypted = fragment("4", track(1, "V_VP8", encoding(0, encrypted=True)), simple_block(1, 0, b"secret" * 4))
    opus = track(2, "A_OPUS", uint(0x23E383, 20000000) + uint(0x56AA, 6500000) + uint(0x56BB, 80000000))
    laced = fragment("5", opus + track(3, "A_AAC", uint(0x23E383, 21333333)),
                     xiph_laced(2, 0, [b"\x01" * 40, b"\x02" * 300, b"\x03" * 7])
                     + fixed_laced(3, 10, [b"\x04" * 16] * 4) + fixed_laced(1, 20, [b"\x05" * 8] * 2))
    garbage = bytes(range(0x40, 0x80)) + b"\x4d\xbb\x84\x00\x00\x00\x00" + b"\x42\x86\x10" + b"\x00" * 16
    unknown_in_cluster = fragment("6", track(1, "V_VP8"),
                                  simple_block(1, 0, b"a" * 10) + element(0x4DBB, b"\x00" * 8)
                                  + simple_block(1, 5, b"b" * 10))
    unknown_in_segment = (element(0x1A45DFA3, text(0x4282, "matroska")) + unknown_size(0x18538067)
                          + element(0x7E5B, b"\x00" * 4) + element(0x1654AE6B, track(1, "V_VP8"))
                          + unknown_size(0x1F43B675) + simple_block(1, 0, b"c" * 10))
    big_garbage = b"\x4d\xbb\x01\x00\x00\x00\x00\x10\x00\x00"  # an "element" claiming 1 MiB
    return [
        stripped, deflated, chained, encrypted, laced,
        stripped + garbage + deflated,
        laced + big_garbage + stripped + laced,
        unknown_in_cluster, unknown_in_segment,
        unknown_in_cluster + garbage + unknown_in_segment,
    ]
