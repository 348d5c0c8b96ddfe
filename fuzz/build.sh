#!/usr/bin/env bash
# Builds the libFuzzer target with clang, ASan and UBSan into fuzz/out/ (git-ignored).
# Usage: fuzz/build.sh            -> fuzz/out/stream_parser_fuzzer
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$here/out"
mkdir -p "$out"
CXX="${FUZZ_CXX:-clang++}"
"$CXX" -std=c++17 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Wall -Wextra -Werror \
  -I"$root/cpp/include" -I"$root/cpp/src" \
  "$here/stream_parser_fuzzer.cc" "$root"/cpp/src/*.cc \
  -o "$out/stream_parser_fuzzer"
echo "built $out/stream_parser_fuzzer"
