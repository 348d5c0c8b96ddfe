"""A user's GStreamer pipeline string, reduced to the decode part this package runs between its own feed and
its own picture sink.

Our parser and GetMedia client are the source and the demuxer, so a full pipeline as the seed design writes
it (``appsrc ! matroskademux ! h264parse ! avdec_h264 ! videoconvert ! appsink``) is taken apart: the
source, the demuxer and the sink are ours, what lies between them is the user's. A string that is only the
decode part (``h264parse ! avdec_h264``, ``vaapih264dec``) is used as it is. The output conversion
(``videoconvert`` to I420, then libswscale to the configured pixel format and size) is always ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..errors import KVSError

# Source and sink elements whose place our feed and our picture sink take.
_SOURCES = frozenset({"appsrc", "fdsrc", "filesrc", "souphttpsrc", "kvssrc"})
_SINKS = frozenset({"appsink", "fakesink", "autovideosink", "xvimagesink", "ximagesink", "glimagesink", "fdsink"})
# Demuxers of what GetMedia sends: our parser already split the Matroska stream into frames.
_DEMUXERS = frozenset({"matroskademux", "matroskaparse", "parsebin", "qtdemux"})

#: The decode part used when a camera gives none, per Matroska CodecID.
DEFAULT_DECODE = {
    "V_MPEG4/ISO/AVC": "h264parse ! avdec_h264",
    "V_MPEGH/ISO/HEVC": "h265parse ! avdec_h265",
}

#: Our picture sink's name in the pipeline.
SINK_NAME = "kvs_pictures"



class GStreamerPipelineError(KVSError, ValueError):
    """A GStreamer pipeline string that cannot be used: it does not parse, names an element that is not
    installed, does not link, or cannot take H.264/H.265. ``element`` names the element at fault, if one is."""

    def __init__(self, message: str, element: Optional[str] = None) -> None:
        super().__init__(message)
        self.element = element


@dataclass(frozen=True)
class DecodePart:
    """The user's decode elements, as GStreamer launch syntax, and what was taken off around them."""

    description: str
    removed: tuple[str, ...] = ()

    @property
    def elements(self) -> list[str]:
        return [_factory_name(token) for token in split_elements(self.description)]


def split_elements(text: str) -> list[str]:
    """The ``!``-separated parts of a launch string; ``!`` inside quotes is not a separator."""
    parts: list[str] = []
    current: list[str] = []
    quote: Optional[str] = None
    for char in text:
        if quote is not None:
            current.append(char)
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
            current.append(char)
        elif char == "!":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if quote is not None:
        raise GStreamerPipelineError(f"unterminated {quote} quote in pipeline {text!r}")
    parts.append("".join(current).strip())
    if any(not part for part in parts):
        raise GStreamerPipelineError(f"empty element in pipeline {text!r} (a '!' with nothing on one side)")
    return parts


def _words(token: str) -> list[str]:
    """Whitespace-separated words of one launch part; quoted values stay in their word."""
    words: list[str] = []
    current: list[str] = []
    quote: Optional[str] = None
    for char in token:
        if quote is None and char.isspace():
            if current:
                words.append("".join(current))
            current = []
            continue
        if quote is None and char in "\"'":
            quote = char
        elif char == quote:
            quote = None
        current.append(char)
    if current:
        words.append("".join(current))
    return words


def _factory_name(token: str) -> str:
    """The element name of one launch part (``avdec_h264 max-threads=1`` -> ``avdec_h264``); caps stay whole."""
    return token.split(None, 1)[0]


def decode_part(text: str) -> DecodePart:
    """Take our source, demuxer and sink off ``text``; what remains is what the camera's frames go through.

    Raises GStreamerPipelineError if nothing is left, or a branch (``name.``, ``t.``) or second source makes
    it more than one chain.
    """
    if not text.strip():
        raise GStreamerPipelineError("the pipeline is empty")
    tokens = split_elements(text)
    removed: list[str] = []
    while tokens and _factory_name(tokens[0]) in _SOURCES | _DEMUXERS:
        removed.append(_factory_name(tokens.pop(0)))
    while tokens and _factory_name(tokens[-1]) in _SINKS:
        removed.append(_factory_name(tokens.pop()))
    # A trailing conversion to raw video is ours too (we add it with the configured format and size).
    while tokens and _factory_name(tokens[-1]) in ("videoconvert", "videoscale", "autovideoconvert"):
        removed.append(_factory_name(tokens.pop()))
    if not tokens:
        raise GStreamerPipelineError(f"pipeline {text!r} has no decoder left once its source, demuxer and sink "
                                     "are taken off (they are this package's): give e.g. 'h264parse ! avdec_h264'")
    for token in tokens:
        # After the element's name only property=value words may follow: another word is a second
        # element or a branch (``tee name=t t. ! ...``), which our one feed and one sink cannot serve.
        words = [word for word in _words(token) if "=" not in word]
        name = words[0] if words else _factory_name(token)
        stray = next((word for word in words[1:]), None)
        if stray is not None or name.endswith(".") or name in _SOURCES | _DEMUXERS | _SINKS:
            raise GStreamerPipelineError(f"pipeline {text!r}: {stray or name!r} breaks the single chain from our "
                                         "feed to our sink (one source, one demuxer, no branches)", stray or name)
    return DecodePart(" ! ".join(tokens), tuple(removed))


def tune_for_latency(part: DecodePart, threads: int) -> DecodePart:
    """Give FFmpeg decoders (``avdec_*``) ``threads`` threads unless the string sets max-threads itself.

    gst-libav's default (0, automatic) uses frame threads, each holding back one picture: 66 ms each at
    15 fps. One thread gives a picture as soon as its own decode ends, as the PyAV backend does.
    """
    if threads <= 0:
        return part
    tuned = []
    for token in split_elements(part.description):
        if _factory_name(token).startswith("avdec_") and "max-threads" not in token:
            token = f"{token} max-threads={threads}"
        tuned.append(token)
    return DecodePart(" ! ".join(tuned), part.removed)


def full_description(part: DecodePart) -> str:
    """The decode part between our feed (a ghost sink pad) and our picture sink, which takes I420 (converted
    to the configured format and size by libswscale, as the PyAV backend does; see _gst_pictures).

    ``appsink sync=false``: a picture is handed over as soon as it is decoded, never held until its
    timestamp comes round on a clock. ``emit-signals``: each picture is taken out of the sink the moment it
    arrives (``new-sample``), so the sink's queue stays empty and a drain (end of stream, or a decoder
    renegotiating) never waits on it; ``max-buffers=0 drop=false``: nothing is ever dropped.
    """
    return (f"{part.description} ! videoconvert ! video/x-raw,format=I420 ! "
            f"appsink name={SINK_NAME} sync=false async=false emit-signals=true wait-on-eos=false "
            "max-buffers=0 drop=false enable-last-sample=false")
