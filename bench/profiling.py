"""Where the CPU goes, by instrumentation rather than sampling: the CPU time of the calling thread
(time.thread_time) spent in the native parser's parse(), in the decoder, and in its colour conversion,
plus the per-thread CPU of the process from /proc for what Python does not run itself (FFmpeg's
slice-decoding threads).

(A sampling profiler was tried first: py-spy's native stacks put many waiting threads under a wrong
libpython symbol, gc_collect_main, while gc.callbacks showed no collection at all, so its split was not
trustworthy here.)
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Dict, Iterator, Optional

PARSE, DECODE, COLOUR, OTHER = ("parse (native kvs_parser, incl. its callbacks)", "decode (libavcodec H.264)",
                                "colour conversion (libswscale, to numpy)",
                                "Python overhead + socket I/O (getmedia, source, queue, app)")
UNACCOUNTED = "threads that ended inside the window (process CPU minus the threads /proc still lists)"
NATIVE = "native threads (FFmpeg decoder pools)"


@contextlib.contextmanager
def instrumented() -> Iterator[Dict[str, float]]:
    """Adds up thread CPU seconds spent in parse(), in the PyAV track decoders' decode() and in their colour
    conversion, over every thread, while the block runs (patches the classes; new objects only)."""
    from kvs_parser.decode import _pyav_backend as pyav_backend
    from kvs_parser.getmedia import _connection as connection

    totals = {"parse": 0.0, "decode": 0.0, "colour": 0.0}
    lock = threading.Lock()

    def add(key: str, seconds: float) -> None:
        with lock:
            totals[key] += seconds

    real_parser = connection.KVSStreamParser
    real_decode = pyav_backend.PyAVTrackDecoder.decode
    real_convert = pyav_backend.PyAVTrackDecoder._to_decoded

    class TimedParser:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._parser = real_parser(*args, **kwargs)

        def parse(self, chunk: Any) -> Any:
            start = time.thread_time()
            try:
                return self._parser.parse(chunk)
            finally:
                add("parse", time.thread_time() - start)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._parser, name)

    def decode(self: Any, frame: Any) -> Any:
        start = time.thread_time()
        try:
            return real_decode(self, frame)
        finally:
            add("decode", time.thread_time() - start)  # colour conversion included; taken out below

    def to_decoded(self: Any, picture: Any, meta: Any) -> Any:
        start = time.thread_time()
        try:
            return real_convert(self, picture, meta)
        finally:
            add("colour", time.thread_time() - start)

    connection.KVSStreamParser = TimedParser  # type: ignore[misc, assignment]
    pyav_backend.PyAVTrackDecoder.decode = decode  # type: ignore[method-assign]
    pyav_backend.PyAVTrackDecoder._to_decoded = to_decoded  # type: ignore[method-assign]
    try:
        yield totals
    finally:
        connection.KVSStreamParser = real_parser  # type: ignore[misc]
        pyav_backend.PyAVTrackDecoder.decode = real_decode  # type: ignore[method-assign]
        pyav_backend.PyAVTrackDecoder._to_decoded = real_convert  # type: ignore[method-assign]


def split(totals: Dict[str, float], threads: Dict[str, float], seconds: float,
          process_cpu: Optional[float] = None) -> Dict[str, float]:
    """% of one core per category over `seconds`, from the instrumented totals (CPU seconds), the
    per-thread-group CPU seconds of the same window and, to count every thread, the process CPU seconds:
    what threads that ended before the window's end used (a thread pool created per call, as PyAV's
    default swscale threading did) is only visible in the process total."""
    native = sum(value for name, value in threads.items() if name.startswith("native"))
    python = sum(threads.values()) - native
    decode = max(0.0, totals["decode"] - totals["colour"])
    rest = max(0.0, python - totals["parse"] - totals["decode"])
    ended = 0.0 if process_cpu is None else max(0.0, process_cpu - sum(threads.values()))
    return {name: value / seconds * 100 for name, value in (
        (PARSE, totals["parse"]), (DECODE, decode + native), (COLOUR, totals["colour"]), (OTHER, rest),
        (UNACCOUNTED, ended))}
