#!/usr/bin/env bash
# Debian packages the test suite starts as real servers (redis-server for the checkpoint store and the Ray
# tests), GStreamer and PyGObject's build headers (the gstreamer backend), and zlib1g-dev, which the native parser is built with (zlib-compressed Matroska frames). Installs what is missing with apt-get when run as root or with sudo; otherwise says what to
# install (those tests then skip, or fail under CI).
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)  # the parser inflates zlib-compressed frames
command -v chromium >/dev/null || missing+=(chromium)  # the status page's browser test and screenshot
command -v promtool >/dev/null || missing+=(prometheus)  # promtool (alert rules) and a real Prometheus server
# The gstreamer decode backend: GStreamer 1.x with the decoders its tests use, its introspection data, and
# what PyGObject (the [gstreamer] extra, built from source by pip) compiles against.
if command -v dpkg-query >/dev/null; then
  for package in gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
      gstreamer1.0-libav gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 libgirepository1.0-dev libcairo2-dev \
      pkg-config; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then as_root=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "system packages: please install ${missing[*]} (e.g. apt-get install ${missing[*]}); the tests that need them skip" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "system packages: no apt-get here; please install ${missing[*]} with your package manager" >&2
  exit 0
fi
echo "system packages: installing ${missing[*]} (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
