"""A CameraHost made of other processes' status servers (worker processes on loopback, say): the parent
serves one status page for cameras that live elsewhere. Every request bypasses proxies."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from dataclasses import fields
from typing import Any, Callable, Dict, List, Optional, Sequence
from urllib.parse import quote

from ..camera._status import CameraState, CameraStatus

log = logging.getLogger("kvs_parser.web")
_STATUS_FIELDS = tuple(field.name for field in fields(CameraStatus))


def read_local(url: str, timeout: float) -> bytes:
    """GET `url` directly, never through the environment's http_proxy/https_proxy (meant for the outside
    world, not for another process of this fleet). HTTPError for a non-2xx answer, OSError otherwise."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        body: bytes = response.read()
        return body


def status_from_json(values: Dict[str, Any]) -> CameraStatus:
    """The CameraStatus of one /api/cameras entry (extra keys ignored)."""
    known = {name: values[name] for name in _STATUS_FIELDS if name in values and name != "state"}
    return CameraStatus(state=CameraState(values["state"]), **known)


class RemoteCameraHost:
    """Cameras served by other StatusServers, at the base URLs ``base_urls()`` returns now (``http://host:port/``).

    ``camera_ids()`` (optional): every camera that should exist, in order; one that no server reports is
    shown as NOT_ANSWERING with the reason, so a dead or restarting process is visible rather than absent.
    """

    def __init__(self, base_urls: Callable[[], Sequence[str]],
                 camera_ids: Optional[Callable[[], Sequence[str]]] = None, timeout: float = 2.0) -> None:
        self._base_urls, self._camera_ids, self.timeout = base_urls, camera_ids, timeout
        self._where: Dict[str, str] = {}
        self._lock = threading.Lock()

    def statuses(self) -> List[CameraStatus]:
        found: Dict[str, CameraStatus] = {}
        where: Dict[str, str] = {}
        failures: List[str] = []
        for base in self._base_urls():
            try:
                cameras = json.loads(read_local(base + "api/cameras", self.timeout))["cameras"]
                reported = [status_from_json(camera) for camera in cameras]
            except (OSError, ValueError, KeyError, TypeError) as error:
                failures.append(f"{base}: {type(error).__name__}: {error}")
                log.warning("status of %s not available: %s: %s", base, type(error).__name__, error)
                continue
            for status in reported:
                found[status.camera_id] = status
                where[status.camera_id] = base
        with self._lock:
            self._where = where
        if self._camera_ids is None:
            return list(found.values())
        why = "its process did not answer" + (f" ({'; '.join(failures)})" if failures else "")
        return [found.get(camera_id) or CameraStatus(camera_id, CameraState.NOT_ANSWERING, error=why)
                for camera_id in self._camera_ids()]

    def latest_jpeg(self, camera_id: str, max_width: int = 320) -> Optional[bytes]:
        with self._lock:
            base = self._where.get(camera_id)
        if base is None:
            self.statuses()  # a camera started since the last look, or moved to a restarted process
            with self._lock:
                base = self._where.get(camera_id)
        if base is None:
            if self._camera_ids is not None and camera_id in self._camera_ids():
                return None  # known, but its process is not answering
            raise KeyError(camera_id)
        try:
            return read_local(f"{base}cameras/{quote(camera_id, safe='')}/latest.jpg?width={max_width}", self.timeout)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise
        except OSError:
            return None  # its process is restarting: no picture for now
