#!/usr/bin/env bash
# Builds the libFuzzer target with clang, ASan and UBSan into fuzz/out/ (git-ignored). zlib (Debian
# zlib1g-dev) is linked so the fuzzer inflates zlib-compressed frames as the library does.
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
  -I"$root/cpp/include" -I"$root/cpp/src" -DKVS_PARSER_HAVE_ZLIB \
  "$here/stream_parser_fuzzer.cc" "$root"/cpp/src/*.cc -lz \
  -o "$out/stream_parser_fuzzer"
echo "built $out/stream_parser_fuzzer"
