"""Frame latency on a live emulated camera over 127.0.0.1, three consumers measured in the same run:

- GetMedia, ours: the native parser frame by frame (GetMediaStream), decoded by FrameDecoder into a FrameQueue;
- fragment-level peer: the aws-samples consumer library's way (bench/peers.py: ebmlite, a fragment handed
  over when the next one's header arrives, then decoded whole by PyAV);
- HLS: GetHLSStreamingSessionURL (LIVE, fMP4, producer timestamps) played by PyAV with FFmpeg's defaults.

For each frame: (a) last byte of the frame leaving the emulator -> frame callback (for HLS: the frame
appended to the emulator's stream -> demuxed packet), (b) -> decoded numpy frame in the queue, (c) the
frame's producer timestamp -> decoded frame. Main camera: 1280x720, 15 fps, 2 s fragments, ~1.4 Mbit/s of
pre-encoded content. Then (a) alone at 100 kbit/s and 4 Mbit/s (frame by frame vs fragment level).

    python bench/latency.py [--seconds 30] [--quick]

Prints p50/p95/p99/max per consumer and the peer/ours ratios; writes bench/results/latency.json and .png.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import av
import boto3

from content import ContentCamera, camera_720p15
from emulator_process import KEYS, frame_write_times
from kvs_parser.decode import DecodeOptions, FrameDecoder
from kvs_parser.emulator import Emulator, FrameAppended, Limits, SyntheticCamera
from kvs_parser.emulator._encode import EncodedGop
from kvs_parser.getmedia import GetMediaClient, StartSelector
from kvs_parser.queue import FrameQueue
from peers import FragmentAssembler, fragment_tags, producer_ms, simple_blocks
from reporting import load_line, pyplot, save_plot, write_json
from stats import Dist

GETMEDIA, PEER, HLS = "GetMedia, ours", "fragment-level peer", "HLS (PyAV)"
SOURCE_GETMEDIA, SOURCE_HLS = "KVSGetMediaFrameSource", "KVSHLSFrameSource"


@dataclass
class PaddedCamera(SyntheticCamera):
    """The synthetic camera at a set bitrate: its test pattern compresses to almost nothing, so each
    frame is padded with an H.264 filler NAL unit (type 12) up to bitrate / fps bytes."""

    def fragment(self, fragment_index: int) -> EncodedGop:
        gop = super().fragment(fragment_index)
        target = self.bitrate // 8 // self.fps
        return replace(gop, packets=tuple(_pad(packet, target) for packet in gop.packets))


def _pad(packet: bytes, target: int) -> bytes:
    size = target - len(packet) - 4  # the filler NAL after its 4-byte length
    if size < 2:
        return packet
    return packet + size.to_bytes(4, "big") + b"\x0c" + b"\xff" * (size - 2) + b"\x80"


@dataclass
class Trace:
    """What one consumer saw: per frame (by producer time in ms) the perf_counter() of each stage."""

    written: List[float] = field(default_factory=list)  # emulator writes of frame blocks, in order
    appended: Dict[int, float] = field(default_factory=dict)  # producer ms -> appended to the stream
    appended_wall: Dict[int, float] = field(default_factory=dict)  # the same, wall clock in ms
    delivered: List[Tuple[int, float]] = field(default_factory=list)  # (producer ms, frame callback), in order
    decoded: List[Tuple[int, float, float]] = field(default_factory=list)  # (producer ms, in queue, wall clock)
    start_wall_ms: float = 0.0
    bytes: int = 0


@contextlib.contextmanager
def append_times(emu: Emulator, appended: Dict[int, float], wall: Optional[Dict[int, float]] = None,
                 ) -> Iterator[None]:
    """perf_counter() (and the wall clock in ms) as the emulator's producer appends each frame, by the
    frame's producer time."""

    def on_appended(event: FrameAppended) -> None:
        appended[event.producer_ms] = time.perf_counter()
        if wall is not None:
            wall[event.producer_ms] = time.time() * 1000

    with emu.hooks.on_frame_appended(on_appended):
        yield


def drain(queue: FrameQueue) -> threading.Thread:
    """The application side: takes decoded frames off the queue until it is closed."""
    thread = threading.Thread(target=lambda: [None for _ in queue], name="bench-consumer", daemon=True)
    thread.start()
    return thread


def getmedia(emu: Emulator, name: str, seconds: float, trace: Trace, decode: bool) -> None:
    decoder = FrameDecoder(DecodeOptions(pixel_format="bgr24"))
    queue: FrameQueue = FrameQueue(max_size=30)
    consumer = drain(queue)
    by_pts: Dict[int, int] = {}

    def on_frame(frame: Any) -> None:
        trace.delivered.append((frame.producer_time_ms, time.perf_counter()))
        trace.bytes += frame.size
        if not decode:
            return
        by_pts[frame.pts_ms] = frame.producer_time_ms
        for picture in decoder.decode(frame):
            queue.put(picture)
            trace.decoded.append((by_pts.pop(picture.pts_ms), time.perf_counter(), time.time() * 1000))

    with GetMediaClient(boto3.Session(**KEYS), endpoint_url=emu.endpoint_url) as client:
        stream = client.stream(name, start=StartSelector.now(), on_frame=on_frame, on_tracks=decoder.update_tracks)
        timer = threading.Timer(seconds, stream.stop)
        timer.start()
        try:
            stream.run()
        finally:
            timer.cancel()
    queue.close()
    consumer.join()
    decoder.close()


def fragment_level(emu: Emulator, name: str, seconds: float, trace: Trace, decode: bool) -> None:
    """The aws-samples way: GetMedia's StreamingBody iterated in 1 KiB chunks, whole fragments handed over."""
    session = boto3.Session(**KEYS)
    control = session.client("kinesisvideo", endpoint_url=emu.endpoint_url)
    endpoint = control.get_data_endpoint(StreamName=name, APIName="GET_MEDIA")["DataEndpoint"]
    media = session.client("kinesis-video-media", endpoint_url=endpoint)
    body = media.get_media(StreamName=name, StartSelector={"StartSelectorType": "NOW"})["Payload"]
    queue: FrameQueue = FrameQueue(max_size=30)
    consumer = drain(queue)
    assembler = FragmentAssembler()
    deadline = time.monotonic() + seconds
    try:
        for chunk in body:
            trace.bytes += len(chunk)
            for fragment in assembler.feed(chunk):
                tags = fragment_tags(fragment.dom)
                blocks = simple_blocks(fragment.dom)
                start = producer_ms(tags) or 0
                first = blocks[0][0] if blocks else 0
                now = time.perf_counter()
                produced = [start + timecode - first for timecode, _ in blocks]
                trace.delivered += [(ms, now) for ms in produced]
                if decode:  # get_frames_as_ndarray: the fragment's bytes decoded by PyAV, every frame
                    with av.open(io.BytesIO(fragment.data), format="matroska") as container:
                        for ms, picture in zip(produced, container.decode(video=0)):
                            queue.put(picture.to_ndarray(format="bgr24"))
                            trace.decoded.append((ms, time.perf_counter(), time.time() * 1000))
            if time.monotonic() >= deadline:
                break
    finally:
        body.close()
        media.close()
        control.close()
    queue.close()
    consumer.join()


def hls(emu: Emulator, name: str, seconds: float, trace: Trace, decode: bool) -> None:
    session = boto3.Session(**KEYS)
    control = session.client("kinesisvideo", endpoint_url=emu.endpoint_url)
    endpoint = control.get_data_endpoint(StreamName=name, APIName="GET_HLS_STREAMING_SESSION_URL")["DataEndpoint"]
    archive = session.client("kinesis-video-archived-media", endpoint_url=endpoint)
    url = archive.get_hls_streaming_session_url(
        StreamName=name, PlaybackMode="LIVE", ContainerFormat="FRAGMENTED_MP4",
        HLSFragmentSelector={"FragmentSelectorType": "PRODUCER_TIMESTAMP"})["HLSStreamingSessionURL"]
    archive.close()
    control.close()
    queue: FrameQueue = FrameQueue(max_size=30)
    consumer = drain(queue)
    deadline = time.monotonic() + seconds
    with av.open(url, timeout=10) as container:
        video = container.streams.video[0]
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            produced = round(packet.pts * video.time_base * 1000)  # fMP4 media time = producer time
            trace.delivered.append((produced, time.perf_counter()))
            trace.bytes += packet.size
            for picture in packet.decode() if decode else []:
                queue.put(picture.to_ndarray(format="bgr24"))
                trace.decoded.append((round(picture.pts * video.time_base * 1000), time.perf_counter(),
                                      time.time() * 1000))
            if time.monotonic() >= deadline:
                break
    queue.close()
    consumer.join()


def frame_source(kind: str) -> Callable[[Emulator, str, float, Trace, bool], None]:
    """The package's own sources as an application uses them: read() in a loop. Their pictures carry the
    wall clock at which they left the decoder (decoded_time_ms), which is when they entered the queue."""

    def consume(emu: Emulator, name: str, seconds: float, trace: Trace, decode: bool) -> None:
        from kvs_parser.source import KVSGetMediaFrameSource, KVSHLSFrameSource

        cls = KVSGetMediaFrameSource if kind == SOURCE_GETMEDIA else KVSHLSFrameSource
        deadline = time.monotonic() + seconds
        with cls("bench", stream_name=name, session=boto3.Session(**KEYS), endpoint_url=emu.endpoint_url) as source:
            while time.monotonic() < deadline:
                try:
                    frame = source.read(timeout=0.5)
                except Exception:  # FrameTimeout while the source connects
                    continue
                if frame.producer_time_ms is not None:
                    trace.decoded.append((frame.producer_time_ms, float("nan"), frame.decoded_time_ms))
            trace.bytes = source.get_metrics().bytes

    return consume


CONSUMERS: Dict[str, Callable[[Emulator, str, float, Trace, bool], None]] = {
    GETMEDIA: getmedia, PEER: fragment_level, HLS: hls, SOURCE_GETMEDIA: frame_source(SOURCE_GETMEDIA),
    SOURCE_HLS: frame_source(SOURCE_HLS)}


@dataclass
class Row:
    stream: str
    consumer: str
    frames: int
    kbit_s: float
    a_ms: Dist  # last byte leaving the emulator (HLS: appended) -> frame callback / demuxed packet
    b_ms: Optional[Dist]  # ... -> decoded numpy frame in the queue
    c_ms: Optional[Dist]  # producer timestamp -> decoded numpy frame in the queue
    a_values: List[float] = field(default_factory=list, repr=False)
    c_values: List[float] = field(default_factory=list, repr=False)


def measure(emu: Emulator, label: str, name: str, consumer: str, seconds: float, decode: bool,
            warmup: float) -> Row:
    trace = Trace(start_wall_ms=time.time() * 1000)
    with frame_write_times(emu) as written, append_times(emu, trace.appended, trace.appended_wall):
        CONSUMERS[consumer](emu, name, seconds, trace, decode)
    trace.written = list(written)
    # The first response starts with the current fragment's backlog, decoded at once: steady state only,
    # frames produced `warmup` seconds after the consumer connected.
    fresh = trace.start_wall_ms + warmup * 1000
    if consumer == HLS:  # no GetMedia writes: the reference is the frame's arrival in the emulator
        reference = {ms: trace.appended[ms] for ms, _ in trace.delivered if ms in trace.appended}
    else:  # frames leave in order, each block in one write: the n-th write is the n-th frame delivered
        reference = {ms: wrote for (ms, _), wrote in zip(trace.delivered, trace.written)}
    a = [(got - reference[ms]) * 1000 for ms, got in trace.delivered if ms >= fresh and ms in reference]
    if consumer in (SOURCE_GETMEDIA, SOURCE_HLS):  # wall clocks: the picture leaving the decoder
        b = [wall - trace.appended_wall[ms] for ms, _, wall in trace.decoded
             if ms >= fresh and ms in trace.appended_wall]
    else:
        b = [(put - reference[ms]) * 1000 for ms, put, _ in trace.decoded if ms >= fresh and ms in reference]
    c = [wall - ms for ms, _, wall in trace.decoded if ms >= fresh]
    span = max(seconds, 1e-3)
    return Row(label, consumer, max(len(a), len(b)), trace.bytes * 8 / 1000 / span, Dist.of(a),
               Dist.of(b) if decode else None, Dist.of(c) if decode else None, a, c)


def plot(rows: List[Row]) -> Any:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    main = [r for r in rows if r.c_values]
    for row in main:
        values = sorted(row.c_values)
        axes[0].plot(values, [i / len(values) for i in range(len(values))], label=row.consumer)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("(c) producer timestamp -> decoded numpy frame, ms (log)")
    axes[0].set_ylabel("fraction of frames")
    axes[0].set_title(f"{main[0].stream if main else ''}: CDF of (c)", fontsize=10)
    axes[0].legend(fontsize=8)
    labels, p50, p99 = [], [], []
    for row in rows:
        if row.a_ms.n == 0:
            continue
        labels.append(f"{row.stream}\n{row.consumer}")
        p50.append(row.a_ms.p50)
        p99.append(row.a_ms.p99)
    ys = range(len(labels))
    axes[1].barh([y - 0.2 for y in ys], p50, height=0.4, label="p50")
    axes[1].barh([y + 0.2 for y in ys], p99, height=0.4, label="p99")
    axes[1].set_yticks(list(ys))
    axes[1].set_yticklabels(labels, fontsize=7)
    axes[1].invert_yaxis()
    axes[1].set_xscale("log")
    axes[1].set_xlabel("(a) last byte out -> frame callback, ms (log)")
    axes[1].axvline(5, color="grey", linestyle=":", label="goal p99 5 ms")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"Frame latency over 127.0.0.1 ({load_line()})", fontsize=10)
    return fig


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per consumer on the 720p camera")
    parser.add_argument("--fragment", type=float, default=2.0, help="fragment duration of the 720p camera, s")
    parser.add_argument("--quick", action="store_true", help="a few seconds each (smoke test)")
    parser.add_argument("--out", default=None, help="name of the JSON/PNG under bench/results (default latency)")
    args = parser.parse_args(argv)
    seconds = 2.5 if args.quick else args.seconds
    small_seconds = 1.2 if args.quick else 10.0
    pause = 0.3 if args.quick else 1.0
    print(load_line())
    rows: List[Row] = []
    camera: ContentCamera = camera_720p15(args.fragment)
    camera.prepare()
    main_label = f"720p15 {args.fragment:g}s frag {camera.achieved_kbit_s:.0f} kbit/s"
    cameras: List[Tuple[str, SyntheticCamera, bool, Tuple[str, ...]]] = [
        (main_label, camera, True, (GETMEDIA, SOURCE_GETMEDIA, PEER, HLS, SOURCE_HLS)),
        ("100 kbit/s 10fps", PaddedCamera(width=160, height=120, fps=10, bitrate=100_000, fragment_duration=1.0),
         False, (GETMEDIA, PEER)),
        ("4 Mbit/s 30fps", PaddedCamera(width=640, height=480, fps=30, bitrate=4_000_000, fragment_duration=1.0),
         False, (GETMEDIA, PEER)),
    ]
    with Emulator(limits=Limits(getmedia_tps_per_stream=1000)) as emu:
        for index, (label, cam, decode, consumers) in enumerate(cameras):
            emu.add_live_stream(f"cam{index}", cam)
            time.sleep(pause)
            run = seconds if decode else small_seconds
            for consumer in consumers:
                rows.append(measure(emu, label, f"cam{index}", consumer, run, decode,
                                    warmup=min(cam.fragment_duration + 1.0, run / 2)))
                print(f"  measured {label} / {consumer}: {rows[-1].frames} frames", flush=True)
                time.sleep(pause)  # the emulator notices the closed connection at its next writes: not ours
            emu.remove_stream(f"cam{index}")
    print(f"\n{'stream':<28} {'consumer':<20} {'frames':>6} {'kbit/s':>6}   "
          f"{'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}  (ms)")
    for row in rows:
        for stage, dist in (("(a) byte->callback", row.a_ms), ("(b) byte->decoded", row.b_ms),
                            ("(c) producer->decoded", row.c_ms)):
            if dist is not None and dist.n:
                print(f"{row.stream:<28} {row.consumer:<20} {row.frames:>6} {row.kbit_s:>6.0f}   {dist.row()}  {stage}")
    ours = {r.stream: r for r in rows if r.consumer == GETMEDIA}
    print("\nratios against ours (same stream, same run; x = theirs / ours):")

    def ratio(theirs: float, mine: float) -> str:
        value = theirs / mine if mine else float("nan")
        return f"x{value:.0f}" if value >= 10 else f"x{value:.1f}"

    for row in rows:
        mine = ours[row.stream]
        if row is mine:
            continue
        parts = []
        if row.a_ms.n and mine.a_ms.n:
            parts.append(f"(a) p50 {ratio(row.a_ms.p50, mine.a_ms.p50)} p99 {ratio(row.a_ms.p99, mine.a_ms.p99)}")
        if row.c_ms is not None and mine.c_ms is not None and row.c_ms.n:
            parts.append(f"(c) p50 {ratio(row.c_ms.p50, mine.c_ms.p50)} p99 {ratio(row.c_ms.p99, mine.c_ms.p99)}")
        print(f"  {row.stream} / {row.consumer}: {'; '.join(parts)}")
    by_consumer = {r.consumer: r for r in rows if r.stream == main_label}
    if SOURCE_HLS in by_consumer and SOURCE_GETMEDIA in by_consumer:
        hls_c, gm_c = by_consumer[SOURCE_HLS].c_ms, by_consumer[SOURCE_GETMEDIA].c_ms
        if hls_c and gm_c and hls_c.n and gm_c.n:
            print(f"  {SOURCE_HLS} / {SOURCE_GETMEDIA}: (c) p50 {ratio(hls_c.p50, gm_c.p50)} "
                  f"p99 {ratio(hls_c.p99, gm_c.p99)}")
    main_ours = ours[main_label]
    interval = 1000 / camera.fps
    print(f"\ngoals: (a) p99 {main_ours.a_ms.p99:.2f} ms < 5 ms: {'met' if main_ours.a_ms.p99 < 5 else 'MISSED'}; "
          f"(b) p99 {main_ours.b_ms.p99 if main_ours.b_ms else float('nan'):.2f} ms < {interval + 5:.1f} ms: "
          f"{'met' if main_ours.b_ms and main_ours.b_ms.p99 < interval + 5 else 'MISSED'}")
    for hls_name, ours_name in ((HLS, GETMEDIA), (SOURCE_HLS, SOURCE_GETMEDIA)):
        hls_c, gm_c = by_consumer.get(hls_name), by_consumer.get(ours_name)
        if hls_c and gm_c and hls_c.c_ms and gm_c.c_ms and hls_c.c_ms.n and gm_c.c_ms.n:
            times = hls_c.c_ms.p50 / gm_c.c_ms.p50
            print(f"       (c) {hls_name} / {ours_name} p50 x{times:.0f} (goal >= 10x): "
                  f"{'met' if times >= 10 else 'MISSED'}")
    name = args.out or ("latency_quick" if args.quick else "latency")
    figures = [{k: v for k, v in row.__dict__.items() if not k.endswith("_values")} for row in rows]
    print(f"\nwrote {write_json(name, figures)} and {save_plot(plot(rows), name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
