"""Matroska H.264/H.265 blocks as the Annex B access units a hardware decoder (NVDEC) is fed.

NVDEC's parser takes an elementary stream: start codes, parameter sets in band. Matroska stores NAL units
length-prefixed with the parameter sets in CodecPrivate (avcC/hvcC), so each keyframe gets the parameter
sets in front: a decoder opened (or reopened after bad data) at any keyframe can start there.
The conversion itself is the one the Annex B pipe uses (``kvs_parser.pipe.annexb``).
"""

from __future__ import annotations

import logging
from typing import Union

from .._kvsparser import TrackInfo
from ..pipe._annexb import H264, HEVC, START_CODE, parameter_sets, to_annexb
from ._codecs import UnsupportedCodecError, is_annex_b, is_configuration_record
from ._model import EncodedFrame

log = logging.getLogger(__name__)

ANNEXB_CODECS = (H264, HEVC)

Buffer = Union[bytes, bytearray, memoryview]


class AnnexBFeed:
    """Turns one track's blocks into Annex B access units.

    CodecPrivate may be an avcC/hvcC record (the usual case), parameter sets already in Annex B form, or
    empty (then the frames must carry them in band). Frames that already start with a start code are
    passed through unchanged, as FFmpeg's decoder would take them.
    """

    def __init__(self, track: TrackInfo) -> None:
        if track.codec_id not in ANNEXB_CODECS:
            raise UnsupportedCodecError(
                f"track {track.number}: codec {track.codec_id!r} is not supported by NVDEC here "
                f"(supported: {', '.join(ANNEXB_CODECS)})"
            )
        self.codec_id = track.codec_id
        self.length_size = 4
        self.parameter_sets = b""
        private = bytes(track.codec_private or b"")
        # The format comes from CodecPrivate: with a valid avcC/hvcC record the frames are length-prefixed,
        # whatever their first bytes look like (a 256-511-byte first NAL begins 00 00 01).
        self.length_prefixed = is_configuration_record(track.codec_id, private)
        if private and is_annex_b(private):
            self.parameter_sets = private
        elif private:
            try:
                self.length_size, units = parameter_sets(track.codec_id, private)
            except (IndexError, ValueError) as error:
                # A truncated record: the frames may still carry their parameter sets in band.
                log.warning("track %d: unreadable CodecPrivate (%s); relying on in-band parameter sets",
                            track.number, error)
            else:
                self.parameter_sets = b"".join(START_CODE + unit for unit in units)

    def access_unit(self, frame: EncodedFrame) -> bytes:
        """The block as one Annex B access unit; raises ValueError if its NAL lengths are corrupt."""
        data = bytes(frame.data)
        if self.length_prefixed:
            try:
                payload = to_annexb(data, self.length_size, strict=True)
            except ValueError:
                if not is_annex_b(data):
                    raise
                payload = data  # a producer that declares avcC but sends start codes
        else:
            payload = data if is_annex_b(data) else to_annexb(data, self.length_size, strict=True)
        return self.parameter_sets + payload if frame.is_keyframe else payload
