"""One running GStreamer pipeline: our feed pad, the user's decode part, our picture sink.

Blocks are pushed through a source pad of our own, linked to the pipeline's input, from the caller's
thread, where ``appsrc`` would queue them for a streaming thread of its own. In a pipeline without a queue
(the seed's ``h264parse ! avdec_h264``) a push then returns only once the decoder has handed on every
picture that block released, so the pictures can be pulled from the sink right away: none waits for the
next block or for a thread hand-over. A decoder or queue with a thread of its own delivers later; its
pictures are pulled after the next block, or at ``drain``.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from typing import Any

from ._gst_pipeline import SINK_NAME, GStreamerPipelineError
from ._gst_runtime import gst_modules

# How long drain() waits for elements with threads of their own to pass the end of stream on.
_DRAIN_TIMEOUT_S = 2.0
_QUOTED = re.compile(r'"([^"]+)"')
_LINK = re.compile(r"could not link (\S+) to (\S+)")
_stream_ids = itertools.count()


def _factory_of(instance: str) -> str:
    """GStreamer names elements factory + count (``h264parse3``, ``avdec_h264-2``); the factory is what the
    user wrote."""
    dashed = re.match(r"^(.*\d)-\d+$", instance)
    return dashed.group(1) if dashed else re.sub(r"\d+$", "", instance)


def build_bin(description: str, shown: str = "") -> Any:
    """Parse ``description`` into a bin with a ghost ``sink`` pad; GStreamerPipelineError names the element
    that is not installed, does not link, or has no such property (``shown``: the user's own string)."""
    Gst, _, _ = gst_modules()
    from gi.repository import GLib

    try:
        return Gst.parse_bin_from_description_full(description, True, None, Gst.ParseFlags.FATAL_ERRORS)
    except GLib.Error as error:
        message, element = error.message, None
        names = _QUOTED.findall(message)
        link = _LINK.search(message)
        if link is not None:
            element = _factory_of(link.group(1))
            message = f"could not link {element} to {_factory_of(link.group(2))}"
        elif names:
            element = names[-1] if error.code == Gst.ParseError.NO_SUCH_PROPERTY else names[0]
            if error.code == Gst.ParseError.NO_SUCH_ELEMENT:
                message = f"element {element!r} is not installed (`gst-inspect-1.0 {element}` finds no such element)"
        raise GStreamerPipelineError(f"GStreamer pipeline {shown or description!r}: {message}", element) from None


def bin_accepts(bin_: Any, caps_text: str) -> bool:
    """Whether the bin's input pad takes ``caps_text`` (checked against its elements' pad templates)."""
    Gst, _, _ = gst_modules()
    pad = bin_.get_static_pad("sink")
    if pad is None:
        return False
    return bool(pad.query_caps(None).can_intersect(Gst.Caps.from_string(caps_text)))


class GstSession:
    """A pipeline in PLAYING, fed block by block; ``pull`` returns the samples that reached the sink."""

    def __init__(self, description: str, caps_text: str) -> None:
        Gst, _, _ = gst_modules()
        self._gst = Gst
        self._bin = build_bin(description)
        self._pipeline = Gst.Pipeline.new(None)
        self._pipeline.add(self._bin)
        self._sink = self._bin.get_by_name(SINK_NAME)
        # Filled on the thread that decoded the picture: ours, or a decoder's or queue's own thread.
        self._ready: deque[Any] = deque()
        self._ended = threading.Event()
        self._bus = self._pipeline.get_bus()
        self._feed = Gst.Pad.new("kvs_feed", Gst.PadDirection.SRC)
        target = self._bin.get_static_pad("sink")
        if self._sink is None or target is None:
            raise GStreamerPipelineError(f"pipeline {description!r} has no free input pad for the frames")
        self._sink.connect("new-sample", self._on_sample)
        self._sink.connect("eos", lambda _sink: self._ended.set())
        self._feed.set_active(True)
        if self._feed.link(target) != Gst.PadLinkReturn.OK:
            raise GStreamerPipelineError(f"cannot link the frame feed to {description!r}")
        if self._pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self.close()
            raise GStreamerPipelineError(f"pipeline {description!r} does not start: {self.problems()}")
        segment = Gst.Segment()
        segment.init(Gst.Format.TIME)
        for event in (Gst.Event.new_stream_start(f"kvs-parser-{next(_stream_ids)}"),
                      Gst.Event.new_caps(Gst.Caps.from_string(caps_text)), Gst.Event.new_segment(segment)):
            self._feed.push_event(event)

    def push(self, data: bytes, pts_ns: int, keyframe: bool) -> bool:
        """Send one block; False if the pipeline refused it (then ``problems`` says why)."""
        Gst = self._gst
        buffer = Gst.Buffer.new_wrapped(data)
        buffer.pts = pts_ns
        if not keyframe:
            buffer.set_flags(Gst.BufferFlags.DELTA_UNIT)
        return bool(self._feed.push(buffer) == Gst.FlowReturn.OK)

    def _on_sample(self, sink: Any) -> Any:
        sample = sink.try_pull_sample(0)
        if sample is not None:
            self._ready.append(sample)
        return self._gst.FlowReturn.OK

    def pull(self) -> list[Any]:
        """The samples that reached the sink since the last call."""
        samples = []
        while self._ready:
            samples.append(self._ready.popleft())
        return samples

    def problems(self) -> list[str]:
        """Errors and warnings the pipeline posted since the last call (a decoder rejecting data posts one)."""
        Gst = self._gst
        found = []
        kinds = Gst.MessageType.ERROR | Gst.MessageType.WARNING
        message = self._bus.pop_filtered(kinds)
        while message is not None:
            if message.type == Gst.MessageType.ERROR:
                error, _ = message.parse_error()
            else:
                error, _ = message.parse_warning()
            source = message.src.get_name() if message.src is not None else "pipeline"
            found.append(f"{source}: {error.message}")
            message = self._bus.pop_filtered(kinds)
        return found

    def drain(self) -> list[Any]:
        """End the stream and return every picture the decoder still held; the session is done after."""
        self._feed.push_event(self._gst.Event.new_eos())
        self._ended.wait(_DRAIN_TIMEOUT_S)  # bounded: an element that never passes the end of stream on cannot hang us
        return self.pull()

    def close(self) -> None:
        self._pipeline.set_state(self._gst.State.NULL)
        self._feed.set_active(False)
