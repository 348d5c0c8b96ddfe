"""`kvs-parser pipe --format annexb` on a track whose CodecPrivate is cut short or inconsistent: a typed
CodecPrivateError naming the track (one line from the command), never an IndexError; every prefix of a
real avcC record and of an hvcC record is such an error, the whole record reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import kvs_parser
from kvs_parser import pipe
from kvs_parser.mkv import CODEC_IDS, TRACK_TYPE_VIDEO, Block, FragmentInfo, FragmentWriter, TrackSpec, start_tags
from kvs_parser.pipe import parameter_sets

pytestmark = pytest.mark.timeout(60)
H264, HEVC = "V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC"
# hvcC: 22 bytes of profile fields (the last says 4-byte NAL lengths), one array of one 3-byte VPS.
HVCC = bytes(21) + b"\x03" + b"\x01" + b"\xa0\x00\x01" + b"\x00\x03\x40\x01\x0c"


def real_avcc(fixtures: Path) -> bytes:
    tracks: list = []
    parser = kvs_parser.KVSStreamParser(on_tracks=tracks.extend)
    parser.parse((fixtures / "kvs" / "output_get_media.mkv").read_bytes())
    parser.close()
    return bytes(next(t for t in tracks if t.codec_id == H264).codec_private)


def test_whole_records_read(fixtures: Path) -> None:
    length_size, units = parameter_sets(H264, real_avcc(fixtures))
    assert length_size == 4 and [u[0] & 0x1F for u in units] == [7, 8]  # an SPS, then a PPS
    assert parameter_sets(HEVC, HVCC) == (4, [b"\x40\x01\x0c"])


@pytest.mark.parametrize("codec", [H264, HEVC])
def test_every_prefix_of_a_record_is_a_codec_private_error(fixtures: Path, codec: str) -> None:
    record = real_avcc(fixtures) if codec == H264 else HVCC
    for size in range(len(record)):
        with pytest.raises(pipe.CodecPrivateError):
            parameter_sets(codec, record[:size])


def test_pipe_annexb_names_the_track_of_a_short_codec_private(tmp_path: Path) -> None:
    track = TrackSpec(number=2, uid=2, codec_id=CODEC_IDS["h264"], track_type=TRACK_TYPE_VIDEO,
                      codec_private=b"\x01\x64\x00", width=64, height=48)
    frames = [Block(2, i * 40, b"\x00\x00\x00\x02\x65\x88", keyframe=i == 0) for i in range(3)]
    capture = tmp_path / "short.mkv"
    capture.write_bytes(FragmentWriter([track]).fragment(frames, start_tags(FragmentInfo("1", 0, 0))))
    result = subprocess.run([sys.executable, "-m", "kvs_parser", "pipe", str(capture), "--format", "annexb"],
                            capture_output=True, timeout=60, check=False)
    stderr = result.stderr.decode()
    assert result.returncode == 1 and result.stdout == b"", stderr
    assert stderr.splitlines() == [stderr.strip()], "one line"
    assert "CodecPrivateError: track 2 (V_MPEG4/ISO/AVC): CodecPrivate is not a complete avcC record" in stderr
    assert "IndexError" not in stderr
