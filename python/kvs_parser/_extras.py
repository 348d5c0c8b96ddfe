"""The optional layers of the package and the extra that installs each.

A plain install is the parser and the GetMedia client (boto3). A module of an optional layer imports its
third-party dependencies through ``missing_extra``, so a missing one is an ImportError that names the extra
to install, raised when the layer is imported rather than later in a reader thread.
"""

from __future__ import annotations

# extra -> what it adds
EXTRAS = {
    "decode": "decoding to numpy pictures with PyAV (kvs_parser.decode, kvs_parser.source, kvs_parser.audio)",
    "app": "cameras.yaml, Prometheus metrics and `kvs-parser run` (kvs_parser.config, kvs_parser.metrics)",
    "emulator": "the local Kinesis Video Streams emulator (kvs_parser.emulator)",
    "gstreamer": "decoding through a GStreamer pipeline (decode_backend gstreamer, parser type: gstreamer)",
    "ray": "cameras on a Ray cluster with checkpoints in Redis (kvs_parser.ray, RedisCheckpointStore, run --ray)",
}


def missing_extra(extra: str, error: ImportError) -> ImportError:
    """The ImportError to raise (``from error``) when a dependency of the ``extra`` layer is not installed."""
    return ImportError(
        f"{error.name or error} is not installed: {EXTRAS[extra]} needs the [{extra}] extra: "
        f"pip install 'kvs-parser-py[{extra}]'",
        name=error.name,
    )
