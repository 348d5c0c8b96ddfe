"""Hostile SimpleTags for fault injection: floods of user tags, names and values that are not UTF-8.

The writers take text; bytes that are not UTF-8 are put in afterwards by replacing a same-length
placeholder, so every element size stays right.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from ._faults import Fault

BAD_NAME_PLACEHOLDER = "USER_TAG_NAME_XXXX"
BAD_VALUE_PLACEHOLDER = "user tag value XXXX"
NOT_UTF8 = b"\xff\xfe\xc3\x28"  # invalid lead bytes and a broken two-byte sequence


def user_tags(fault: Optional[Fault]) -> List[Tuple[str, str]]:
    """The user tags a fault adds before a fragment's trailing AWS tags."""
    if fault is None:
        return []
    tags = [(f"USER_TAG_{i}", str(i)) for i in range(fault.extra_tags)]
    if fault.non_utf8_tags:
        tags += [(BAD_NAME_PLACEHOLDER, "ok"), ("USER_TAG_BAD_VALUE", BAD_VALUE_PLACEHOLDER)]
    return tags


def _not_utf8(text: str) -> bytes:
    raw = text.encode()
    return raw[: -len(NOT_UTF8)] + NOT_UTF8


def spoil(data: bytes, fault: Optional[Fault], tags: Sequence[Tuple[str, str]] = ()) -> bytes:
    """`data` (a fragment's bytes) with the fault's placeholders made non-UTF-8 and the value of the
    tag `fault.corrupt_tag` (looked up in `tags`) given one 0xFF byte."""
    if fault is None:
        return data
    if fault.non_utf8_tags:
        for placeholder in (BAD_NAME_PLACEHOLDER, BAD_VALUE_PLACEHOLDER):
            data = data.replace(placeholder.encode(), _not_utf8(placeholder), 1)
    value = next((v for name, v in tags if name == fault.corrupt_tag), None)
    if value:
        raw = value.encode()
        spoiled = raw[: len(raw) // 2] + b"\xff" + raw[len(raw) // 2 + 1 :]
        data = data.replace(raw, spoiled, 1)
    return data
