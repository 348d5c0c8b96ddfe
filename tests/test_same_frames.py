"""The same camera gives the same frames in every host: a frame source read directly, cameras on threads
(`run --workers 0`) and in worker processes (`run --workers N`) read one finished emulator stream from its
start, and each picture carries the same pts_ms, producer_time_ms, media_time_ms, fragment_number and
frame_index everywhere, with latency_ms measured the same way (Ray actors: tests/test_ray_cluster.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, Iterator

import boto3
import pytest

from frame_record_hook import Recorder
from kvs_parser.camera._threads import CameraThreads
from kvs_parser.config import parse_config
from kvs_parser.emulator import Emulator, read_index
from kvs_parser.fleet import Fleet
from kvs_parser.source import KVSGetMediaFrameSource
from same_frames import FIELDS, FRAMES, add_finished_camera, by_index, camera_config, read_records, wait_for_frames

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        add_finished_camera(emulator)
        yield emulator


def read_with_a_source(emu: Emulator, log: Path) -> None:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-west-2")
    with KVSGetMediaFrameSource("cam", "finished", start_selector="EARLIEST", session=session,
                                endpoint_url=emu.endpoint_url, pixel_format="rgb24", follow=False,
                                delivery="complete") as source, log.open("a") as out:
        for frame in source:
            out.write(json.dumps({
                "host": "source", "index": read_index(frame.image), "pts_ms": frame.pts_ms,
                "producer_time_ms": frame.producer_time_ms, "media_time_ms": frame.media_time_ms,
                "fragment_number": frame.fragment_number, "frame_index": frame.frame_index,
                "latency_ms": frame.latency_ms, "hook_ms": time.time() * 1000}) + "\n")


def test_source_threads_and_workers_give_each_picture_the_same_fields(emu: Emulator, tmp_path: Path) -> None:
    config = parse_config(camera_config(emu.endpoint_url))
    logs = {host: tmp_path / f"{host}.jsonl" for host in ("source", "threads", "workers")}

    read_with_a_source(emu, logs["source"])

    with CameraThreads(config, hook=Recorder(str(logs["threads"]), "threads")) as threads:
        wait_for_frames(logs["threads"], FRAMES, 60, lambda: threads.running)

    with Fleet(config, workers=1, hook=Recorder(str(logs["workers"]), "workers"), status_interval=0.2) as fleet:
        wait_for_frames(logs["workers"], FRAMES, 90, lambda: fleet.running)

    pictures: Dict[str, Dict[int, dict]] = {host: by_index(read_records(path)) for host, path in logs.items()}
    reference = pictures["source"]
    assert sorted(reference) == list(range(FRAMES)), sorted(reference)
    assert {record["frame_index"] for record in reference.values()} == set(range(8))
    for host in ("threads", "workers"):
        assert sorted(pictures[host]) == sorted(reference), host
        for index, record in reference.items():
            other = pictures[host][index]
            assert {f: other[f] for f in FIELDS} == {f: record[f] for f in FIELDS}, (host, index)
    assert all(r["pts_ms"] == r["producer_time_ms"] != r["media_time_ms"] for r in reference.values())
