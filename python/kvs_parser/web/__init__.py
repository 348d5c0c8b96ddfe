"""The HTTP side of a running fleet: /metrics, a status page, its JSON, thumbnails and health probes."""

from ._http import ServerLimits
from ._remote import RemoteCameraHost, read_local, status_from_json
from ._server import NoCameras, StatusServer

__all__ = ["NoCameras", "RemoteCameraHost", "ServerLimits", "StatusServer", "read_local", "status_from_json"]
