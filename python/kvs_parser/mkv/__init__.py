"""A small pure-Python EBML/Matroska writer, shaped for KVS GetMedia fragments.

Used by the emulator, by tests that need byte-exact streams, and for saving fragments. It needs neither
the native extension nor PyAV.
"""

from __future__ import annotations

from ._blocks import Block, Lacing, block_group, encode_block, simple_block
from ._ebml import (
    binary_element,
    element,
    element_header,
    encode_id,
    encode_signed_vint,
    encode_vint,
    float_element,
    int_element,
    master,
    string_element,
    uint_element,
    unknown_size,
)
from ._ids import Id
from ._kvs import (
    TAG_CONTINUATION_TOKEN,
    TAG_ERROR_CODE,
    TAG_ERROR_ID,
    TAG_EXCEPTION_ERROR_CODE,
    TAG_EXCEPTION_MESSAGE,
    TAG_FRAGMENT_NUMBER,
    TAG_MILLIS_BEHIND_NOW,
    TAG_PRODUCER_SIDE_TIMESTAMP,
    TAG_PRODUCER_TIMESTAMP,
    TAG_SERVER_SIDE_TIMESTAMP,
    TAG_SERVER_TIMESTAMP,
    FragmentInfo,
    FragmentWriter,
    ebml_header,
    end_tags,
    error_tags,
    exception_tags,
    format_timestamp_ms,
    start_tags,
    tags_element,
)
from ._tracks import CODEC_IDS, TRACK_TYPE_AUDIO, TRACK_TYPE_VIDEO, TrackSpec, track_entry, tracks_element

__all__ = [
    "CODEC_IDS",
    "TAG_CONTINUATION_TOKEN",
    "TAG_ERROR_CODE",
    "TAG_ERROR_ID",
    "TAG_EXCEPTION_ERROR_CODE",
    "TAG_EXCEPTION_MESSAGE",
    "TAG_FRAGMENT_NUMBER",
    "TAG_MILLIS_BEHIND_NOW",
    "TAG_PRODUCER_SIDE_TIMESTAMP",
    "TAG_PRODUCER_TIMESTAMP",
    "TAG_SERVER_SIDE_TIMESTAMP",
    "TAG_SERVER_TIMESTAMP",
    "TRACK_TYPE_AUDIO",
    "TRACK_TYPE_VIDEO",
    "Block",
    "FragmentInfo",
    "FragmentWriter",
    "Id",
    "Lacing",
    "TrackSpec",
    "binary_element",
    "block_group",
    "ebml_header",
    "element",
    "element_header",
    "encode_block",
    "encode_id",
    "encode_signed_vint",
    "encode_vint",
    "end_tags",
    "error_tags",
    "exception_tags",
    "float_element",
    "format_timestamp_ms",
    "int_element",
    "master",
    "simple_block",
    "start_tags",
    "string_element",
    "tags_element",
    "track_entry",
    "tracks_element",
    "uint_element",
    "unknown_size",
]
