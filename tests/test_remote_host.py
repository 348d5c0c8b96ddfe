"""RemoteCameraHost: one status page for cameras that live in other processes' status servers (as the
fleet's workers), reached directly even when http_proxy points at a proxy that does not answer."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Iterator, List

import pytest
from prometheus_client import CollectorRegistry

from kvs_parser.emulator import Emulator, SyntheticCamera
from kvs_parser.metrics import KVSMetrics
from kvs_parser.source import KVSGetMediaFrameSource
from kvs_parser.web import RemoteCameraHost, StatusServer, read_local
from status_host import SourcesHost

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def dead_proxy(monkeypatch: pytest.MonkeyPatch) -> str:
    """http_proxy at a port nothing listens on; no_proxy covers only "localhost" (the emulator, as a
    machine's no_proxy would cover its KVS endpoint), not the status servers on 127.0.0.1."""
    proxy = "http://127.0.0.1:9"
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, proxy)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "localhost")
    # Credentials given: boto3 would otherwise ask the instance metadata service, through the proxy.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    return proxy


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(host="localhost") as emu:
        for name in ("door", "yard"):
            emu.add_live_stream(name, SyntheticCamera(width=160, height=96, fps=10, fragment_duration=0.5))
        yield emu


def worker(emu: Emulator, camera_id: str, stream: str) -> SourcesHost:
    source = KVSGetMediaFrameSource(camera_id, stream_name=stream, endpoint_url=emu.endpoint_url,
                                    metrics=KVSMetrics(CollectorRegistry()), read_timeout=3.0)
    return SourcesHost([source])


def test_read_local_bypasses_the_proxy(dead_proxy: str) -> None:
    with StatusServer(CollectorRegistry()) as server:
        # What the fleet did: urlopen's handlers read http_proxy (a fresh opener: urlopen keeps the first one).
        with pytest.raises(urllib.error.URLError):
            urllib.request.build_opener().open(server.url + "healthz", timeout=5)
        assert json.loads(read_local(server.url + "healthz", 5)) == {"status": "ok"}


def test_one_page_for_cameras_in_other_processes(emulator: Emulator, dead_proxy: str) -> None:
    door, yard = worker(emulator, "front-door", "door"), worker(emulator, "yard", "yard")
    with door, yard, StatusServer(CollectorRegistry(), door) as door_server, \
            StatusServer(CollectorRegistry(), yard) as yard_server:
        bases: List[str] = [door_server.url, yard_server.url]
        host = RemoteCameraHost(lambda: bases, camera_ids=lambda: ["front-door", "yard"])
        with StatusServer(CollectorRegistry(), host) as parent:
            deadline = time.monotonic() + 30
            while {s.state.value for s in host.statuses()} != {"running"}:
                assert time.monotonic() < deadline, host.statuses()
                time.sleep(0.2)
            assert [s.camera_id for s in host.statuses()] == ["front-door", "yard"]
            assert host.statuses()[0].frames_delivered > 0 and host.statuses()[0].where == "test process"
            picture = read_local(parent.url + "cameras/yard/latest.jpg?width=80", 5)
            assert picture[:2] == b"\xff\xd8"
            with pytest.raises(KeyError):
                host.latest_jpeg("nobody")
            assert json.loads(read_local(parent.url + "readyz", 5))["ready"] is True

            yard_server.stop()  # its process gone: the camera is shown as not answering, and why
            statuses = host.statuses()
            assert statuses[1].state.value == "not_answering" and "did not answer" in (statuses[1].error or "")
            assert host.latest_jpeg("yard") is None
            with pytest.raises(urllib.error.HTTPError) as answer:
                read_local(parent.url + "readyz", 5)
            assert answer.value.code == 503
            body = json.loads(answer.value.read())
            assert [c["camera_id"] for c in body["not_delivering"]] == ["yard"]
