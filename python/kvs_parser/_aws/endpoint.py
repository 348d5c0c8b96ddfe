"""Data endpoint resolution: one GetDataEndpoint call per stream, then a cached kinesis-video-media client."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

from botocore.config import Config

from .inflight import InFlightRequests
from .pacing import RequestPacer


def stream_ref(stream_name: Optional[str], stream_arn: Optional[str]) -> Dict[str, str]:
    """The StreamName or StreamARN parameter (exactly one of them)."""
    if bool(stream_name) == bool(stream_arn):
        raise ValueError("give exactly one of stream_name and stream_arn")
    return {"StreamARN": stream_arn} if stream_arn else {"StreamName": str(stream_name)}


def client_config(connect_timeout: float, read_timeout: float) -> Config:
    # No botocore retries: the stream owns retrying (resume point, backoff, fail-fast codes).
    return Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                  retries={"total_max_attempts": 1, "mode": "standard"})


@dataclass
class EndpointResolver:
    """Clients for one account/region: the control plane, and one media client per stream's endpoint."""

    session: Any  # boto3.Session
    endpoint_url: Optional[str] = None  # control-plane override (e.g. the local emulator)
    region_name: Optional[str] = None  # None: the session's region
    config: Config = field(default_factory=lambda: client_config(5.0, 30.0))
    pacer: Optional[RequestPacer] = None  # paces GetDataEndpoint (and, in the streams, GetMedia)
    in_flight: InFlightRequests = field(default_factory=InFlightRequests, repr=False)  # for stop()
    _control: Any = field(default=None, init=False, repr=False)
    _media: Dict[Tuple[str, str], Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def control(self) -> Any:
        with self._lock:
            if self._control is None:
                self._control = self._paced(self.session.client(
                    "kinesisvideo", endpoint_url=self.endpoint_url, region_name=self.region_name, config=self.config))
            return self._control

    def media(self, ref: Dict[str, str]) -> Any:
        """The kinesis-video-media client for the stream `ref` names (GetDataEndpoint on first use only,
        or after `forget`)."""
        key = next(iter(ref.items()))
        with self._lock:
            cached = self._media.get(key)
        if cached is not None:
            return cached
        answer = self.control().get_data_endpoint(APIName="GET_MEDIA", **ref)
        client = self._paced(self.session.client("kinesis-video-media", endpoint_url=answer["DataEndpoint"],
                                                 region_name=self.region_name, config=self.config))
        with self._lock:
            existing = self._media.setdefault(key, client)
        if existing is not client:  # another thread resolved it first
            client.close()
        return existing

    def _paced(self, client: Any) -> Any:
        self.in_flight.install(client)
        return self.pacer.install(client) if self.pacer is not None else client

    def forget(self, ref: Dict[str, str]) -> None:
        """Drops a stream's cached endpoint, so the next `media` calls GetDataEndpoint again (after a
        connection failure, a 5xx, silence or InvalidEndpointException: the endpoint may have moved)."""
        with self._lock:
            client = self._media.pop(next(iter(ref.items())), None)
        if client is not None:
            client.close()

    def close(self) -> None:
        with self._lock:
            clients = [*self._media.values(), *([self._control] if self._control is not None else [])]
            self._media.clear()
            self._control = None
        for client in clients:
            client.close()

