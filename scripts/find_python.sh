#!/usr/bin/env bash
# Prints the interpreter of CPython $1 (e.g. 3.11): pyenv's newest patch release (~/.pyenv/versions),
# else python3.N on PATH; exits 1, printing nothing, when the machine has neither (or it lacks venv).
set -euo pipefail
version="${1:?usage: find_python.sh 3.N}"
candidate="$(ls -d "$HOME"/.pyenv/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -V | tail -1 || true)"
if [[ -z "$candidate" ]]; then
  candidate="$(command -v "python$version" || true)"
fi
# pyenv's shims answer for versions that are not installed: take only a real interpreter of that version.
if [[ -n "$candidate" ]] &&
  [[ "$("$candidate" -c 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" == "$version" ]]; then
  echo "$candidate"
  exit 0
fi
exit 1
