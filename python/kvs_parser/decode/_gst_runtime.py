"""GStreamer through PyGObject, imported and initialised on first use, or one line saying what to install."""

from __future__ import annotations

import functools
from typing import Any

from ..errors import KVSError

INSTALL_HINT = ("pip install 'kvs-parser-py[gstreamer]' (PyGObject) and GStreamer 1.x with its introspection data: "
                "apt-get install gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gstreamer1.0-plugins-base "
                "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav")


class GStreamerUnavailableError(KVSError, RuntimeError):
    """The gstreamer backend cannot run here: PyGObject or GStreamer's introspection data is missing."""


@functools.lru_cache(maxsize=1)
def gst_modules() -> tuple[Any, Any, Any]:
    """(Gst, GstApp, GstVideo), GStreamer initialised; raises GStreamerUnavailableError naming what to install.

    Cached: GStreamer is initialised once per process, whichever camera asks first.
    """
    try:
        import gi
    except ImportError as error:
        raise GStreamerUnavailableError(f"the gstreamer decode backend needs PyGObject ({error.name} is not "
                                        f"installed): {INSTALL_HINT}") from None
    try:
        gi.require_version("Gst", "1.0")
        gi.require_version("GstApp", "1.0")
        gi.require_version("GstVideo", "1.0")
        from gi.repository import Gst, GstApp, GstVideo
    except (ImportError, ValueError) as error:  # ValueError: "Namespace Gst not available"
        raise GStreamerUnavailableError(f"the gstreamer decode backend needs GStreamer's introspection data "
                                        f"({error}): {INSTALL_HINT}") from None
    Gst.init(None)
    return Gst, GstApp, GstVideo


def gstreamer_available() -> str:
    """Empty if the backend can run here, else the one-line reason it cannot."""
    try:
        gst_modules()
    except GStreamerUnavailableError as error:
        return str(error)
    return ""
