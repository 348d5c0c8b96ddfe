"""The version lives in one place (python/kvs_parser/_version.py): the package, the extension and the
installed distribution's metadata all report it."""

from __future__ import annotations

import importlib.metadata
import re

import kvs_parser
from kvs_parser import _kvsparser


def test_package_extension_and_metadata_agree() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", kvs_parser.__version__)
    assert _kvsparser.__version__ == kvs_parser.__version__
    assert importlib.metadata.version("kvs-parser-py") == kvs_parser.__version__
