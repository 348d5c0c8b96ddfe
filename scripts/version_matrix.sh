#!/usr/bin/env bash
# The supported range, proven (README "Supported versions"): beside the main suite, a representative
# subset runs in fresh venvs on
#   1. the oldest supported CPython, with the newest dependencies pip resolves;
#   2. the oldest supported CPython, with every runtime dependency pinned to its declared floor (the
#      constraints file is generated from pyproject.toml by scripts/supported_versions.py, so it cannot drift);
#   3. the newest supported CPython the machine has, with the newest dependencies, ResourceWarning an error
#      and Python's development mode on (unclosed SQLite, Redis, socket and HTTP handles fail the tests).
# The supported CPythons are read from pyproject.toml; interpreters come from pyenv (~/.pyenv/versions) or
# PATH (python3.N). A missing one is skipped with a message. Under CI=true the oldest is required (the
# floors run needs it) and so is at least one newer supported CPython; a newest declared CPython the machine
# lacks (3.14 on a machine whose pyenv stops at 3.13) is reported and the newest present one is tested in
# its place: cibuildwheel tests every declared CPython's wheels on release.
# The subset covers parse, GetMedia, decode, frame sources, `run`, checkpoints (SQLite and Redis) and the
# emulator; Ray (its own extra, a 60 MB wheel per interpreter) and the GPU tests are left out.
# --after-full-suite (what .ci/run passes): the full suite has just run on python3 with the newest
# dependencies, so run 1 is left out when python3 is the oldest supported CPython (it would repeat part of it).
# Built wheels are cached per source hash and interpreter (scripts/wheel_cache.sh, shared with
# scripts/check_wheel.sh) and pip's cache is used: a second run on the same sources skips the C++ build.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AFTER_FULL_SUITE=0
[[ "${1:-}" == "--after-full-suite" ]] && AFTER_FULL_SUITE=1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kvs-version-matrix.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
START=$SECONDS
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
step() { printf '\n== [%3ds] %s\n' $((SECONDS - START)) "$*"; }
fail() { printf 'version_matrix: FAIL: %s\n' "$*" >&2; exit 1; }

SUBSET=(
  tests/test_parser_api.py tests/test_matroska_rules.py tests/test_hostile_inputs.py  # parse
  tests/test_getmedia.py tests/test_emulator_getmedia.py                               # GetMedia
  tests/test_decode.py tests/test_decode_errors.py tests/test_decode_threads.py          # decode
  tests/test_source_reading.py tests/test_source_getmedia.py tests/test_source_hls.py    # frame sources
  tests/test_run_cli.py tests/test_config.py                                           # `run`
  tests/test_checkpoint_store.py tests/test_camera_checkpoint.py                       # checkpoints
  tests/test_emulator_api.py tests/test_emulator_archive.py                            # emulator
)
TEST_TOOLS=("pytest>=7" "pytest-timeout>=2" "hypothesis>=6")

# shellcheck source=scripts/wheel_cache.sh
source "$ROOT/scripts/wheel_cache.sh"
find_python() { bash "$ROOT/scripts/find_python.sh" "$1" || true; }

# run_subset NAME PYTHON [pip arguments...]: a fresh venv, the wheel with [all] and redis, then the subset.
RESULTS=()
run_subset() {
  local name="$1" python="$2" venv="$WORK/venv-$1" wheel
  shift 2
  step "$name: $("$python" --version) ($python)"
  wheel="$(cached_wheel "$python" "$WORK")" || fail "$name: building the wheel"
  local started=$SECONDS
  "$python" -m venv "$venv"
  # The interpreter's own pip (23.2+ in pyenv's) installs wheels well: no upgrade, ~15 s a venv saved.
  "$venv/bin/python" -m pip install --quiet --only-binary=:all: "$@" "$wheel[all]" redis "${TEST_TOOLS[@]}" \
    > "$WORK/install-$name.log" 2>&1 || { tail -40 "$WORK/install-$name.log"; fail "$name: pip install"; }
  "$venv/bin/python" -m pip list --format=freeze 2>/dev/null |
    grep -iE '^(av|boto3|botocore|numpy|pydantic|prometheus.client|pyyaml|redis)==' | tr '\n' ' '
  echo
  local summary rc=0
  # From the source tree's tests/ (fixtures included) against the installed wheel: -P keeps the tree's
  # python/ folder off sys.path, and the import check below proves where kvs_parser came from.
  (cd "$ROOT" && "$venv/bin/python" -P -c "import kvs_parser, sys; \
sys.exit(0 if kvs_parser.__file__.startswith('$venv/') else f'kvs_parser from {kvs_parser.__file__}')")
  set +e
  (cd "$ROOT" && "$venv/bin/python" -P "${PYTHON_FLAGS[@]}" -m pytest -p no:cacheprovider -q -o log_cli=false \
    "${SUBSET[@]}" 2>&1) > "$WORK/pytest-$name.log"
  rc=$?
  set -e
  summary="$(grep -E '^(=+ )?[0-9]+ (passed|failed)' "$WORK/pytest-$name.log" | tail -1 | tr -d '=' | xargs)"
  if [[ $rc -ne 0 ]]; then
    tail -60 "$WORK/pytest-$name.log"
    fail "$name: $summary"
  fi
  echo "$name: $summary"
  RESULTS+=("$name ($("$python" -c 'import platform; print(platform.python_version())')): $summary; \
$((SECONDS - started)) s with the venv")
}

step "supported CPythons (pyproject.toml) and their declarations"
python3 "$ROOT/scripts/supported_versions.py" check
read -r -a SUPPORTED <<< "$(python3 "$ROOT/scripts/supported_versions.py" pythons)"
OLDEST="${SUPPORTED[0]}"
OLDEST_PY="$(find_python "$OLDEST")"
NEWEST="" NEWEST_PY=""
for ((i = ${#SUPPORTED[@]} - 1; i > 0; i--)); do
  candidate="$(find_python "${SUPPORTED[$i]}")"
  if [[ -n "$candidate" ]]; then
    NEWEST="${SUPPORTED[$i]}" NEWEST_PY="$candidate"
    break
  fi
  echo "version_matrix: SKIP: CPython ${SUPPORTED[$i]} (supported) is not installed here (pyenv install ${SUPPORTED[$i]})"
done
if [[ -z "$OLDEST_PY" ]]; then
  [[ -n "${CI:-}" ]] && fail "the oldest supported CPython $OLDEST is not installed (pyenv install $OLDEST)"
  echo "version_matrix: SKIP: the oldest supported CPython $OLDEST is not installed: no oldest or floors run"
fi
if [[ -z "$NEWEST_PY" ]]; then
  [[ -n "${CI:-}" ]] && fail "no supported CPython newer than $OLDEST is installed"
  echo "version_matrix: SKIP: no supported CPython newer than $OLDEST is installed: no newest run"
fi
python3 "$ROOT/scripts/supported_versions.py" floors > "$WORK/floors.txt"
bash "$ROOT/scripts/system_packages.sh"  # redis-server, for the Redis checkpoint tests

PYTHON_FLAGS=()
if [[ -n "$OLDEST_PY" ]]; then
  if [[ $AFTER_FULL_SUITE == 1 && "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" == "$OLDEST" ]]; then
    echo "version_matrix: oldest-$OLDEST with the newest dependencies: covered by the full suite on $(python3 --version)"
  else
    run_subset "oldest-$OLDEST" "$OLDEST_PY"
  fi
  run_subset "floors-$OLDEST" "$OLDEST_PY" --constraint "$WORK/floors.txt"
fi
if [[ -n "$NEWEST_PY" ]]; then
  # Development mode shows what the default filters hide; the suite's filterwarnings=error then fails
  # a test on any ResourceWarning (an unclosed file, socket or sqlite3 connection).
  PYTHON_FLAGS=(-X dev -W error::ResourceWarning)
  run_subset "newest-$NEWEST" "$NEWEST_PY"
fi

step "version_matrix: all passed in $((SECONDS - START)) s"
printf '  %s\n' "${RESULTS[@]}"
