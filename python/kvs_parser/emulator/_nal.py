"""H.264/H.265 bitstream formats: Annex B (start codes, what encoders emit) and the length-prefixed form
with an avcC/hvcC CodecPrivate that Matroska carries, in both directions."""

from __future__ import annotations

import re
from typing import Dict, List

START_CODE = b"\x00\x00\x00\x01"
_START = re.compile(b"\x00\x00\x01")
NAL_LENGTH_SIZE = 4


def split_annexb(data: bytes) -> List[bytes]:
    """NAL units of an Annex B buffer (trailing zero bytes belong to the next start code)."""
    starts = [m.end() for m in _START.finditer(data)]
    ends = [*[m.start() for m in _START.finditer(data)][1:], len(data)]
    return [data[s:e].rstrip(b"\x00") for s, e in zip(starts, ends) if data[s:e].rstrip(b"\x00")]


def length_prefixed(nals: List[bytes]) -> bytes:
    return b"".join(len(n).to_bytes(NAL_LENGTH_SIZE, "big") + n for n in nals)


def _arrays(nals: List[bytes]) -> bytes:
    return b"".join(len(n).to_bytes(2, "big") + n for n in nals)


def avcc(parameter_sets: List[bytes]) -> bytes:
    """AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3) from SPS (type 7) and PPS (type 8) NALs."""
    sps = [n for n in parameter_sets if n[0] & 0x1F == 7]
    pps = [n for n in parameter_sets if n[0] & 0x1F == 8]
    if not sps or not pps:
        raise ValueError("H.264 extradata without SPS and PPS")
    head = bytes([1, sps[0][1], sps[0][2], sps[0][3], 0xFC | (NAL_LENGTH_SIZE - 1), 0xE0 | len(sps)])
    return head + _arrays(sps) + bytes([len(pps)]) + _arrays(pps)


def hvcc(parameter_sets: List[bytes]) -> bytes:
    """HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3) from VPS/SPS/PPS/SEI NALs.

    The general profile/tier/level bytes are copied from the SPS (first 12 bytes of profile_tier_level);
    4:2:0 8-bit is assumed, which is what the synthetic camera encodes.
    """
    by_type: Dict[int, List[bytes]] = {}  # NAL unit type -> its NALs
    for nal in parameter_sets:
        by_type.setdefault((nal[0] >> 1) & 0x3F, []).append(nal)
    sps = by_type.get(33)
    if not sps or not by_type.get(32) or not by_type.get(34):
        raise ValueError("H.265 extradata without VPS, SPS and PPS")
    profile = sps[0][3:15].replace(b"\x00\x00\x03", b"\x00\x00")[:12].ljust(12, b"\x00")
    head = (
        bytes([1]) + profile
        + bytes([0xF0, 0x00, 0xFC, 0xFD, 0xF8, 0xF8, 0x00, 0x00, 0x08 | 0x04 | (NAL_LENGTH_SIZE - 1)])
    )
    arrays = [(t, by_type[t]) for t in (32, 33, 34, 39) if t in by_type]
    body = b"".join(bytes([0x80 | t]) + len(n).to_bytes(2, "big") + _arrays(n) for t, n in arrays)
    return head + bytes([len(arrays)]) + body
