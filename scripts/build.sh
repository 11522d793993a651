#!/usr/bin/env bash
# Configures and builds strands-c into a build directory.
#   scripts/build.sh [DIR [extra cmake args...]]   (default DIR: build)
set -euo pipefail
case "${1:-}" in
    -h|--help)
        cat <<'USAGE'
Usage: scripts/build.sh [DIR [CMAKE_ARGS...]]

Configures (RelWithDebInfo) and builds strands-c into DIR (default: build):
libstrands, build/strands-runtime, unit tests, fuzz replay drivers and the
examples. Extra arguments go to cmake, e.g.
  scripts/build.sh build-asan -DCMAKE_C_COMPILER=clang -DSTRANDS_SANITIZE=ON
  scripts/build.sh build-tsan -DCMAKE_C_COMPILER=clang -DSTRANDS_TSAN=ON
USAGE
        exit 0 ;;
esac
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > "$dir.cmake.log" 2>&1 \
    || { cat "$dir.cmake.log"; exit 1; }
cmake --build "$dir" -j"$(nproc)"
