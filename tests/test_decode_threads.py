"""Decoder and scaler threading chosen for many streams: one thread per decoder by default in low-latency
mode, and the colour conversion done on the calling thread (no scaler thread pool per picture)."""

from __future__ import annotations

import threading
import time

from decode_media import encode
from kvs_parser.decode import DecodeOptions, FrameDecoder
from kvs_parser.decode._pyav_backend import decoder_threads


def test_one_decoder_thread_by_default_unless_asked() -> None:
    assert decoder_threads(DecodeOptions()) == 1
    assert decoder_threads(DecodeOptions(thread_count=3)) == 3
    assert decoder_threads(DecodeOptions(latency="throughput")) == 0  # FFmpeg's choice of frame threads


def test_decoding_and_conversion_run_on_the_calling_thread_only() -> None:
    stream = encode(width=640, height=480, frames=30, gop=15)
    before = threading.active_count()
    with FrameDecoder(DecodeOptions(pixel_format="bgr24", width=320)) as decoder:
        decoder.update_tracks([stream.track])
        thread0, process0 = time.thread_time(), time.process_time()
        pictures = [p for block in stream.blocks for p in decoder.decode(block)] + decoder.flush()
        thread, process = time.thread_time() - thread0, time.process_time() - process0
    assert len(pictures) == 30 and pictures[0].image.shape == (240, 320, 3)
    # With a scaler pool per picture (PyAV's default) a fifth or more of the CPU ran on other threads.
    assert thread >= 0.9 * process, (thread, process)
    assert threading.active_count() == before
