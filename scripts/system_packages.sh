#!/usr/bin/env bash
# Debian packages the test suite starts as real servers (redis-server for the checkpoint store and the Ray
# tests), and zlib1g-dev, which the native parser is built with (zlib-compressed Matroska frames). Installs what is missing with apt-get when run as root or with sudo; otherwise says what to
# install (those tests then skip, or fail under CI).
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)  # the parser inflates zlib-compressed frames
command -v chromium >/dev/null || missing+=(chromium)  # the status page's browser test and screenshot
command -v promtool >/dev/null || missing+=(prometheus)  # promtool (alert rules) and a real Prometheus server
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
