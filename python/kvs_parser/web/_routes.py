"""What the status server answers: /metrics, the status page, its JSON, thumbnails and the health probes."""

from __future__ import annotations

import gzip
import json
import math
import re
import threading
import time
from http import HTTPStatus
from typing import Any, Dict, Optional, Tuple
from urllib.parse import unquote

from .._extras import missing_extra

try:
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import choose_encoder
except ImportError as error:
    raise missing_extra("app", error) from error

from ..camera._host import CameraHost
from ..camera._status import CameraState, CameraStatus
from ._http import Request, Response
from ._page import SCRIPT_SHA256, STATUS_PAGE

JSON = "application/json"
JPEG = "image/jpeg"
# The page loads only from this server: no external scripts, styles, fonts or images.
PAGE_POLICY = (f"default-src 'none'; img-src 'self'; connect-src 'self'; script-src 'sha256-{SCRIPT_SHA256}'; "
               "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
NO_STORE = (("Cache-Control", "no-store"),)
THUMBNAIL_WIDTHS = (16, 1280)  # ?width= is clamped to this range
_LATEST_JPEG = re.compile(r"/cameras/([^/]+)/latest\.jpg")

_WHY = {
    CameraState.STARTING: "starting: no picture delivered yet",
    CameraState.PENDING: "pending: waiting for resources",
    CameraState.NOT_ANSWERING: "not answering: its process, actor or node is restarting or gone",
    CameraState.ENDED: "ended: the stream ended or the camera was stopped",
    CameraState.FAILED: "failed",
}


class StatusRoutes:
    """The handler of a StatusServer: `registry` for /metrics, `host` for everything about cameras.

    Thumbnails are encoded by the host when asked and kept ``thumbnail_ttl`` seconds, so several open pages
    cost one encode per camera per refresh, and nothing at all while nobody looks."""

    def __init__(self, registry: CollectorRegistry, host: CameraHost, thumbnail_ttl: float = 1.0) -> None:
        self.registry, self.host, self.thumbnail_ttl = registry, host, thumbnail_ttl
        self._thumbnails: Dict[Tuple[str, int], Tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        path = request.path
        if path == "/metrics":
            return self.metrics(request)
        if path in ("/", "/index.html"):
            return Response(HTTPStatus.OK, STATUS_PAGE.encode(), "text/html; charset=utf-8",
                            (*NO_STORE, ("Content-Security-Policy", PAGE_POLICY)))
        if path == "/api/cameras":
            return self.cameras()
        if path == "/healthz":
            return Response(HTTPStatus.OK, b'{"status": "ok"}\n', JSON, NO_STORE)
        if path == "/readyz":
            return self.ready()
        match = _LATEST_JPEG.fullmatch(path)
        if match is not None:
            return self.latest_jpeg(unquote(match[1]), request.query.get("width"))
        return Response(HTTPStatus.NOT_FOUND, b"not found: try /, /metrics, /api/cameras, /healthz or /readyz\n")

    def metrics(self, request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        body = encoder(self.registry)
        if "gzip" in request.headers.get("accept-encoding", "") and len(body) > 4096:
            return Response(HTTPStatus.OK, gzip.compress(body, 1), content_type, (("Content-Encoding", "gzip"),))
        return Response(HTTPStatus.OK, body, content_type)

    def cameras(self) -> Response:
        statuses = self.host.statuses()
        body = {"time_ms": time.time() * 1000, "cameras": [camera_json(status) for status in statuses]}
        return json_response(HTTPStatus.OK, body)

    def ready(self) -> Response:
        """200 when every camera delivers, else 503 naming those that do not and why (Kubernetes: take the
        pod out of service, do not restart it; /healthz is the liveness probe)."""
        try:
            statuses = self.host.statuses()
        except Exception as error:
            return json_response(HTTPStatus.SERVICE_UNAVAILABLE,
                                 {"ready": False, "error": f"{type(error).__name__}: {error}", "not_delivering": []})
        not_delivering = [{"camera_id": s.camera_id, "state": s.state.value, "why": why_not_delivering(s)}
                          for s in statuses if not s.delivering]
        status = HTTPStatus.SERVICE_UNAVAILABLE if not_delivering else HTTPStatus.OK
        return json_response(status, {"ready": not not_delivering, "cameras": len(statuses),
                                      "not_delivering": not_delivering})

    def latest_jpeg(self, camera_id: str, width: Optional[str]) -> Response:
        max_width = clamp_width(width)
        key = (camera_id, max_width)
        now = time.monotonic()
        with self._lock:
            cached = self._thumbnails.get(key)
        if cached is not None and now - cached[0] < self.thumbnail_ttl:
            return Response(HTTPStatus.OK, cached[1], JPEG, NO_STORE)
        try:
            picture = self.host.latest_jpeg(camera_id, max_width)
        except KeyError:
            return Response(HTTPStatus.NOT_FOUND, b"no such camera\n")
        if picture is None:
            return Response(HTTPStatus.NOT_FOUND, b"no picture yet\n")
        with self._lock:
            self._thumbnails = {k: v for k, v in self._thumbnails.items() if now - v[0] < self.thumbnail_ttl}
            self._thumbnails[key] = (now, picture)
        return Response(HTTPStatus.OK, picture, JPEG, NO_STORE)


def why_not_delivering(status: CameraStatus) -> str:
    if status.error:
        return status.error if status.state is CameraState.FAILED else f"{status.state.value}: {status.error}"
    return _WHY.get(status.state, status.state.value)


def camera_json(status: CameraStatus) -> Dict[str, Any]:
    values = {name: _finite(value) for name, value in status.as_dict().items()}
    values["delivering"] = status.delivering
    if not status.delivering:
        values["why"] = why_not_delivering(status)
    return values


def clamp_width(width: Optional[str]) -> int:
    try:
        value = int(width) if width is not None else 320
    except ValueError:
        value = 320
    return max(THUMBNAIL_WIDTHS[0], min(THUMBNAIL_WIDTHS[1], value))


def json_response(status: int, body: Dict[str, Any]) -> Response:
    return Response(status, (json.dumps(body, allow_nan=False) + "\n").encode(), JSON, NO_STORE)


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: an unknown figure is null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value

