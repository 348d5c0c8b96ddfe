"""Audio: an Amazon Connect-like stream (AUDIO_FROM_CUSTOMER / AUDIO_TO_CUSTOMER, 8 kHz 16-bit PCM) from
the emulator to WAV with `kvs-parser audio`; AAC and G.711 A-law/u-law tracks (PyAV-encoded) to numpy."""

from __future__ import annotations

import struct
import wave
from fractions import Fraction
from pathlib import Path
from typing import Iterator, List, Tuple

import av
import numpy as np
import pytest

from kvs_parser.audio import read_audio
from kvs_parser.cli import main
from kvs_parser.emulator import Emulator
from kvs_parser.mkv import TRACK_TYPE_AUDIO, Block, FragmentInfo, FragmentWriter, TrackSpec, start_tags

pytestmark = pytest.mark.timeout(60)
RATE = 8000
NAMES = ("AUDIO_FROM_CUSTOMER", "AUDIO_TO_CUSTOMER")


def tone(freq: float, seconds: float, rate: int = RATE, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def connect_media(seconds: int = 2) -> Tuple[Tuple[TrackSpec, ...], List[List[Block]], List[np.ndarray]]:
    """Two named PCM tracks, 20 ms per block, one-second fragments (the shape Connect streams have)."""
    tracks = tuple(TrackSpec(n + 1, "A_PCM/INT/LIT", TRACK_TYPE_AUDIO, name=name, sampling_frequency=float(RATE),
                             channels=1, bit_depth=16) for n, name in enumerate(NAMES))
    signals = [tone(440, seconds), tone(1000, seconds)]
    per_block = RATE // 50
    fragments: List[List[Block]] = []
    for block in range(seconds * 50):
        if block % 50 == 0:
            fragments.append([])
        for number, signal in enumerate(signals, 1):
            data = signal[block * per_block : (block + 1) * per_block].astype("<i2").tobytes()
            fragments[-1].append(Block(number, block * 20, data))
    return tracks, fragments, signals


def read_wav(path: Path) -> Tuple[int, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return wav.getframerate(), data.reshape(-1, wav.getnchannels())


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    settings = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-west-2"}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    yield


def test_connect_tracks_by_name_to_wav_from_the_emulator(tmp_path: Path, credentials: None) -> None:
    tracks, fragments, signals = connect_media()
    with Emulator() as emu:
        emu.add_frames_stream("call", tracks, fragments, media_type="audio/L16")
        one, both = tmp_path / "customer.wav", tmp_path / "both.wav"
        common = ["--endpoint-url", emu.endpoint_url, "--region", "us-west-2", "--start", "earliest"]
        assert main(["audio", "call", *common, "--track", "AUDIO_FROM_CUSTOMER", "--out", str(one)]) == 0
        assert main(["audio", "call", *common, "--track", "AUDIO_TO_CUSTOMER", "--track", "AUDIO_FROM_CUSTOMER",
                     "--out", str(both)]) == 0
    rate, samples = read_wav(one)
    assert rate == RATE and np.array_equal(samples[:, 0], signals[0])
    rate, samples = read_wav(both)
    assert samples.shape == (len(signals[0]), 2)
    assert np.array_equal(samples[:, 0], signals[1]) and np.array_equal(samples[:, 1], signals[0])


def test_connect_tracks_from_a_file_and_unknown_names(tmp_path: Path) -> None:
    tracks, fragments, signals = connect_media(1)
    writer = FragmentWriter(tracks)
    source = tmp_path / "call.mkv"
    source.write_bytes(b"".join(writer.fragment(f, start_tags(FragmentInfo(str(i + 1), 0, 0)))
                                for i, f in enumerate(fragments)))
    [track] = read_audio(source.read_bytes(), ["AUDIO_TO_CUSTOMER"])
    assert track.name == "AUDIO_TO_CUSTOMER" and np.array_equal(track.samples[:, 0], signals[1])
    with pytest.raises(LookupError, match="AUDIO_FROM_AGENT"):
        read_audio(source.read_bytes(), ["AUDIO_FROM_AGENT"])


def waveformatex(tag: int, rate: int) -> bytes:
    return struct.pack("<HHIIHHH", tag, 1, rate, rate, 1, 8, 0)


def encode(codec: str, signal: np.ndarray, rate: int) -> Tuple[bytes, List[Tuple[int, bytes]]]:
    """PyAV-encoded packets of a mono s16 signal: (extradata, [(pts ms, bytes)])."""
    encoder = av.CodecContext.create(codec, "w")
    encoder.sample_rate, encoder.layout = rate, "mono"
    encoder.format = "fltp" if codec == "aac" else "s16"
    encoder.time_base = Fraction(1, rate)
    encoder.flags |= av.codec.context.Flags.global_header
    encoder.open()
    size = encoder.frame_size or 160
    packets: List[av.Packet] = []
    for start in range(0, len(signal) - size + 1, size):
        chunk = signal[start : start + size]
        values = (chunk.astype(np.float32) / 32768)[None, :] if codec == "aac" else chunk[None, :]
        frame = av.AudioFrame.from_ndarray(values, format=encoder.format.name, layout="mono")
        frame.sample_rate, frame.pts = rate, start
        packets += encoder.encode(frame)
    packets += encoder.encode(None)
    first = min(p.pts for p in packets)  # AAC's priming packet starts before 0
    return bytes(encoder.extradata or b""), [(round(float((p.pts - first) * p.time_base) * 1000), bytes(p))
                                             for p in packets]


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / len(samples))


def test_aac_and_g711_tracks_decode_to_numpy() -> None:
    signal8k, signal16k = tone(440, 1.0), tone(440, 1.0, rate=16000)
    aac_private, aac = encode("aac", signal16k, 16000)
    _, alaw = encode("pcm_alaw", signal8k, RATE)
    _, mulaw = encode("pcm_mulaw", signal8k, RATE)
    tracks = (
        TrackSpec(1, "A_AAC", TRACK_TYPE_AUDIO, codec_private=aac_private, sampling_frequency=16000.0, channels=1),
        TrackSpec(2, "A_MS/ACM", TRACK_TYPE_AUDIO, codec_private=waveformatex(6, RATE), name="alaw",
                  sampling_frequency=float(RATE), channels=1),
        TrackSpec(3, "A_MS/ACM", TRACK_TYPE_AUDIO, codec_private=waveformatex(7, RATE), name="mulaw",
                  sampling_frequency=float(RATE), channels=1),
    )
    frames = sorted((Block(n, pts, data) for n, packets in ((1, aac), (2, alaw), (3, mulaw)) for pts, data in packets),
                    key=lambda f: (f.timecode, f.track))
    stream = FragmentWriter(tracks).fragment(frames, start_tags(FragmentInfo("1", 0, 0)))
    decoded = {t.name: t for t in read_audio(stream)}
    assert set(decoded) == {"1", "alaw", "mulaw"}
    for name in ("alaw", "mulaw"):
        samples = decoded[name].samples[:, 0]
        assert len(samples) == len(signal8k)
        assert np.max(np.abs(samples.astype(np.int32) - signal8k)) < 300  # G.711 quantisation at this level
    aac_samples = decoded["1"].samples[:, 0]
    assert decoded["1"].sample_rate == 16000 and abs(len(aac_samples) - 16000) <= 2048
    assert abs(dominant_hz(aac_samples, 16000) - 440) < 5 and np.abs(aac_samples).max() > 4000


@pytest.mark.parametrize("channels", [3, 6, 8])
def test_tracks_of_more_than_two_channels_keep_every_channel(channels: int) -> None:
    per_channel = [tone(200 * (c + 1), 0.5) for c in range(channels)]
    interleaved = np.stack(per_channel, axis=1)  # (samples, channels)
    block = RATE // 50
    frames = [Block(1, i * 20, interleaved[i * block:(i + 1) * block].astype("<i2").tobytes()) for i in range(25)]
    tracks = (TrackSpec(1, "A_PCM/INT/LIT", TRACK_TYPE_AUDIO, name="room", sampling_frequency=float(RATE),
                        channels=channels, bit_depth=16),)
    stream = FragmentWriter(tracks).fragment(frames, start_tags(FragmentInfo("1", 0, 0)))
    [track] = read_audio(stream)
    assert track.samples.shape == (len(interleaved), channels)
    assert np.array_equal(track.samples, interleaved), "every channel in its place, untouched"


def test_a_track_of_more_channels_than_a_known_layout_is_a_clear_error() -> None:
    tracks = (TrackSpec(1, "A_PCM/INT/LIT", TRACK_TYPE_AUDIO, sampling_frequency=float(RATE), channels=9,
                        bit_depth=16),)
    stream = FragmentWriter(tracks).fragment([Block(1, 0, bytes(9 * 2 * 160))], start_tags(FragmentInfo("1", 0, 0)))
    with pytest.raises(ValueError, match="9 audio channels"):
        read_audio(stream)
