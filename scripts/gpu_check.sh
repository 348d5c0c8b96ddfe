#!/usr/bin/env bash
# The GPU check, in one call of under 8 minutes on a GPU machine without a package index:
#   1. install the carried wheels offline (.gpu-wheels/, made beforehand by scripts/gpu_wheels.sh where an
#      index is reachable: PyNvVideoCodec and PyAV, the rest is on the machine's image),
#   2. build and install kvs-parser-py (C++ extension; scikit-build-core, pybind11, CMake from the machine),
#   3. run the GPU tests (tests/test_nvdec_gpu.py) with the nvdec backend's CPU-side tests and the batch tests,
#   4. run bench/gpu_scale.py (time-boxed by KVS_GPU_BENCH_SECONDS, default 270).
# Results: bench/results/gpu_scale.json; when OUT is set also $OUT/gpu_scale.json, $OUT/gpu_tests.log and
# $OUT/gpu_check.log. Exit status: 0 only if the tests and the benchmark both succeeded.
#
# With the device tool: run(command="bash scripts/gpu_check.sh", carry=[".gpu-wheels"], timeout_s=540).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WHEELS=${KVS_GPU_WHEELS:-.gpu-wheels}
LOGS=${OUT:-bench/results/tmp}
BENCH_SECONDS=${KVS_GPU_BENCH_SECONDS:-270}
mkdir -p "$LOGS"
exec > >(tee "$LOGS/gpu_check.log") 2>&1
export PYTHONUNBUFFERED=1 CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
step() { echo "== gpu_check [$SECONDS s] $*"; }
fail() { echo "gpu_check: FAILED: $*"; exit 1; }

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || fail "no NVIDIA GPU (nvidia-smi)"
$PY --version && nproc && uptime
compgen -G "$WHEELS/*.whl" >/dev/null || fail "no wheels in $WHEELS: run scripts/gpu_wheels.sh where a package \
index is reachable and carry $WHEELS"

step "install the carried wheels (offline)"
$PY -m pip install --quiet --no-index --find-links "$WHEELS" pynvvideocodec av \
    || fail "installing from $WHEELS (see above)"
$PY -c "import scikit_build_core, pybind11" || fail "scikit-build-core and pybind11 must be on the machine \
(or carried: add them to scripts/gpu_wheels.sh)"

step "build and install kvs-parser-py"
$PY -m pip install --quiet --no-index --no-deps --no-build-isolation . || fail "building kvs-parser-py"
(cd /tmp && $PY -c "
import av, kvs_parser, PyNvVideoCodec
from kvs_parser.decode import BackendRegistry
print('kvs_parser', kvs_parser.__version__, '| PyNvVideoCodec', PyNvVideoCodec.__version__, '| av', av.__version__,
      '| backends', BackendRegistry().names())
") || fail "importing the installed project"

step "GPU tests"
# -W default: a third-party DeprecationWarning at import must not turn into a test error on this machine.
$PY -m pytest tests/test_nvdec_gpu.py tests/test_nvdec_cpu.py tests/test_batch.py -p no:cacheprovider -q -rs \
    -rP -W default --timeout 300 2>&1 | tee "$LOGS/gpu_tests.log"
TESTS=${PIPESTATUS[0]}
grep -q "passed" "$LOGS/gpu_tests.log" && ! grep -q "SKIPPED.*test_nvdec_gpu" "$LOGS/gpu_tests.log" \
    || { echo "gpu_check: the GPU tests did not run (skipped above, with the reason)"; TESTS=1; }

step "bench/gpu_scale.py (budget ${BENCH_SECONDS} s)"
timeout $((BENCH_SECONDS + 90)) $PY bench/gpu_scale.py --budget-seconds "$BENCH_SECONDS"
BENCH=$?

step "done: tests exit $TESTS, benchmark exit $BENCH"
[ -f bench/results/gpu_scale.json ] && echo "results: bench/results/gpu_scale.json"
[ "$TESTS" = 0 ] && [ "$BENCH" = 0 ]
