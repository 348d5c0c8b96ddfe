"""Whether the gstreamer backend's tests can run: they skip with the reason where PyGObject or GStreamer is
missing, except under CI (CI=true), where scripts/system_packages.sh and the [test] extra install both and
a missing piece must fail the run instead of hiding it."""

from __future__ import annotations

import os

import pytest

from kvs_parser.decode import gstreamer_available

REASON = gstreamer_available()
UNDER_CI = os.environ.get("CI", "").lower() == "true"

#: Mark for a test module: skipped outside CI when GStreamer or PyGObject is absent.
needs_gstreamer = pytest.mark.skipif(bool(REASON) and not UNDER_CI, reason=REASON or "-")
