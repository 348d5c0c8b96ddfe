#!/usr/bin/env bash
# Downloads here (where a package index is reachable) the wheels that scripts/gpu_check.sh installs offline
# on a GPU machine: Python 3.12, manylinux x86_64. They go to .gpu-wheels/ (git-ignored); carry that folder
# with the GPU run (device tool: carry ".gpu-wheels").
#
# Only what the GPU machine's image lacks is fetched: it already has numpy, PyYAML, prometheus-client,
# scikit-build-core, pybind11, cmake, ninja, pytest, pytest-timeout, hypothesis, CuPy and PyTorch
# (/work/.library/device/KINDS.md). Everything that travels (the working tree plus carried folders) must fit
# in 64 MiB, so:
#   - PyNvVideoCodec's wheel is repacked without what it ships beside the library (FFmpeg's source tarball,
#     sample notebooks, benchmarks) and without duplicate copies of its two FFmpeg libraries (only the
#     SONAME files the extension loads are kept);
#   - boto3/botocore (17 MB) and pydantic are left out: the GPU tests and bench/gpu_scale.py need neither
#     (the two tests that read through a frame source skip with the reason there).
# The script fails if the total would not fit.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-.gpu-wheels}
PY=${PYTHON:-python3}
LIMIT=$((64 * 1024 * 1024))
PLATFORM=(--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
          --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

rm -rf "$DEST"
mkdir -p "$DEST"
# The same av as here, so the GPU run's CPU peer decodes with the FFmpeg the tests use.
AV_VERSION=$($PY -c 'import av; print(av.__version__)' 2>/dev/null || true)
$PY -m pip download --quiet --no-deps "${PLATFORM[@]}" -d "$DEST" "pynvvideocodec==2.2.4" "av${AV_VERSION:+==$AV_VERSION}"

$PY - "$DEST" <<'PYTHON'
"""Repack PyNvVideoCodec's wheel without what the library does not load (see the comment above)."""
import sys
import zipfile
from pathlib import Path

dest = Path(sys.argv[1])
(wheel,) = dest.glob("pynvvideocodec-*.whl")
dropped_dirs = ("samples/", "benchmarks/", ".data/")
dropped_files = {"PyNvVideoCodec/libavformat.so", "PyNvVideoCodec/libavformat.so.63.1.101",
                 "PyNvVideoCodec/libavutil.so", "PyNvVideoCodec/libavutil.so.61.1.101"}

def dropped(name: str) -> bool:
    return name in dropped_files or any(part in name for part in dropped_dirs)

slim = wheel.with_suffix(".slim")
with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(slim, "w", zipfile.ZIP_DEFLATED) as target:
    for info in source.infolist():
        if dropped(info.filename):
            continue
        data = source.read(info)
        if info.filename.endswith(".dist-info/RECORD"):
            lines = data.decode().splitlines()
            data = ("\n".join(line for line in lines if not dropped(line.split(",")[0])) + "\n").encode()
        target.writestr(info, data)
print(f"{wheel.name}: {wheel.stat().st_size / 2**20:.1f} MiB -> {slim.stat().st_size / 2**20:.1f} MiB")
slim.replace(wheel)
PYTHON

# The carried set must resolve on its own (no index), for the GPU machine's Python.
$PY -m pip install --quiet --dry-run --no-index --find-links "$DEST" --target "$(mktemp -d)" \
    --ignore-installed "${PLATFORM[@]}" pynvvideocodec av

WHEELS=$(du -cb "$DEST"/*.whl | tail -1 | cut -f1)
TREE=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 -r du -cb 2>/dev/null \
        | awk '$2 == "total" {sum += $1} END {print sum + 0}')
ls -l "$DEST"
echo "travels: working tree $((TREE / 1024)) KiB + wheels $((WHEELS / 1024)) KiB = $(((TREE + WHEELS) / 1024)) KiB" \
     "(limit $((LIMIT / 1024)) KiB)"
if ((TREE + WHEELS > LIMIT)); then
    echo "gpu_wheels: over the 64 MiB that can travel to the GPU machine" >&2
    exit 1
fi
