"""The pure-Python peer: fragment-level parsing with ebmlite, driven the way the aws-samples
"Amazon Kinesis Video Streams Consumer Library for Python" drives it (our own driver, benchmark only):

- the GetMedia StreamingBody is iterated (botocore yields 1 KiB chunks) and every chunk is appended to a
  buffer;
- after each chunk the whole buffer is loaded again with ebmlite's Matroska schema and its top-level
  elements are listed; once a second EBML header is there, the bytes before it are one complete fragment;
- that fragment is loaded once more as its own document and handed over (bytes + DOM), and the buffer
  keeps what follows;
- the consumer reads the fragment's SimpleTags (Segment/Tags/Tag/SimpleTag) and its frames
  (Segment/Cluster/SimpleBlock) from the DOM, or hands the bytes to PyAV to decode the whole fragment.

So a frame is handed over only when the *next* fragment's header arrives. The library itself never hands
over the last fragment of a finished stream; `finish()` does, so that frame counts can be compared.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ebmlite import loadSchema

EBML_ID = 0x1A45DFA3
SEGMENT_ID = 0x18538067
CLUSTER_ID = 0x1F43B675
TIMECODE_ID = 0xE7
SIMPLE_BLOCK_ID = 0xA3
TAGS_ID = 0x1254C367
TAG_ID = 0x7373
SIMPLE_TAG_ID = 0x67C8
TAG_NAME_ID = 0x45A3
TAG_STRING_ID = 0x4487
TAG_BINARY_ID = 0x4485
BOTOCORE_CHUNK = 1024  # StreamingBody.__iter__ reads this much at a time

_SCHEMA: List[Any] = []


def schema() -> Any:
    if not _SCHEMA:
        _SCHEMA.append(loadSchema("matroska.xml"))
    return _SCHEMA[0]


@dataclass
class Fragment:
    data: bytes
    dom: Any


@dataclass
class FragmentAssembler:
    """Buffers chunks and cuts complete fragments at the next EBML header, re-parsing as the library does."""

    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> List[Fragment]:
        self.buffer.extend(chunk)
        out: List[Fragment] = []
        while True:
            interim = schema().load(io.BytesIO(self.buffer), headers=True)
            headers = [element.offset for element in interim if element.id == EBML_ID]
            if len(headers) < 2:
                return out
            data = bytes(self.buffer[headers[0] : headers[1]])
            out.append(Fragment(data, schema().load(io.BytesIO(data), headers=True)))
            self.buffer = self.buffer[headers[1] :]

    def finish(self) -> List[Fragment]:
        if not self.buffer:
            return []
        data, self.buffer = bytes(self.buffer), bytearray()
        return [Fragment(data, schema().load(io.BytesIO(data), headers=True))]


def _children(dom: Any, element_id: int) -> List[Any]:
    return [element for element in dom if element.id == element_id]


def fragment_tags(dom: Any) -> Dict[str, Any]:
    """SimpleTag name -> value of the fragment's Segment (what get_fragment_tags returns)."""
    tags: Dict[str, Any] = {}
    for segment in _children(dom, SEGMENT_ID):
        for tags_element in _children(segment, TAGS_ID):
            for tag in _children(tags_element, TAG_ID):
                for simple in _children(tag, SIMPLE_TAG_ID):
                    name, value = None, None
                    for child in simple:
                        if child.id == TAG_NAME_ID:
                            name = child.value
                        elif child.id in (TAG_STRING_ID, TAG_BINARY_ID):
                            value = child.value
                    if name:
                        tags[name] = value
    return tags


def simple_blocks(dom: Any) -> List[Tuple[int, bytes]]:
    """(absolute timecode in ms, block bytes) of each SimpleBlock, Segment by Segment, Cluster by Cluster.
    The block bytes start with the track number, the relative timecode and the flags (4 bytes for track
    numbers below 128), as in the DOM the library hands out."""
    blocks: List[Tuple[int, bytes]] = []
    for segment in _children(dom, SEGMENT_ID):
        for cluster in _children(segment, CLUSTER_ID):
            base = 0
            for child in cluster:
                if child.id == TIMECODE_ID:
                    base = int(child.value)
                elif child.id == SIMPLE_BLOCK_ID:
                    data = bytes(child.value)
                    relative = int.from_bytes(data[1:3], "big", signed=True)
                    blocks.append((base + relative, data))
    return blocks


def producer_ms(tags: Dict[str, Any]) -> Optional[int]:
    value = tags.get("AWS_KINESISVIDEO_PRODUCER_TIMESTAMP")
    try:
        return round(float(value) * 1000) if value is not None else None
    except ValueError:
        return None
