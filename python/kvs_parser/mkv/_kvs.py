"""KVS fragments as GetMedia sends them: per fragment one EBML header and one Segment holding Info,
Tracks, the fragment tags, one Cluster, then the MILLIS_BEHIND_NOW / CONTINUATION_TOKEN tags.

The shape follows the real captures in tests/fixtures/kvs: Segment of unknown size (8-byte all-ones),
masters with 8-byte sizes, Tags as Tags > Tag > SimpleTag(TagName, TagString) without Targets.
A fragment can be produced whole (`fragment`) or piecewise for streaming (`prefix`, `block`, `suffix`),
the piecewise form needing an unknown-size Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Tuple

from ._blocks import Block, encode_block
from ._ebml import element_header, master, string_element, uint_element
from ._ids import Id
from ._tracks import TrackSpec, tracks_element

TAG_FRAGMENT_NUMBER = "AWS_KINESISVIDEO_FRAGMENT_NUMBER"
TAG_SERVER_TIMESTAMP = "AWS_KINESISVIDEO_SERVER_TIMESTAMP"
TAG_PRODUCER_TIMESTAMP = "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"
# GetMediaForFragmentList spells the timestamp tags with _SIDE_.
TAG_SERVER_SIDE_TIMESTAMP = "AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP"
TAG_PRODUCER_SIDE_TIMESTAMP = "AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP"
TAG_MILLIS_BEHIND_NOW = "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"
TAG_CONTINUATION_TOKEN = "AWS_KINESISVIDEO_CONTINUATION_TOKEN"
TAG_ERROR_CODE = "AWS_KINESISVIDEO_ERROR_CODE"
TAG_ERROR_ID = "AWS_KINESISVIDEO_ERROR_ID"
# GetMediaForFragmentList's error tags: the integer code and its text.
TAG_EXCEPTION_ERROR_CODE = "AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE"
TAG_EXCEPTION_MESSAGE = "AWS_KINESISVIDEO_EXCEPTION_MESSAGE"

Tags = Sequence[Tuple[str, str]]


def format_timestamp_ms(millis: int) -> str:
    """Epoch milliseconds as KVS writes them: seconds with exactly three decimals."""
    return f"{millis // 1000}.{millis % 1000:03d}"


@dataclass(frozen=True)
class FragmentInfo:
    fragment_number: str
    server_timestamp_ms: int
    producer_timestamp_ms: int


def start_tags(info: FragmentInfo, *, side_spelling: bool = False) -> Tags:
    return (
        (TAG_FRAGMENT_NUMBER, info.fragment_number),
        (TAG_SERVER_SIDE_TIMESTAMP if side_spelling else TAG_SERVER_TIMESTAMP,
         format_timestamp_ms(info.server_timestamp_ms)),
        (TAG_PRODUCER_SIDE_TIMESTAMP if side_spelling else TAG_PRODUCER_TIMESTAMP,
         format_timestamp_ms(info.producer_timestamp_ms)),
    )


def end_tags(millis_behind_now: int, continuation_token: str) -> Tags:
    return ((TAG_MILLIS_BEHIND_NOW, str(millis_behind_now)), (TAG_CONTINUATION_TOKEN, continuation_token))


# GetMedia's error ids and their descriptions, as the service documents them.
ERROR_DESCRIPTIONS = {
    3002: "Error writing to the stream",
    4000: "Requested fragment is not found",
    4500: "Access denied for the stream's KMS key",
    4501: "Stream's KMS key is disabled",
    4502: "Validation error on the stream's KMS key",
    4503: "KMS key specified in the stream is unavailable",
    4504: "Invalid usage of the KMS key specified in the stream",
    4505: "Invalid state of the KMS key specified in the stream",
    4506: "Unable to find the KMS key specified in the stream",
    5000: "Internal error",
}


def error_tags(error_id: int, description: str = "") -> Tags:
    """ERROR_ID is the integer code, ERROR_CODE its text description (GetMedia's documented tags)."""
    text = description or ERROR_DESCRIPTIONS.get(error_id, "Error")
    return ((TAG_ERROR_CODE, text), (TAG_ERROR_ID, str(error_id)))


def exception_tags(error_id: int, description: str = "") -> Tags:
    """The same error as GetMediaForFragmentList spells it (EXCEPTION_ERROR_CODE is the integer)."""
    text = description or ERROR_DESCRIPTIONS.get(error_id, "Error")
    return ((TAG_EXCEPTION_ERROR_CODE, str(error_id)), (TAG_EXCEPTION_MESSAGE, text))


def tags_element(tags: Tags) -> bytes:
    simple = [
        master(Id.SIMPLE_TAG, [string_element(Id.TAG_NAME, name), string_element(Id.TAG_STRING, value)])
        for name, value in tags
    ]
    return master(Id.TAGS, [master(Id.TAG, simple, size_length=8)], size_length=8)


def ebml_header() -> bytes:
    return master(
        Id.EBML,
        [
            uint_element(Id.EBML_VERSION, 1),
            uint_element(Id.EBML_READ_VERSION, 1),
            uint_element(Id.EBML_MAX_ID_LENGTH, 4),
            uint_element(Id.EBML_MAX_SIZE_LENGTH, 8),
            string_element(Id.DOC_TYPE, "matroska"),
            uint_element(Id.DOC_TYPE_VERSION, 4),
            uint_element(Id.DOC_TYPE_READ_VERSION, 2),
        ],
        size_length=8,
    )


@dataclass(frozen=True)
class FragmentWriter:
    """Writes KVS fragments for a fixed set of tracks."""

    tracks: Tuple[TrackSpec, ...]
    timecode_scale: int = 1_000_000
    known_segment_size: bool = False
    known_cluster_size: bool = True
    block_groups: bool = False
    writing_app: str = "kvs_parser.mkv"

    def info(self) -> bytes:
        return master(
            Id.INFO,
            [
                uint_element(Id.TIMECODE_SCALE, self.timecode_scale),
                string_element(Id.MUXING_APP, self.writing_app),
                string_element(Id.WRITING_APP, self.writing_app),
            ],
            size_length=8,
        )

    def _segment_head(self, tags: Tags) -> bytes:
        head = self.info() + tracks_element(self.tracks)
        return head + tags_element(tags) if tags else head

    def prefix(self, tags: Tags, cluster_timecode: int, blocks_size: Optional[int] = None) -> bytes:
        """Streaming form, start: EBML header .. Cluster Timecode, Segment of unknown size.

        The Cluster has unknown size unless `blocks_size` (the bytes of the blocks to follow) is given.
        """
        timecode = uint_element(Id.TIMECODE, cluster_timecode)
        cluster_size = None if blocks_size is None else len(timecode) + blocks_size
        return (
            ebml_header()
            + element_header(Id.SEGMENT, None)
            + self._segment_head(tags)
            + element_header(Id.CLUSTER, cluster_size, 8)
            + timecode
        )

    def block(self, frame: Block, cluster_timecode: int) -> bytes:
        return encode_block(frame, cluster_timecode, block_groups=self.block_groups)

    def suffix(self, tags: Tags) -> bytes:
        """Streaming form, end: the tags that follow the Cluster (MILLIS_BEHIND_NOW, CONTINUATION_TOKEN)."""
        return tags_element(tags) if tags else b""

    def cluster(self, frames: Iterable[Block], cluster_timecode: Optional[int] = None) -> bytes:
        frames = list(frames)
        if cluster_timecode is None:
            cluster_timecode = min((f.timecode for f in frames), default=0)
        children = [uint_element(Id.TIMECODE, cluster_timecode)]
        children += [self.block(f, cluster_timecode) for f in frames]
        return master(Id.CLUSTER, children, known_size=self.known_cluster_size, size_length=8)

    def fragment(
        self,
        frames: Iterable[Block],
        tags: Tags = (),
        trailing_tags: Tags = (),
        cluster_timecode: Optional[int] = None,
    ) -> bytes:
        """A whole fragment; honours known/unknown Segment and Cluster sizes."""
        body = self._segment_head(tags) + self.cluster(frames, cluster_timecode) + self.suffix(trailing_tags)
        return ebml_header() + master(Id.SEGMENT, [body], known_size=self.known_segment_size, size_length=8)

    def error_fragment(self, error_id: int, description: str = "", *, exception_spelling: bool = False) -> bytes:
        """What GetMedia sends when it fails mid-stream: a Segment carrying only the error tags
        (`exception_spelling`: GetMediaForFragmentList's _EXCEPTION_ names)."""
        tags = (exception_tags if exception_spelling else error_tags)(error_id, description)
        return ebml_header() + element_header(Id.SEGMENT, None) + tags_element(tags)
