"""EBML primitives: variable-size integers and elements of every basic type.

Everything returns bytes; masters take already-encoded children, so a caller builds a tree bottom-up and
chooses per element whether its size is known (and how wide) or unknown (all ones, as live KVS sends).
"""

from __future__ import annotations

import struct
from typing import Iterable, Optional

MAX_VINT_LENGTH = 8


def vint_length(value: int) -> int:
    """Smallest vint width for `value` (all-ones patterns are reserved for "unknown", so excluded)."""
    if value < 0:
        raise ValueError("vint values are unsigned")
    for length in range(1, MAX_VINT_LENGTH + 1):
        if value < (1 << (7 * length)) - 1:
            return length
    raise ValueError(f"value {value} does not fit in an 8-byte vint")


def encode_vint(value: int, length: Optional[int] = None) -> bytes:
    """Encode `value` as a vint, `length` bytes wide (default: as narrow as possible)."""
    if length is None:
        length = vint_length(value)
    if not 1 <= length <= MAX_VINT_LENGTH or value >= (1 << (7 * length)) - 1 or value < 0:
        raise ValueError(f"value {value} does not fit in a {length}-byte vint")
    # The length marker is the bit just above the 7*length value bits.
    return ((1 << (7 * length)) | value).to_bytes(length, "big")


def unknown_size(length: int = MAX_VINT_LENGTH) -> bytes:
    """The reserved all-ones size meaning "unknown": the element runs until a sibling or parent ID."""
    if not 1 <= length <= MAX_VINT_LENGTH:
        raise ValueError("unknown-size width must be 1..8")
    return ((1 << (7 * length + 1)) - 1).to_bytes(length, "big")


def encode_signed_vint(value: int, length: Optional[int] = None) -> bytes:
    """Signed vint as EBML lacing uses it: value biased by 2^(7n-1) - 1."""
    if length is None:
        length = next(n for n in range(1, MAX_VINT_LENGTH + 1) if abs(value) < (1 << (7 * n - 1)) - 1)
    return encode_vint(value + (1 << (7 * length - 1)) - 1, length)


def encode_id(element_id: int) -> bytes:
    """Element IDs carry their own length marker, so they are written as plain big-endian bytes."""
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")


def element_header(element_id: int, size: Optional[int], size_length: Optional[int] = None) -> bytes:
    """ID + size; `size=None` writes the unknown size (8 bytes unless `size_length` says otherwise)."""
    if size is None:
        return encode_id(element_id) + unknown_size(size_length or MAX_VINT_LENGTH)
    return encode_id(element_id) + encode_vint(size, size_length)


def element(element_id: int, payload: bytes, size_length: Optional[int] = None) -> bytes:
    return element_header(element_id, len(payload), size_length) + payload


def master(
    element_id: int, children: Iterable[bytes], *, known_size: bool = True, size_length: Optional[int] = None
) -> bytes:
    body = b"".join(children)
    if known_size:
        return element(element_id, body, size_length)
    return element_header(element_id, None, size_length) + body


def uint_element(element_id: int, value: int) -> bytes:
    if value < 0:
        raise ValueError("unsigned element with a negative value")
    return element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def int_element(element_id: int, value: int) -> bytes:
    length = 1
    while not -(1 << (8 * length - 1)) <= value < (1 << (8 * length - 1)):
        length += 1
    return element(element_id, value.to_bytes(length, "big", signed=True))


def float_element(element_id: int, value: float, width: int = 8) -> bytes:
    if width not in (4, 8):
        raise ValueError("EBML floats are 4 or 8 bytes")
    return element(element_id, struct.pack(">f" if width == 4 else ">d", value))


def string_element(element_id: int, value: str) -> bytes:
    return element(element_id, value.encode("utf-8"))


def binary_element(element_id: int, value: bytes) -> bytes:
    return element(element_id, bytes(value))
