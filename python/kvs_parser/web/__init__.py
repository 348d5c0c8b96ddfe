"""The HTTP side of a running fleet: /metrics, a status page, its JSON, thumbnails and health probes."""

from ._http import ServerLimits
from ._server import NoCameras, StatusServer

__all__ = ["NoCameras", "ServerLimits", "StatusServer"]
