#!/usr/bin/env bash
# Creates the venv if it is missing and installs the package into it, editable, with some extras: what
# `make demo` and `make test` run.
#
#   bash scripts/install.sh [--dependencies-only] PYTHON VENV EXTRAS [PIP-ARGS...]
#       e.g. bash scripts/install.sh python3 .venv app,emulator
#
# Two pips at once: one builds the C++ core (`--no-deps`, the install's longest step, ~25 s on 2 CPUs),
# the other downloads and unpacks the extras' dependencies meanwhile (scripts/requirements.py reads them
# from pyproject.toml); a single `pip install -e ".[extras]"` does one after the other. PIP-ARGS go to the
# dependencies' pip (the full install adds -r bench/requirements.txt). The demo's install compiles no
# bytecode (--no-compile: numpy's tests alone are 15 MB of it); Python writes it on first import.
#
# --dependencies-only: the extras' requirements alone, the package being installed already (the full
# install after the demo's: the C++ core is not built again); then everything in the venv is
# compiled to bytecode, since the test suite starts hundreds of Python processes (workers, Ray actors,
# commands) and where PYTHONDONTWRITEBYTECODE is set, as on CI, each would compile its imports again
# (without it the suite took 885 s instead of 671 s, and a Ray node-loss test missed its bound).
set -euo pipefail
cd "$(dirname "$0")/.."
build=true
if [[ ${1:-} == --dependencies-only ]]; then
  build=false
  shift
fi
base_python=$1 venv=$2 extras=$3
shift 3
python="$venv/bin/python"

pip_at_least() {  # pip_at_least PYTHON MAJOR MINOR: that interpreter has a pip of at least that version
  "$1" -c "import pip, sys; sys.exit(tuple(map(int, pip.__version__.split('.')[:2])) < ($2, $3))" 2>/dev/null
}

if [[ ! -x "$python" ]]; then
  # A venv with pip alone, installed by the base Python's pip when it can target another interpreter
  # (--python, pip 22.3): 3 s and 8 MB, where venv's own bootstrap (ensurepip) takes 7 s and 27 MB
  # (CPython 3.11 adds setuptools, which nothing here needs). Without such a pip, ensurepip.
  if pip_at_least "$base_python" 22 3; then
    "$base_python" -m venv --without-pip "$venv"
    "$base_python" -m pip --python "$python" install --quiet --no-compile pip
  else
    "$base_python" -m venv "$venv"
  fi
fi
# Editable installs of a pyproject.toml project need pip 21.3 (PEP 660).
pip_at_least "$python" 21 3 || "$python" -m pip install --quiet --upgrade pip

requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
"$python" scripts/requirements.py "$extras" > "$requirements"
if ! $build; then
  "$python" -m pip install -r "$requirements" "$@"
  site_packages=$("$python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  # Quiet, and its status ignored like pip's own compile step: a few packages ship files that are not
  # Python 3 (test data), which changes nothing at run time.
  "$python" -m compileall -q -j 0 "$site_packages" > /dev/null || true
  exit
fi
"$python" -m pip install --no-compile --progress-bar off -r "$requirements" "$@" &
dependencies=$!
status=0
"$python" -m pip install --no-compile --no-deps --editable . || status=$?
wait "$dependencies" || status=$?
exit "$status"
