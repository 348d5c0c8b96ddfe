#!/usr/bin/env bash
# CI smoke for the hardening work:
#   1. builds the libFuzzer target (clang, ASan + UBSan), installing Debian's clang when it is missing;
#   2. replays every input in fuzz/regressions, then fuzzes for FUZZ_SECONDS (default 45) over the
#      seed corpus (built from the real captures in tests/fixtures/kvs) and the regressions;
#   3. builds the C++ unit tests with KVS_PARSER_SANITIZE=ON (ASan + UBSan) and runs them with ctest.
# Exits non-zero on any build failure, crash, leak, timeout or test failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$here/out"
seconds="${FUZZ_SECONDS:-45}"
jobs="$(nproc 2>/dev/null || echo 2)"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "smoke: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

links_fuzzer() {
  command -v clang++ >/dev/null || return 1
  local probe
  probe="$(mktemp -d)"
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
    >"$probe/probe.cc"
  clang++ -fsanitize=fuzzer,address,undefined "$probe/probe.cc" -o "$probe/probe" >/dev/null 2>&1
  local status=$?
  rm -rf "$probe"
  return $status
}

if ! links_fuzzer; then
  echo "smoke: installing clang (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq clang >/dev/null
  if ! links_fuzzer; then  # newer Debian ships the libFuzzer runtime separately
    version="$(clang++ --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)"
    as_root apt-get install -y -qq "libclang-rt-${version}-dev" >/dev/null ||
      as_root apt-get install -y -qq libclang-rt-dev >/dev/null
  fi
  links_fuzzer || { echo "smoke: clang cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi

if [ ! -f /usr/include/zlib.h ]; then  # the fuzzer inflates zlib frames as the library does
  echo "smoke: installing zlib1g-dev"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -qq zlib1g-dev >/dev/null
fi

echo "smoke: building the fuzzer"
"$here/build.sh"
fuzzer="$out/stream_parser_fuzzer"
flags=(-max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

echo "smoke: replaying fuzz/regressions"
"$fuzzer" "${flags[@]}" "$here"/regressions/*

echo "smoke: fuzzing for ${seconds}s"
python3 "$here/make_seeds.py" --out "$out/corpus"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$fuzzer" "${flags[@]}" -max_total_time="$seconds" -artifact_prefix="$out/smoke-" \
  "$work" "$out/corpus" "$here/regressions"

echo "smoke: C++ unit tests under ASan + UBSan"
# KVS_PARSER_INSTALL=OFF: the install/find_package test links a plain consumer against the installed
# static library, which under the sanitizers needs their runtime; packaging is tested by the plain build.
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$out/asan-build" "${generator[@]}" -DKVS_PARSER_SANITIZE=ON -DKVS_PARSER_BUILD_TESTS=ON \
  -DKVS_PARSER_INSTALL=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$out/asan-build" -j "$jobs"
(cd "$out/asan-build" && ctest --output-on-failure -j "$jobs")
echo "smoke: ok"
