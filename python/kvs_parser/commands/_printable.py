"""Text from a stream made safe for a terminal: a hostile tag or token must not send escape sequences
(`ESC]0;title BEL`, `ESC[2J`) to whoever reads the output."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with every control or invisible formatting character (C0 including newlines, DEL, C1, bidi
    overrides...) written as its Python escape (`\\x1b`, `\\n`, `\\u202e`); the rest as is."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)
