"""Shared test helpers: where the fixtures are, and how their absence is handled.

The real captures and Java goldens are in the repository (`tests/fixtures`, see its README);
`$KVS_FIXTURES` may point elsewhere. Under CI (`CI` set) their absence fails the tests that need them;
elsewhere those tests skip with the reason (e.g. an sdist, which leaves the media out).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def fixtures_root() -> Optional[Path]:
    configured = os.environ.get("KVS_FIXTURES")
    root = Path(configured) if configured else Path(__file__).resolve().parent / "fixtures"
    return root if (root / "kvs").is_dir() else None


def require_fixtures() -> Path:
    root = fixtures_root()
    if root is None:
        reason = "test fixtures not found (tests/fixtures, or set KVS_FIXTURES)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return root


def capture_names() -> List[str]:
    """Names (without .mkv) of the real GetMedia captures that have a Java golden."""
    root = fixtures_root()
    if root is None:
        return ["<test fixtures missing>"]
    return sorted(p.stem for p in (root / "java-golden").glob("*.json"))


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return require_fixtures()
