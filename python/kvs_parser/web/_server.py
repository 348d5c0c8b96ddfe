"""StatusServer: /metrics, the status page, its JSON, thumbnails and health probes on one port."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from ..camera._host import CameraHost
from ..camera._status import CameraStatus
from ._http import HardenedHTTPServer, ServerLimits
from ._routes import StatusRoutes

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


class NoCameras:
    """The host of a server that only serves /metrics (``kvs_parser.metrics.MetricsServer``)."""

    def statuses(self) -> List[CameraStatus]:
        return []

    def latest_jpeg(self, camera_id: str, max_width: int = 320) -> Optional[bytes]:
        raise KeyError(camera_id)


class StatusServer:
    """Serves, from background threads until stop(), on ``http://bind:port``:

    ``/metrics`` (``registry``, Prometheus text or OpenMetrics), ``/`` (the status page: a tile per camera
    of ``host``, refreshing itself), ``/api/cameras`` (the same as JSON), ``/cameras/<id>/latest.jpg``
    (``?width=``, default 320; 404 for an unknown camera or before its first picture), ``/healthz`` (200
    while the process serves: the liveness probe) and ``/readyz`` (200 when every camera delivers, else
    503 with those that do not and why: the readiness probe).

    Binds 127.0.0.1 by default; ``port=0`` picks a free port, readable from ``.port``. Idle or trickling
    connections never hold it (see ``kvs_parser.web._http``), and stop() returns within a few seconds
    whatever the clients do. A context manager.
    """

    def __init__(self, registry: CollectorRegistry, host: Optional[CameraHost] = None, port: int = 0,
                 bind: str = "127.0.0.1", limits: Optional[ServerLimits] = None, name: str = "kvs-web") -> None:
        self.registry = registry
        self.host: CameraHost = host if host is not None else NoCameras()
        self.bind = bind
        self._http = HardenedHTTPServer(StatusRoutes(registry, self.host), bind, port, limits, name)

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def url(self) -> str:
        """The server's root: ``url + "metrics"`` is the scrape target."""
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"http://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._http.running

    def start(self) -> StatusServer:
        self._http.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        self._http.stop(timeout)

    def __enter__(self) -> StatusServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
