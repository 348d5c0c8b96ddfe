"""The Emulator: streams, fault plan and limits behind a local HTTP endpoint that boto3 talks to."""

from __future__ import annotations

import itertools
import re
import threading
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

from ..mkv import Block, FragmentWriter, TrackSpec, start_tags
from ._camera import SyntheticCamera
from ._errors import AwsError
from ._faults import Fault, FaultPlan, FaultRule
from ._hls_sessions import HlsSessions
from ._hooks import Hooks
from ._limits import Limits, LimitTracker
from ._live import LiveFeeder
from ._replay import ReplayFeeder
from ._routes import ROUTES
from ._server import EmulatorHTTPServer
from ._sources import FileMedia, load_file
from ._state import ServiceState
from ._store import FRAGMENT_NUMBER_BASE, FRAGMENT_NUMBER_STEP, Stream, now_ms

ACCOUNT = "123456789012"


class Emulator:
    """A local KVS endpoint. Use as a context manager; `endpoint_url` is what boto3 gets.

    >>> with Emulator() as emu:
    ...     emu.add_live_stream("cam", SyntheticCamera(fps=30))
    ...     client = boto3.client("kinesis-video-media", endpoint_url=emu.endpoint_url, ...)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        limits: Optional[Limits] = None,
        region: str = "us-west-2",
        allowed_access_keys: Optional[Set[str]] = None,
    ) -> None:
        self.host, self.port, self.region = host, port, region
        limits = limits or Limits()
        # What the server and the request handlers see of this emulator (they never see the Emulator).
        self._state = ServiceState(
            limits=limits, limit_tracker=LimitTracker(limits), faults=FaultPlan(), hls=HlsSessions(),
            hooks=Hooks(), stopping=threading.Event(), allowed_access_keys=allowed_access_keys,
            endpoint=lambda: self.endpoint_url, data_endpoint=lambda: self.data_endpoint_url,
            stream=self.stream, streams=self.streams,
            add_empty_stream=self.add_empty_stream, remove_stream=self.remove_stream, writer=self.writer,
        )
        self._streams: Dict[str, Stream] = {}
        self._feeders: Dict[str, Union[LiveFeeder, ReplayFeeder]] = {}
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._httpd: Optional[EmulatorHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        # A data endpoint of its own once move_data_endpoint() was called (until then: the main one).
        self._data: Optional[Tuple[EmulatorHTTPServer, threading.Thread]] = None

    # -- lifecycle --
    def _serve(self, port: int) -> Tuple[EmulatorHTTPServer, threading.Thread]:
        httpd = EmulatorHTTPServer((self.host, port), self._state, ROUTES)
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="kvs-emu-http", daemon=True)
        thread.start()
        return httpd, thread

    def start(self) -> Emulator:
        self._httpd, self._thread = self._serve(self.port)
        self.port = self._httpd.server_address[1]
        return self

    @staticmethod
    def _shut(httpd: EmulatorHTTPServer, thread: threading.Thread) -> None:
        httpd.shutdown()
        httpd.cut_connections()
        httpd.server_close()  # joins the handler threads (block_on_close)
        thread.join(5)

    def close(self) -> None:
        """Stops producers, ends every response, closes every connection and joins every thread."""
        self.stopping.set()
        for feeder in list(self._feeders.values()):
            feeder.join()
        with self._lock:
            data, self._data = self._data, None
        if data is not None:
            self._shut(*data)
        if self._httpd is not None and self._thread is not None:
            self._shut(self._httpd, self._thread)
            self._httpd = self._thread = None

    def move_data_endpoint(self) -> str:
        """Serves the data plane (GetMedia, archived media) from a new port, as when KVS moves a stream:
        the old data endpoint's connections are cut and it never answers a data-plane call again (a
        previous separate one stops listening; the main port hangs up on them). Returns the new URL."""
        assert self._httpd is not None, "start the emulator first"
        new = self._serve(0)
        with self._lock:
            old, self._data = self._data, new
        self.faults.note("endpoint moved")
        if old is not None:
            self._shut(*old)
        else:
            self._httpd.retired = True
            self._httpd.cut_connections()
        return self.data_endpoint_url

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- the service state, by the names the emulator has always had --
    @property
    def limits(self) -> Limits:
        return self._state.limits

    @property
    def limit_tracker(self) -> LimitTracker:
        return self._state.limit_tracker

    @property
    def faults(self) -> FaultPlan:
        return self._state.faults

    @property
    def hls(self) -> HlsSessions:
        return self._state.hls

    @property
    def hooks(self) -> Hooks:
        """Callbacks on frames appended and bytes sent (see kvs_parser.emulator.Hooks)."""
        return self._state.hooks

    @property
    def stopping(self) -> threading.Event:
        return self._state.stopping

    @property
    def allowed_access_keys(self) -> Optional[Set[str]]:
        return self._state.allowed_access_keys

    @property
    def data_endpoint_url(self) -> str:
        """What GetDataEndpoint answers: the main endpoint until move_data_endpoint()."""
        with self._lock:
            data = self._data
        return self.endpoint_url if data is None else f"http://{self.host}:{data[0].server_address[1]}"

    # -- streams --
    def _new_stream(
        self, name: str, tracks: Tuple[TrackSpec, ...], live: bool, media_type: str = "video/h264"
    ) -> Stream:
        if not re.fullmatch(r"[a-zA-Z0-9_.-]{1,256}", name):
            raise AwsError("InvalidArgumentException", f"bad stream name {name!r}")
        with self._lock:
            if name in self._streams:
                raise AwsError("ResourceInUseException", f"stream {name} exists")
            arn = f"arn:aws:kinesisvideo:{self.region}:{ACCOUNT}:stream/{name}/{now_ms()}"
            stream = Stream(name, arn, tracks, live, media_type, hooks=self.hooks)
            self._streams[name] = stream
            return stream

    def next_fragment_number(self) -> int:
        return FRAGMENT_NUMBER_BASE + next(self._numbers) * FRAGMENT_NUMBER_STEP

    def add_empty_stream(self, name: str, media_type: str = "video/h264") -> Stream:
        """A stream with no producer (what CreateStream makes): GetMedia on it waits for data."""
        return self._new_stream(name, (), live=True, media_type=media_type)

    def add_file_stream(
        self, name: str, path: str, *, min_fragment_ms: int = 0, server_start_ms: Optional[int] = None,
    ) -> Stream:
        """A finished stream made of `path` cut into fragments at keyframes; GetMedia ends after the last."""
        media = load_file(path, min_fragment_ms)
        return self.add_frames_stream(name, media.tracks, media.fragments, server_start_ms=server_start_ms)

    def add_frames_stream(
        self, name: str, tracks: Sequence[TrackSpec], fragments: Sequence[Sequence[Block]], *,
        server_start_ms: Optional[int] = None, media_type: str = "video/h264",
    ) -> Stream:
        """A finished stream of the given fragments (block timecodes in ms from the stream start), e.g.
        audio-only tracks as Amazon Connect writes them; GetMedia ends after the last."""
        stream = self._new_stream(name, tuple(tracks), live=False, media_type=media_type)
        base = (now_ms() // 1000 - 60) * 1000 if server_start_ms is None else server_start_ms
        for frames in fragments:
            first = frames[0].timecode
            # Producer clock 1 s behind the server: whole seconds, as botocore sends timestamps.
            fragment = stream.begin_fragment(self.next_fragment_number(), base + first - 1000, first)
            fragment.server_ms = base + first
            for frame in frames:
                stream.append_frame(fragment, frame)
            stream.end_fragment(fragment, self.fragment_size(stream, fragment.seq))
        stream.close()
        return stream

    def add_live_stream(self, name: str, camera: SyntheticCamera) -> Stream:
        """A stream fed in real time by `camera`, frame by frame, until the emulator closes."""
        stream = self._new_stream(name, (camera.track(),), live=True)
        feeder = LiveFeeder(stream, camera, self.next_fragment_number, self.fragment_size)
        with self._lock:
            self._feeders[name] = feeder
        feeder.start()
        return stream

    def add_replay_stream(
        self, name: str, recording: Union[str, FileMedia], *, min_fragment_ms: int = 0, passes: Optional[int] = None,
        phase_ms: int = 0,
    ) -> Stream:
        """A live stream replaying a recording (a path, or media already loaded with `load_file`, which
        many streams can share): looping, each frame released at its own timestamp, each pass with new
        fragments and fresh producer and server timestamps. `passes`: stop after that many (None: never).
        `phase_ms`: start this much later. Streams sharing a recording and started together send their
        keyframes at the same instant, which independent cameras never do; different phases spread them."""
        media = recording if isinstance(recording, FileMedia) else load_file(recording, min_fragment_ms)
        video = next(t for t in media.tracks if t.codec_id.startswith("V_"))
        media_type = "video/h265" if video.codec_id == "V_MPEGH/ISO/HEVC" else "video/h264"
        stream = self._new_stream(name, media.tracks, live=True, media_type=media_type)
        feeder = ReplayFeeder(stream, media, self.next_fragment_number, self.fragment_size, passes, phase_ms)
        with self._lock:
            self._feeders[name] = feeder
        feeder.start()
        return stream

    def remove_stream(self, name: str) -> None:
        with self._lock:
            stream = self._streams.pop(name, None)
            feeder = self._feeders.pop(name, None)
        if feeder is not None:
            feeder.join()
        if stream is not None:
            stream.deleted = True
            stream.close()

    def stream(self, name: str) -> Stream:
        with self._lock:
            found = self._streams.get(name)
        if found is None:
            raise AwsError("ResourceNotFoundException", f"stream {name} not found")
        return found

    def streams(self) -> List[Stream]:
        with self._lock:
            return list(self._streams.values())

    def writer(self, stream: Stream) -> FragmentWriter:
        return FragmentWriter(stream.tracks, known_cluster_size=True)

    def fragment_size(self, stream: Stream, seq: int) -> int:
        fragment = stream.fragment_at(seq)
        if fragment is None:
            return 0
        return len(self.writer(stream).fragment(fragment.frames, start_tags(fragment.info)))

    # -- faults and auth --
    def inject(
        self, fault: Fault, *, operation: str = "GetMedia", stream: Optional[str] = None,
        on_call: Optional[int] = None, times: Optional[int] = 1,
    ) -> FaultRule:
        """Applies `fault` to calls of `operation` (on `stream`, or any): the `on_call`-th one (1-based,
        counting every call since the emulator started), else the next `times` calls (None: all)."""
        return self.faults.add(FaultRule(fault, operation, stream, on_call, times))

    def throttle(self, stream: Optional[str] = None, *, operation: str = "GetMedia",
                 on_call: Optional[int] = None, times: Optional[int] = 1) -> FaultRule:
        return self.inject(Fault(error="ClientLimitExceededException"), operation=operation, stream=stream,
                           on_call=on_call, times=times)

    def call_count(self, operation: str, stream: str) -> int:
        return self.faults.call_count(operation, stream)
