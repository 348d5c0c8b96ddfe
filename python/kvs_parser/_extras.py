"""The optional layers of the package and the extra that installs each.

A plain install is the parser and the GetMedia client (boto3). A module of an optional layer imports its
third-party dependencies through ``missing_extra``, so a missing one is an ImportError that names the extra
to install, raised when the layer is imported rather than later in a reader thread. Each `kvs-parser`
command names the extra it needs (``COMMAND_EXTRAS``), checked before the command is imported.
"""

from __future__ import annotations

import importlib.util
from typing import Dict, List, Optional, Tuple

# extra -> what it adds
EXTRAS = {
    "decode": "decoding to numpy pictures with PyAV (kvs_parser.decode, kvs_parser.source, kvs_parser.audio)",
    "app": "cameras.yaml, Prometheus metrics and `kvs-parser run` (kvs_parser.config, kvs_parser.metrics)",
    "emulator": "the local Kinesis Video Streams emulator (kvs_parser.emulator)",
    "gstreamer": "decoding through a GStreamer pipeline (decode_backend gstreamer, parser type: gstreamer)",
    "ray": "cameras on a Ray cluster with checkpoints in Redis (kvs_parser.ray, RedisCheckpointStore, run --ray)",
}

# extra -> the top-level modules it installs (pyproject.toml's [project.optional-dependencies])
EXTRA_MODULES: Dict[str, Tuple[str, ...]] = {
    "decode": ("av", "numpy"),
    "app": ("av", "numpy", "yaml", "pydantic", "prometheus_client"),
    "emulator": ("av", "numpy"),
    "ray": ("av", "numpy", "yaml", "pydantic", "prometheus_client", "ray", "redis"),
}

# `kvs-parser` command -> the extra it needs (commands not listed run on a plain install). `frames` reads
# through a frame source ([decode]); its --emulate uses the emulator, whose modules are the same.
COMMAND_EXTRAS = {
    "demo": "emulator",
    "emulate": "emulator",
    "run": "app",
    "frames": "decode",
    "audio": "decode",
}


def missing_extra(extra: str, error: ImportError) -> ImportError:
    """The ImportError to raise (``from error``) when a dependency of the ``extra`` layer is not installed."""
    return ImportError(
        f"{error.name or error} is not installed: {EXTRAS[extra]} needs the [{extra}] extra: "
        f"pip install 'kvs-parser-py[{extra}]'",
        name=error.name,
    )


def absent_modules(extra: str) -> List[str]:
    """The modules of `extra` that cannot be imported here (found without importing them)."""
    absent = []
    for name in EXTRA_MODULES[extra]:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a broken install, or a module blanked in sys.modules
            found = False
        if not found:
            absent.append(name)
    return absent


def command_needs(command: str) -> Optional[str]:
    """One line saying what `kvs-parser COMMAND` needs that is not installed; None when it can run."""
    extra = COMMAND_EXTRAS.get(command)
    absent = absent_modules(extra) if extra is not None else []
    if not absent:
        return None
    return (f"needs the [{extra}] extra ({', '.join(absent)} not installed): "
            f'pip install "kvs-parser-py[{extra}]"')
