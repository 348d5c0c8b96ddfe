#!/usr/bin/env bash
# Installs the package, editable, with some extras into an existing venv: what `make demo` and `make test`
# run. Two pips at once: one builds the C++ core (`--no-deps`, the install's longest step, ~25 s on 2 CPUs),
# the other downloads and unpacks the extras' dependencies meanwhile (scripts/requirements.py reads them
# from pyproject.toml), where a single `pip install -e ".[extras]"` does one after the other (the demo's
# install took 61 s that way, 47 s this way, on the same quiet 2-CPU machine).
#
#   bash scripts/install.sh VENV EXTRAS [PIP-ARGS...]     e.g.  bash scripts/install.sh .venv app,emulator
#
# PIP-ARGS go to the dependencies' pip (the full install adds -r bench/requirements.txt). Bytecode is
# compiled on first import rather than at install (--no-compile): numpy's tests alone are 15 MB of it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1 extras=$2
shift 2
python="$venv/bin/python"
requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
"$python" scripts/requirements.py "$extras" > "$requirements"

"$python" -m pip install --no-compile --progress-bar off -r "$requirements" "$@" &
dependencies=$!
status=0
"$python" -m pip install --no-compile --no-deps --editable . || status=$?
wait "$dependencies" || status=$?
exit "$status"
