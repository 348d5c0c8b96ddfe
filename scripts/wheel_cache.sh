# Sourced by scripts/version_matrix.sh and scripts/check_wheel.sh: `cached_wheel PYTHON SCRATCH` prints the
# path of this source tree's wheel for PYTHON, built once per source hash and interpreter (pip wheel, build
# directory under SCRATCH, never in the tree) and kept in $KVS_WHEEL_CACHE (default
# ~/.cache/kvs-parser-wheels), so the version matrix and the per-interpreter wheel checks share one C++ build.
# `store_wheel PYTHON WHEEL` files a wheel built otherwise (scripts/check_wheel.sh's, from the sdist) there.

# The cache folder of this source tree's wheel for PYTHON.
wheel_cache_dir() {
  local python="$1" root cache tag key
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cache="${KVS_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvs-parser-wheels}"
  tag="$("$python" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')"
  # Everything the wheel is made of (tracked or new files): a change to any of it builds anew.
  key="$(cd "$root" && git ls-files -z --cached --others --exclude-standard pyproject.toml CMakeLists.txt cmake \
    cpp/include cpp/src cpp/bindings python | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  echo "$cache/$key-$tag"
}

store_wheel() {
  local dir
  dir="$(wheel_cache_dir "$1")"
  rm -rf "$dir" && mkdir -p "$dir" && cp "$2" "$dir/"
  prune_wheels "$dir"
}

# Older sources' wheels for the interpreter of cache folder $1 are of no further use.
prune_wheels() {
  find "$(dirname "$1")" -mindepth 1 -maxdepth 1 -name "*-${1##*-}" ! -name "$(basename "$1")" -exec rm -rf {} +
}

cached_wheel() {
  local python="$1" scratch="$2" root dir tag
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  dir="$(wheel_cache_dir "$python")"
  tag="${dir##*-}"
  if ! ls "$dir"/*.whl > /dev/null 2>&1; then
    rm -rf "$dir" && mkdir -p "$dir"
    if ! "$python" -m pip wheel --quiet --no-deps --config-settings=build-dir="$scratch/build-$tag" \
      --wheel-dir "$dir" "$root" > "$scratch/wheel-$tag.log" 2>&1; then
      tail -40 "$scratch/wheel-$tag.log" >&2
      rm -rf "$dir"
      return 1
    fi
    prune_wheels "$dir"
  fi
  ls "$dir"/*.whl
}
